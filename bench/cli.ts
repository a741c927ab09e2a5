/**
 * How fast `spamdesk` answers: `--help` and three real command starts (`check-config`, `stats` on a
 * migrated SQLite database, `serve` up to its ready line), each run as the installed command does
 * (`bin/spamdesk.js` over the compiled `dist/`, built first) and through tsx (the TypeScript
 * compiled at every run, as before the build). Several runs each; percentiles of wall time from
 * spawn to exit (or to the ready line).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import type { Bench } from './registry.ts';
import { REPO_ROOT, percentile, row } from './lib.ts';

const RUNS = Number(process.env.SPAMDESK_BENCH_CLI_RUNS ?? 7);

const MODES = {
  compiled: [path.join(REPO_ROOT, 'bin/spamdesk.js')],
  tsx: ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts')],
} as const;

/** Milliseconds from spawn to exit, or to the first stdout line containing `until`. */
function timeRun(nodeArgs: readonly string[], args: string[], until?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const proc = spawn(process.execPath, [...nodeArgs, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SPAMDESK_LOG_LEVEL: 'warn' },
    });
    let out = '';
    let err = '';
    let done = false;
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (until !== undefined && !done && out.includes(until)) {
        done = true;
        resolve(performance.now() - t0);
        proc.kill('SIGTERM');
      }
    });
    proc.on('exit', (code) => {
      if (done) return;
      if (code === 0 && until === undefined) resolve(performance.now() - t0);
      else reject(new Error(`${args.join(' ')} exited ${code}:\n${err.slice(-1000)}`));
    });
  });
}

export const cliBench: Bench = {
  name: 'cli',
  description: 'start time of `spamdesk`: --help and real commands, compiled (dist/) against tsx',
  async run() {
    const built = performance.now();
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts/build.mjs')], { cwd: REPO_ROOT, stdio: 'pipe' });
    process.stdout.write(
      `build (npm run build): ${((performance.now() - built) / 1000).toFixed(1)} s; ${RUNS} runs per row; load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-bench-cli-'));
    try {
      const data = ['--data-dir', path.join(dir, 'data')];
      await timeRun(MODES.compiled, ['migrate', ...data]);
      const cases: { name: string; args: string[]; until?: string }[] = [
        { name: '--help', args: ['--help'] },
        { name: 'import --help', args: ['import', '--help'] },
        { name: 'check-config', args: ['check-config', ...data] },
        { name: 'stats', args: ['stats', ...data] },
        {
          name: 'serve → ready',
          args: ['serve', ...data, '--http-port', '0', '--workers', '0', '--smtp-enabled', 'false'],
          until: '"spamdesk ready"',
        },
      ];
      const widths = [16, 10, 10, 10, 10, 10];
      process.stdout.write(`${row(['command', 'mode', 'p50 ms', 'p90 ms', 'min ms', 'max ms'], widths)}\n`);
      for (const c of cases) {
        const modes = Object.entries(MODES);
        const times = new Map<string, number[]>(modes.map(([m]) => [m, []]));
        // One warm-up run per mode (files in the page cache), then the modes alternate, so a
        // change in the machine's load falls on both.
        for (const [, nodeArgs] of modes) await timeRun(nodeArgs, c.args, c.until);
        for (let i = 0; i < RUNS; i++) {
          for (const [mode, nodeArgs] of modes) times.get(mode)?.push(await timeRun(nodeArgs, c.args, c.until));
        }
        for (const [mode] of modes) {
          const t = (times.get(mode) ?? []).sort((x, y) => x - y);
          const f = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(0));
          process.stdout.write(
            `${row([c.name, mode, f(percentile(t, 50)), f(percentile(t, 90)), f(t[0]), f(t[t.length - 1])], widths)}\n`,
          );
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
