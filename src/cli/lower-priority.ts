/**
 * The background process yields the CPU to the intake (issue 17: "intake first: background work
 * yields to it"). `spamdesk serve` runs HTTP and SMTP in one process and the pipeline in a child
 * (`background-child.ts`); on a machine whose cores the pipeline keeps busy, the intake's requests
 * waited for a core behind the analysis threads, the SQL thread and their compilers. The child
 * lowers its own scheduling priority (a higher nice value, POSIX `setpriority`) at its start, so the
 * kernel runs the web process first whenever both want a core, and the child takes every cycle the
 * intake leaves idle: the work is the same, only who waits changes.
 *
 * On Linux a nice value belongs to a thread, and a new thread inherits its creator's. The child has
 * threads before its JavaScript runs (V8's compiler and collector threads, libuv's), so each thread
 * listed in `/proc/self/task` is set; the analysis and build threads it starts later inherit the
 * value from its main thread. Elsewhere `setpriority` on the process covers every thread.
 */
import fs from 'node:fs';
import os from 'node:os';

/** The child's log line once it lowered its priority (with {@link Lowered}'s fields). */
export const LOWERED_MSG = 'background process runs at a lower CPU priority than the web process';

/** The largest nice value (the lowest priority) POSIX systems take. */
export const MAX_NICE = 19;

export interface Lowered {
  /** The nice value the process's threads now have. */
  nice: number;
  /** How many threads were set (1 where the process is set as a whole). */
  threads: number;
  /** Threads that could not be set (gone meanwhile, or refused), with the first reason. */
  failed: number;
  reason?: string;
}

/** The thread ids of this process (Linux), or null where `/proc/self/task` does not exist. */
function ownThreads(): number[] | null {
  try {
    return fs
      .readdirSync('/proc/self/task')
      .map(Number)
      .filter((t) => Number.isInteger(t) && t > 0);
  } catch {
    return null;
  }
}

/**
 * Raises this process's nice value by `by` (capped at {@link MAX_NICE}; never lowered: an unprivileged
 * process may not, and a process started with a higher value keeps it). `by` 0 changes nothing.
 */
export function lowerOwnPriority(by: number): Lowered {
  const current = os.getPriority(0);
  const nice = Math.min(MAX_NICE, Math.max(current, current + by));
  if (nice === current) return { nice, threads: 0, failed: 0 };
  const threads = ownThreads();
  if (threads === null) {
    // Never a reason not to start: the child then runs at its parent's priority, and says why.
    try {
      os.setPriority(0, nice);
      return { nice, threads: 1, failed: 0 };
    } catch (e) {
      return { nice: current, threads: 0, failed: 1, reason: (e as Error).message };
    }
  }
  let set = 0;
  let failed = 0;
  let reason: string | undefined;
  for (const tid of threads) {
    try {
      // Never raise a thread that already runs lower than asked.
      if (os.getPriority(tid) < nice) os.setPriority(tid, nice);
      set++;
    } catch (e) {
      failed++;
      reason ??= (e as Error).message;
    }
  }
  return { nice, threads: set, failed, ...(reason === undefined ? {} : { reason }) };
}

/** The nice value of each thread of process `pid` (Linux, `/proc/PID/task/TID/stat` field 19), for tests. */
export function threadNiceValues(pid: number): number[] {
  const out: number[] = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.push(Number(fields[16]));
  }
  return out;
}
