import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exposedGc, IdleCollector } from './idle-collector.ts';
import { InflightBudget } from './inflight-budget.ts';

test('one collection after a burst of large messages, once a whole check passed quiet; none while busy', () => {
  const budget = new InflightBudget(100);
  let gcs = 0;
  const c = new IdleCollector(budget, { minBytes: 50, gc: () => gcs++ });
  c.check();
  assert.equal(gcs, 0, 'nothing has arrived');
  const a = budget.tryReserve(40);
  const b = budget.tryReserve(30);
  c.check();
  assert.equal(gcs, 0, 'messages in flight');
  a?.release();
  b?.release();
  c.check();
  assert.equal(gcs, 0, 'bytes arrived since the last check: not yet quiet');
  c.check();
  assert.equal(gcs, 1, 'quiet for a whole check after 70 bytes');
  c.check();
  c.check();
  assert.equal(gcs, 1, 'nothing new: no second collection');
  budget.tryReserve(20)?.release();
  c.check();
  c.check();
  assert.equal(gcs, 1, 'under minBytes since the last collection');
  const g = budget.tryReserve(10);
  assert.ok(g?.tryGrow(30));
  g?.release();
  c.check();
  c.check();
  assert.equal(gcs, 2, 'grown reservations count too');
  assert.equal(c.collections, 2);
});

test('exposedGc gives a callable gc() without --expose-gc', () => {
  const gc = exposedGc();
  assert.equal(typeof gc, 'function');
  gc();
});
