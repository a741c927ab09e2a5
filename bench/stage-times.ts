/**
 * The pipeline's stages as the server's `/metrics` counts them (`spamdesk_job_batch_seconds`,
 * `spamdesk_jobs_total`, served from the background child): per job kind, the wall time its
 * batches took, how many batches and how many jobs were done. The e2e bench prints it after a run,
 * so a run says which stage the pipeline waited on.
 */

export interface StageTime {
  kind: string;
  seconds: number;
  batches: number;
  done: number;
  failed: number;
}

/** One sample line of the Prometheus text format: its name, labels and value; null for anything else. */
function sample(line: string): { name: string; labels: Map<string, string>; value: number } | null {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([^ ]+)/.exec(line);
  if (!m) return null;
  const labels = new Map<string, string>();
  for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels.set(l[1], l[2]);
  return { name: m[1], labels, value: Number(m[3]) };
}

/** Stage times from a `/metrics` text, every process summed, slowest stage first. */
export function stageTimes(text: string): StageTime[] {
  const by = new Map<string, StageTime>();
  const of = (kind: string): StageTime => {
    let s = by.get(kind);
    if (!s) {
      s = { kind, seconds: 0, batches: 0, done: 0, failed: 0 };
      by.set(kind, s);
    }
    return s;
  };
  for (const line of text.split('\n')) {
    const s = sample(line);
    const kind = s?.labels.get('kind');
    if (!s || kind === undefined || !Number.isFinite(s.value)) continue;
    if (s.name === 'spamdesk_job_batch_seconds_sum') of(kind).seconds += s.value;
    else if (s.name === 'spamdesk_job_batch_seconds_count') of(kind).batches += s.value;
    else if (s.name === 'spamdesk_jobs_total' && s.labels.get('outcome') === 'done') of(kind).done += s.value;
    else if (s.name === 'spamdesk_jobs_total' && s.labels.get('outcome') === 'failed') of(kind).failed += s.value;
  }
  return [...by.values()].sort((a, b) => b.seconds - a.seconds || (a.kind < b.kind ? -1 : 1));
}

/** What the stages did between two readings of `/metrics` (`before` empty: everything in `after`). */
export function stageTimesSince(before: readonly StageTime[], after: readonly StageTime[]): StageTime[] {
  const was = new Map(before.map((b) => [b.kind, b]));
  return after
    .map((a) => {
      const b = was.get(a.kind);
      return b === undefined
        ? { ...a }
        : {
            kind: a.kind,
            seconds: a.seconds - b.seconds,
            batches: a.batches - b.batches,
            done: a.done - b.done,
            failed: a.failed - b.failed,
          };
    })
    .filter((t) => t.batches > 0 || t.done > 0 || t.failed > 0)
    .sort((x, y) => y.seconds - x.seconds || (x.kind < y.kind ? -1 : 1));
}
