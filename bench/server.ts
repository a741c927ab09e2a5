/**
 * `spamdesk serve` as a child process for the benches that measure a real server (http, attack,
 * burst): started as a user starts it (`bin/spamdesk.js`: the compiled dist/, or the TypeScript
 * through tsx when dist/ is missing or older than src/, which the bench then says), ready once it
 * logs "spamdesk ready". Worker threads started from TypeScript compile their modules on start,
 * which a bench of the sources would count as the server's work.
 * `SPAMDESK_BENCH_SERVER_ROOT=/path/to/other/checkout` runs that checkout's server under this
 * bench (before/after comparisons with the same measurement; build it first).
 * `SPAMDESK_BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` profiles the server (and its
 * background child, which inherits the Node options); `SPAMDESK_BENCH_SERVER_ARGS="--background-process false"`
 * adds serve arguments (here: everything in one process, as before the child existed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './lib.ts';
import { CHILD_MALLOC_ARENA_MAX, CHILD_MALLOC_MMAP_THRESHOLD } from '../src/cli/background-child.ts';

/** The checkout whose server the benches start. */
export const SERVER_ROOT = path.resolve(process.env.SPAMDESK_BENCH_SERVER_ROOT ?? REPO_ROOT);

export interface BenchServer {
  proc: ChildProcess;
  /** Which code runs: `dist` (compiled) or `tsx` (the TypeScript, dist/ missing or stale). */
  code: 'dist' | 'tsx';
  /** The HTTP base URL the server printed. */
  url: string;
  /** The last 16 KB the server wrote to stderr (its start-up banner and warnings). */
  stderr(): string;
}

/** Servers this bench process started and that have not exited yet. */
const live = new Set<ChildProcess>();
let signalsHooked = false;

/**
 * A bench stopped by a signal (Ctrl-C, `kill`) stops the servers it started instead of leaving them
 * running on the machine (seen: two `serve` trees left polling PostgreSQL after a killed scale bench).
 */
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(sig, () => {
      for (const p of live) p.kill('SIGTERM');
      process.stderr.write(`bench: ${sig}: stopped ${live.size} server(s) it had started\n`);
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  process.once('exit', () => {
    for (const p of live) p.kill('SIGTERM');
  });
}

type ConfigModule = typeof import('../src/core/config.ts');
type DialectModule = typeof import('../src/db/dialect.ts');
type MigrateModule = typeof import('../src/db/migrate.ts');
type TokensModule = typeof import('../src/db/tokens.ts');

/**
 * Migrates a fresh database (SQLite under `dataDir`, or the PostgreSQL database at `databaseUrl`) and
 * creates `tokens`, returning their secrets in order.
 * For another checkout (`SPAMDESK_BENCH_SERVER_ROOT`) its own compiled migrations and token code do it:
 * a server refuses a database that holds a migration it does not know.
 */
export async function prepareServerDatabase(
  dataDir: string,
  tokens: { role: 'reporter' | 'analyst' | 'partner'; name: string }[],
  databaseUrl?: string,
): Promise<string[]> {
  const load = async <T>(dist: string, src: string): Promise<T> =>
    (SERVER_ROOT === REPO_ROOT
      ? await import(src)
      : await import(pathToFileURL(path.join(SERVER_ROOT, 'dist', dist)).href)) as T;
  const { testConfig } = await load<ConfigModule>('core/config.js', '../src/core/config.ts');
  const { openDatabase } = await load<DialectModule>('db/dialect.js', '../src/db/dialect.ts');
  const { migrateToLatest } = await load<MigrateModule>('db/migrate.js', '../src/db/migrate.ts');
  const { createToken } = await load<TokensModule>('db/tokens.js', '../src/db/tokens.ts');
  const db = openDatabase(testConfig({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) }).database);
  try {
    await migrateToLatest(db);
    const secrets: string[] = [];
    for (const t of tokens) secrets.push((await createToken(db, t)).secret);
    return secrets;
  } finally {
    await db.destroy();
  }
}

/** Starts the server with `args` after `serve` and resolves once it is ready. */
/**
 * Which code a bench server runs, in words: a stale dist/ (a source file edited after the last
 * build) makes `bin/spamdesk.js` run the TypeScript through tsx, whose start-up compiles every
 * module in every thread — figures of such a run are not comparable with compiled ones.
 */
export function codeLabel(server: BenchServer): string {
  return server.code === 'dist'
    ? 'compiled dist/'
    : 'TypeScript through tsx: dist/ missing or stale, run npm run build';
}

export async function startBenchServer(args: string[]): Promise<BenchServer> {
  hookSignals();
  const proc = spawn(
    process.execPath,
    [
      ...(process.env.SPAMDESK_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean),
      path.join(SERVER_ROOT, 'bin/spamdesk.js'),
      'serve',
      ...args,
      ...(process.env.SPAMDESK_BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean),
    ],
    {
      cwd: SERVER_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // glibc's settings as `npm start` gives them (package.json), unless set: without them the web
      // process kept ~90 MB more after the attack bench (2026-12-03, bench/RESULTS.md).
      env: {
        ...process.env,
        MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX || CHILD_MALLOC_ARENA_MAX,
        MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ || CHILD_MALLOC_MMAP_THRESHOLD,
      },
    },
  );
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-16_000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"spamdesk ready"'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${err}`)));
  });
  const code = err.includes('running the TypeScript through tsx') ? 'tsx' : 'dist';
  return { proc, url, code, stderr: () => err };
}

/** A `/proc/PID/status` size field (`VmRSS`, `VmHWM`) in bytes; NaN once the process is gone. */
export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** `pid` and every process below it (its children, theirs…), from `/proc/<pid>/stat`. */
export function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: fields resume after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(name), ppid);
    } catch {
      // Gone meanwhile.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++)
    for (const [child, parent] of parentOf) if (parent === tree[i]) tree.push(child);
  return tree;
}

/** A size field summed over `pid` and every process below it (NaN once `pid` is gone). */
export function treeStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const own = procStatusBytes(pid, field);
  if (Number.isNaN(own)) return own;
  return processTree(pid)
    .slice(1)
    .reduce((n, p) => n + (procStatusBytes(p, field) || 0), own);
}

/** User + system CPU seconds of one process so far, all its threads (`/proc/<pid>/stat`, ticks of 1/100 s). */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds of `pid` and of every process below it now (the background child, the analysis
 * threads inside it), per process so that a difference can be taken per pid even when a child
 * restarts between two readings.
 */
export function treeCpuSeconds(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of processTree(pid)) {
    const s = cpuSecondsOf(p);
    if (!Number.isNaN(s)) out.set(p, s);
  }
  return out;
}

/** CPU seconds spent between two {@link treeCpuSeconds} readings (a process new since `before` counts whole). */
export function cpuSecondsBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [p, s] of after) total += s - (before.get(p) ?? 0);
  return total;
}
