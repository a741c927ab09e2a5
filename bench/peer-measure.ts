/**
 * Measuring helpers for comparing Spamdesk with peer daemons (bench/analysis.ts): a seeded sample,
 * the interleaved round order, CPU-seconds and proportional memory of a process tree read from
 * /proc (daemons that fork children, children reaped included), and min–max spreads.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** mulberry32: a small seeded generator, so a sample is the same in every run with the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` items of `items` drawn without replacement by a seeded Fisher–Yates shuffle (all of them if n ≥ length). */
export function seededSample<T>(items: readonly T[], n: number, seed: number): T[] {
  const a = items.slice();
  const rnd = seededRandom(seed);
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.slice(0, Math.max(0, Math.min(n, a.length)));
}

/** Round r (0-based) runs the tools rotated by r: [A,B,C], [B,C,A], [C,A,B], [A,B,C], … */
export function roundOrder<T>(tools: readonly T[], round: number): T[] {
  const k = tools.length === 0 ? 0 : round % tools.length;
  return [...tools.slice(k), ...tools.slice(0, k)];
}

export function spread(values: readonly number[]): { min: number; max: number; median: number } {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return { min: NaN, max: NaN, median: NaN };
  const mid = Math.floor(s.length / 2);
  return { min: s[0], max: s[s.length - 1], median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2 };
}

let clockTicks = 0;
function ticksPerSecond(): number {
  if (clockTicks === 0) {
    const r = spawnSync('getconf', ['CLK_TCK']);
    const n = Number(r.stdout?.toString().trim());
    clockTicks = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
}

function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: fields start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state); utime is field 14, stime 15, cutime 16, cstime 17.
  return { pid, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
}

/** `root` and every live descendant of it. */
export function processTree(root: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = readStat(pid);
    if (!s) continue;
    const list = byParent.get(s.ppid) ?? [];
    list.push(pid);
    byParent.set(s.ppid, list);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const p = todo.pop() as number;
    out.push(p);
    for (const c of byParent.get(p) ?? []) todo.push(c);
  }
  return out;
}

/**
 * CPU-seconds spent so far by `root` and its descendants: each live process's user and system
 * time plus that of the children it has reaped (a daemon's recycled children are counted in its
 * cutime/cstime once they exit). Differences of two readings give the CPU of a phase.
 */
export function treeCpuSeconds(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) ticks += readStat(pid)?.ticks ?? 0;
  return ticks / ticksPerSecond();
}

/** Proportional set size (shared pages split among their users) of one process in bytes; RSS if PSS is unreadable. */
function pssBytes(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // fall through to RSS
  }
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Memory of a process tree now: the sum of PSS, so pages shared by forked workers count once. */
export function treeMemoryBytes(root: number): number {
  let sum = 0;
  for (const pid of processTree(root)) sum += pssBytes(pid);
  return sum;
}

/** Samples {@link treeMemoryBytes} of `root` every `ms`; `stop()` returns the peak. */
export function sampleTreeMemory(root: number, ms = 200): { stop(): number } {
  let peak = treeMemoryBytes(root);
  const t = setInterval(() => {
    peak = Math.max(peak, treeMemoryBytes(root));
  }, ms);
  t.unref();
  return {
    stop() {
      clearInterval(t);
      return Math.max(peak, treeMemoryBytes(root));
    },
  };
}
