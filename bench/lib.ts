/** Shared measuring helpers for bench/: percentiles, peak RSS sampling, formatting. */
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
