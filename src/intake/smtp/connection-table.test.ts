import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionTable } from './connection-table.ts';

test('an address over its own cap is refused; under the global cap everyone is admitted', () => {
  const t = new ConnectionTable(10, 3);
  for (let i = 0; i < 3; i++) assert.equal(t.admit(`a${i}`, '192.0.2.1').ok, true);
  const refused = t.admit('a3', '192.0.2.1');
  assert.equal(refused.ok, false);
  assert.match(refused.reason, /Too many connections from 192\.0\.2\.1/);
  assert.equal(t.count('192.0.2.1'), 3, 'a refused connection is not counted');
  t.release('a0');
  assert.equal(t.admit('a4', '192.0.2.1').ok, true, 'a closed connection frees its place');
});

test('with every place taken, a newcomer evicts the oldest idle connection of the address holding the most', () => {
  const t = new ConnectionTable(6, 4);
  for (let i = 0; i < 4; i++) t.admit(`x${i}`, '192.0.2.10');
  for (let i = 0; i < 2; i++) t.admit(`y${i}`, '192.0.2.20');
  t.setBusy('x0', true); // in the middle of a mail: kept
  const a = t.admit('n0', '198.51.100.1');
  assert.deepEqual(a, { ok: true, evict: 'x1', reason: '' });
  assert.equal(t.size, 6);
  assert.equal(t.count('192.0.2.10'), 3);
  // Shares even out; once no address holds more than the newcomer would, it is refused.
  assert.equal(t.admit('n1', '198.51.100.1').evict, 'x2');
  assert.equal(t.admit('n2', '198.51.100.2').evict, 'x3', 'x, y and n hold 2 each: the oldest idle goes');
  assert.equal(t.admit('n3', '198.51.100.3').evict, 'y0');
  assert.equal(t.admit('n4', '198.51.100.4').evict, 'n0');
  const full = t.admit('n5', '198.51.100.5');
  assert.equal(full.ok, false, JSON.stringify(full));
  assert.match(full.reason, /Server busy/);
});
