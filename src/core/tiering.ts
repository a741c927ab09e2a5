/**
 * When V8 optimises a function. V8 counts the bytecode a function runs against an "interrupt budget"
 * and considers it for TurboFan after a few budgets' worth; a server that meets new kinds of message
 * keeps warming lukewarm functions that way, and each of its isolates (the web process, the
 * background process, every analysis and mail thread) compiles its own copies on V8's helper
 * threads. Measured on the whole pipeline (bench/RESULTS.md, 2026-12-07 13:47–14:14, 3,000 reports, SQLite,
 * alternating): with a budget four times V8's default, 12.1–16.6 ms of CPU per report, median 12.9 over 12 runs,
 * against 12.7–16.4, median 13.9 over 14 runs with V8's; the background process's threads other than its main
 * one (analysis thread, V8's compiler and collector pool) 5.8 against 6.6 ms (medians), its main thread 5.5
 * against 5.2; the threads' wait for a CPU 21.8 against 28.9 s. The end-to-end rate did not move beyond the
 * host's spread (100.2 against 97.8 reports/s, medians). Hot functions are still optimised, a little later.
 *
 * The budget is the `v8InterruptBudget` setting (`SPAMDESK_V8_INTERRUPT_BUDGET`,
 * `--v8-interrupt-budget`; 0: V8's own); an `--interrupt-budget` given to node itself (its command
 * line, NODE_OPTIONS) wins.
 */
import v8 from 'node:v8';
import { earlySetting } from './config.ts';

const FLAG = /^["']*--interrupt[-_]budget(=|$)/;

/**
 * The `--interrupt-budget` flag Spamdesk sets for `budget` bytes, or null when it leaves V8's alone: the
 * operator gave node one (command line or NODE_OPTIONS), or `budget` is 0.
 */
export function interruptBudgetFlag(
  budget: number,
  execArgv: readonly string[] = process.execArgv,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  if (budget === 0) return null;
  if (execArgv.some((a) => FLAG.test(a))) return null;
  if ((env.NODE_OPTIONS ?? '').split(/\s+/).some((a) => FLAG.test(a))) return null;
  return `--interrupt-budget=${budget}`;
}

/**
 * Sets the budget for this process before any command's modules load: V8's flags are per process, so
 * the worker threads started later share it; the background process, started with the same command
 * line and environment, sets its own. Returns the flag set, or null. An invalid setting throws the
 * configuration's error (variable, flag and value named).
 */
export function applyTiering(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string | null {
  const flag = interruptBudgetFlag(earlySetting('v8InterruptBudget', argv, env) as number, process.execArgv, env);
  if (flag) v8.setFlagsFromString(flag);
  return flag;
}
