import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InflightBudget } from './inflight-budget.ts';

test('the budget admits what fits, refuses the rest, and gets every byte back on release', () => {
  const b = new InflightBudget(100);
  const a = b.tryReserve(60);
  assert.ok(a);
  assert.equal(b.tryReserve(50), null);
  const c = b.tryReserve(0);
  assert.ok(c?.tryGrow(40));
  assert.equal(c?.tryGrow(1), false, 'full');
  a.release();
  a.release();
  assert.equal(b.inUse, 40, 'release is idempotent');
  c?.release();
  assert.equal(b.inUse, 0);
  // One message larger than the whole budget passes when nothing else is in flight.
  const big = b.tryReserve(0);
  assert.ok(big?.tryGrow(150));
  assert.equal(b.fits(1), false);
  big?.release();
  assert.equal(b.fits(1), true);
});
