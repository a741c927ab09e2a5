/**
 * Reference classifiers run on the same messages in `npm run eval`: bogofilter (trained on the
 * same training split, its own word-database in a temporary directory) and SpamAssassin's local
 * tests through `spamd --local` + `spamc`. Both come from Debian; they are installed with
 * apt-get when missing (the eval runs as root in CI and on these machines).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { hasCommand } from '../../src/core/test-env.ts';

/** Installs Debian packages providing `cmd` when it is missing; true when available afterwards. */
export function ensureCommand(cmd: string, pkg: string, log: (s: string) => void): boolean {
  if (hasCommand(cmd)) return true;
  log(`${cmd} missing: apt-get install -y ${pkg}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'ignore', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    r = spawnSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'ignore', env });
  }
  return hasCommand(cmd);
}

export type PeerVerdict = 'spam' | 'ham' | 'unsure';

/** Writes messages to files (bogofilter and spamc read files); returns their paths by key. */
export function writeMessages(dir: string, items: readonly { key: string; raw: Buffer }[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const it of items) {
    const p = path.join(dir, `${it.key}.eml`);
    if (!fs.existsSync(p)) fs.writeFileSync(p, it.raw);
    out.set(it.key, p);
  }
  return out;
}

/** Trains bogofilter on `spam` and `ham` files and classifies `test` files. */
export function runBogofilter(
  spam: readonly string[],
  ham: readonly string[],
  test: readonly string[],
): Map<string, { verdict: PeerVerdict; score: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-bogo-'));
  try {
    const opts = { maxBuffer: 256 * 1024 * 1024 };
    execFileSync('bogofilter', ['-d', dir, '-s', '-b'], { ...opts, input: spam.join('\n') });
    execFileSync('bogofilter', ['-d', dir, '-n', '-b'], { ...opts, input: ham.join('\n') });
    const res = spawnSync('bogofilter', ['-d', dir, '-T', '-b'], { ...opts, input: test.join('\n') });
    const out = new Map<string, { verdict: PeerVerdict; score: number }>();
    for (const line of res.stdout.toString('utf8').split('\n')) {
      const m = /^(.*) ([SHU]) ([\d.e-]+)$/.exec(line);
      if (!m) continue;
      out.set(m[1], { verdict: m[2] === 'S' ? 'spam' : m[2] === 'H' ? 'ham' : 'unsure', score: Number(m[3]) });
    }
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

function spamc(port: number, file: string): Promise<{ verdict: PeerVerdict; score: number }> {
  return new Promise((resolve) => {
    const child = spawn('spamc', ['-d', '127.0.0.1', '-p', String(port), '-c', '-t', '60'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.on('close', () => {
      const m = /^(-?[\d.]+)\/([\d.]+)/.exec(out.trim());
      if (!m) return resolve({ verdict: 'unsure', score: NaN });
      resolve({ verdict: Number(m[1]) >= Number(m[2]) ? 'spam' : 'ham', score: Number(m[1]) });
    });
    fs.createReadStream(file)
      .pipe(child.stdin)
      .on('error', () => undefined);
  });
}

/**
 * SpamAssassin with local tests only (no network checks), `concurrency` messages at a time, until
 * every file is scored or `budgetMs` has passed (then the ones scored so far are returned).
 */
export async function runSpamAssassin(
  files: readonly string[],
  concurrency = 2,
  budgetMs = Infinity,
): Promise<Map<string, { verdict: PeerVerdict; score: number }>> {
  const port = await freePort();
  const pidDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-spamd-'));
  let child: ChildProcess | null = null;
  try {
    child = spawn(
      'spamd',
      [
        '--local',
        '--listen',
        `127.0.0.1:${port}`,
        '--max-children',
        String(concurrency),
        '--min-children',
        String(concurrency),
        '--syslog',
        'stderr',
        '--pidfile',
        path.join(pidDir, 'spamd.pid'),
      ],
      {
        stdio: 'ignore',
      },
    );
    if (!(await waitForPort(port, 60_000))) throw new Error('spamd did not start listening within 60 s');
    const deadline = Date.now() + budgetMs;
    const out = new Map<string, { verdict: PeerVerdict; score: number }>();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < files.length && Date.now() < deadline) {
          const f = files[next++];
          out.set(f, await spamc(port, f));
        }
      }),
    );
    return out;
  } finally {
    child?.kill('SIGTERM');
    fs.rmSync(pidDir, { recursive: true, force: true });
  }
}
