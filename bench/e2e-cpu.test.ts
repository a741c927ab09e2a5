import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { processCpuSplit } from './e2e.ts';

/** A fixed amount of arithmetic (tens of milliseconds of CPU), not a time. */
const WORK = `let x = 0; for (let i = 0; i < 60_000_000; i++) x = (x + i * 7) % 1_000_003;`;

test('the e2e bench splits a process’s CPU between its main thread and its other threads', async () => {
  const a = processCpuSplit(process.pid);
  assert.ok(a !== null && a.total >= a.main && a.main >= 0);
  // Work in another thread shows as the other threads' CPU…
  const w = new Worker(WORK, { eval: true });
  await new Promise((resolve, reject) => {
    w.once('exit', resolve);
    w.once('error', reject);
  });
  const b = processCpuSplit(process.pid);
  assert.ok(b !== null);
  assert.ok(b.total - b.main > a.total - a.main, 'a worker thread’s work is counted among the other threads');
  // …and work here as the main thread's.
  new Function(WORK)();
  const c = processCpuSplit(process.pid);
  assert.ok(c !== null && c.main > b.main, 'the main thread’s work is counted as its own');
  assert.equal(processCpuSplit(2 ** 22 + 7), null, 'a process that is not there has no split');
});
