import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedMemo } from './bounded-memo.ts';

test('a bounded memo computes each key once, remembers null and undefined results, and is cleared when full', () => {
  const calls: string[] = [];
  const memo = new BoundedMemo<string | null | undefined>((k) => {
    calls.push(k);
    return k === 'none' ? null : k === 'undef' ? undefined : k.toUpperCase();
  }, 3);
  assert.equal(memo.get('a'), 'A');
  assert.equal(memo.get('a'), 'A');
  assert.equal(memo.get('none'), null);
  assert.equal(memo.get('none'), null);
  assert.equal(memo.get('undef'), undefined);
  assert.equal(memo.get('undef'), undefined);
  assert.deepEqual(calls, ['a', 'none', 'undef']);
  assert.equal(memo.size, 3);
  assert.equal(memo.get('b'), 'B', 'a fourth key clears the full memo first');
  assert.equal(memo.size, 1);
  assert.equal(memo.get('a'), 'A');
  assert.deepEqual(calls, ['a', 'none', 'undef', 'b', 'a']);
});
