/**
 * A small lab of machines for the multi-host test: one network namespace per node (`ip netns`), each
 * joined by a veth pair to a bridge in the root namespace, which plays the network between them. The
 * root namespace holds what is outside the nodes: the test's clients, the SMTP relay (sink), and a
 * TCP forwarder (`socat`) on the bridge address to the one PostgreSQL server, which listens on
 * 127.0.0.1 only — so the server's configuration is left alone. Everything is removed in `close()`.
 *
 * Needs root, iproute2 with netns support and socat; `labUnavailable()` says which is missing.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { hasCommand } from '../core/test-env.ts';

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves to null when a lab can be built here, otherwise to what is missing. */
export function labUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces (Linux only)';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'root (ip netns needs it)';
  if (!hasCommand('ip')) return 'iproute2 `ip`';
  if (!hasCommand('socat')) return '`socat` (apt-get install socat)';
  const probe = `sdprobe${randomBytes(3).toString('hex')}`;
  try {
    ip(['netns', 'add', probe]);
    ip(['netns', 'del', probe]);
    ip(['link', 'add', probe.slice(0, 15), 'type', 'bridge']);
    ip(['link', 'del', probe.slice(0, 15)]);
  } catch (e) {
    return `network namespaces and bridges (${(e as Error).message.split('\n')[0]})`;
  }
  return null;
}

export interface LabNode {
  /** Namespace name. */
  ns: string;
  /** The node's address on the lab network. */
  ip: string;
}

export interface Lab {
  /** The root namespace's address on the lab network (clients, sink and forwarders are there). */
  hostIp: string;
  nodes: LabNode[];
  /** Forwards `hostIp:port` (a free port) to `target` in the root namespace; returns the port. */
  forward(target: { host: string; port: number }): Promise<number>;
  /** Starts a command inside a node's namespace (not detached: `killNode` ends it). */
  spawnIn(node: LabNode, cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv }): ChildProcess;
  /** SIGKILLs every process in the node's namespace (the machine dies) and waits until none is left. */
  killNode(node: LabNode): Promise<number>;
  /** Kills what is left, removes the namespaces, the bridge and the forwarders. */
  close(): Promise<void>;
}

function pidsIn(ns: string): number[] {
  try {
    return ip(['netns', 'pids', ns])
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

function freeSubnet(): number {
  const used = ip(['-4', '-o', 'addr', 'show']);
  for (let i = 0; i < 50; i++) {
    const s = 16 + Math.floor(Math.random() * 230);
    if (!used.includes(`10.231.${s}.`)) return s;
  }
  throw new Error('no free 10.231.x.0/24 subnet for the lab');
}

async function listening(host: string, port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${host}:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Builds a lab of `n` nodes. */
export async function createLab(n: number): Promise<Lab> {
  const tag = randomBytes(2).toString('hex');
  const subnet = freeSubnet();
  const bridge = `sdbr${tag}`;
  const hostIp = `10.231.${subnet}.1`;
  const nodes: LabNode[] = [];
  const forwarders: ChildProcess[] = [];
  const cleanups: (() => void)[] = [];
  const quiet = (f: () => void) => {
    try {
      f();
    } catch {
      // Already gone.
    }
  };
  try {
    ip(['link', 'add', bridge, 'type', 'bridge']);
    cleanups.push(() => quiet(() => ip(['link', 'del', bridge])));
    ip(['addr', 'add', `${hostIp}/24`, 'dev', bridge]);
    ip(['link', 'set', bridge, 'up']);
    for (let i = 1; i <= n; i++) {
      const ns = `sd${tag}-n${i}`;
      const outer = `sd${tag}a${i}`;
      const inner = `sd${tag}b${i}`;
      ip(['netns', 'add', ns]);
      cleanups.push(() => quiet(() => ip(['netns', 'del', ns])));
      ip(['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
      cleanups.push(() => quiet(() => ip(['link', 'del', outer])));
      ip(['link', 'set', inner, 'netns', ns]);
      ip(['link', 'set', outer, 'master', bridge, 'up']);
      const addr = `10.231.${subnet}.${10 + i}`;
      ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', inner]);
      ip(['-n', ns, 'link', 'set', inner, 'up']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      nodes.push({ ns, ip: addr });
    }
  } catch (e) {
    for (const c of cleanups.reverse()) c();
    throw e;
  }

  async function killNode(node: LabNode): Promise<number> {
    let killed = 0;
    for (let round = 0; round < 100; round++) {
      const pids = pidsIn(node.ns);
      if (pids.length === 0) return killed;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
          killed++;
        } catch {
          // Exited meanwhile.
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`processes left in ${node.ns}: ${pidsIn(node.ns).join(' ')}`);
  }

  return {
    hostIp,
    nodes,
    async forward(target) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const port = 20_000 + Math.floor(Math.random() * 30_000);
        const p = spawn(
          'socat',
          [`TCP-LISTEN:${port},bind=${hostIp},reuseaddr,fork`, `TCP:${target.host}:${target.port}`],
          { stdio: 'ignore' },
        );
        forwarders.push(p);
        const exited = new Promise<boolean>((resolve) => p.once('exit', () => resolve(false)));
        const up = listening(hostIp, port, 5000).then(() => true);
        if (await Promise.race([up, exited])) return port;
      }
      throw new Error('socat could not listen on the lab network');
    },
    spawnIn(node, cmd, args, opts) {
      return spawn('ip', ['netns', 'exec', node.ns, cmd, ...args], {
        cwd: opts.cwd,
        env: opts.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    },
    killNode,
    async close() {
      for (const node of nodes) await killNode(node).catch(() => undefined);
      for (const p of forwarders) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      for (const c of cleanups.reverse()) c();
    },
  };
}
