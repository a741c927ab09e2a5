/** Shared measuring helpers for bench/: percentiles, peak RSS sampling, formatting. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CORPUS_DIR = process.env.SPAMDESK_CORPUS_DIR ?? path.resolve(REPO_ROOT, '../shared/corpus');

export function corpusAvailable(): boolean {
  return fs.existsSync(CORPUS_DIR);
}

/** p in [0,100] of sorted-ascending values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Samples this process's RSS every 50 ms; `stop()` returns the peak in bytes. */
export function sampleRss(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const t = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  t.unref();
  return {
    stop() {
      clearInterval(t);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function row(cols: (string | number)[], widths: number[]): string {
  return cols.map((c, i) => String(c).padEnd(widths[i] ?? 12)).join(' ');
}

const PHASE_MARK = 'SPAMDESK_BENCH_RESULT ';

/**
 * Runs `file` as a separate Node process (through tsx) with `args` and returns the JSON result it
 * prints with {@link printPhaseResult}. A phase in its own process has its own peak RSS.
 */
export async function runPhase<T>(file: string, args: string[], env: Record<string, string> = {}): Promise<T> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, SPAMDESK_BENCH_PHASE: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(PHASE_MARK));
      if (code !== 0 || !line) {
        reject(new Error(`phase ${path.basename(file)} ${args.join(' ')} exited ${code}:\n${out.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(line.slice(PHASE_MARK.length)) as T);
    });
  });
}

/** True inside a process started by {@link runPhase} for this file. */
export function isPhaseProcess(file: string): boolean {
  return (
    process.env.SPAMDESK_BENCH_PHASE === '1' &&
    !!process.argv[1] &&
    path.resolve(process.argv[1]) === path.resolve(file)
  );
}

export function printPhaseResult(result: unknown): void {
  process.stdout.write(`${PHASE_MARK}${JSON.stringify(result)}\n`);
}

/** Zipf(s≈1.1) sampler over n ranks by inverse CDF on a precomputed table. */
export function zipf(n: number, rand: () => number, s = 1.1): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** s;
  for (let i = 0; i < n; i++) cdf[i] /= sum;
  return () => {
    const u = rand();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** One value of a weighted list (weights summing to 1). */
export function pick<T>(rand: () => number, weighted: [T, number][]): T {
  let u = rand();
  for (const [v, w] of weighted) {
    u -= w;
    if (u <= 0) return v;
  }
  return weighted[weighted.length - 1][0];
}

/** Installs the Debian packages of the commands missing here (`apt-get`, as root); true when all are there. */
export function ensurePackages(cmds: Record<string, string>): boolean {
  const missing = Object.entries(cmds).filter(([cmd]) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0);
  if (missing.length === 0) return true;
  const pkgs = [...new Set(missing.map(([, p]) => p))];
  process.stdout.write(`installing from Debian: ${pkgs.join(' ')}\n`);
  const r = spawnSync(
    'sh',
    ['-c', `apt-get install -y ${pkgs.join(' ')} || (apt-get update && apt-get install -y ${pkgs.join(' ')})`],
    { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } },
  );
  return r.status === 0;
}
