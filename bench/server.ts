/**
 * `spamdesk serve` as a child process for the benches that measure a real server (http, attack,
 * burst): started from the TypeScript sources, ready once it logs "spamdesk ready".
 * `SPAMDESK_BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` profiles the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './lib.ts';

export interface BenchServer {
  proc: ChildProcess;
  /** The HTTP base URL the server printed. */
  url: string;
  /** The last 16 KB the server wrote to stderr (its start-up banner and warnings). */
  stderr(): string;
}

/** Starts the server with `args` after `serve` and resolves once it is ready. */
export async function startBenchServer(args: string[]): Promise<BenchServer> {
  const proc = spawn(
    process.execPath,
    [
      ...(process.env.SPAMDESK_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean),
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'src/cli/main.ts'),
      'serve',
      ...args,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
  return { proc, url, stderr: () => err };
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
