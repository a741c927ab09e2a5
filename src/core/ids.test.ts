/**
 * Ids: ULIDs from the pooled CSPRNG source are well formed, unique and in creation order, and the
 * source gives every byte value across refills of its pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ulid } from 'ulid';
import { idTime, newId, pooledRandomFraction } from './ids.ts';

test('ids are 26 Crockford base32 characters, unique and increasing over 20,000 ids', () => {
  const ids = Array.from({ length: 20_000 }, () => newId());
  for (const id of ids) assert.match(id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1] < ids[i], `${ids[i - 1]} < ${ids[i]}`);
});

test('the pooled random source gives fractions of one byte in [0, 1), every byte value, across refills', () => {
  const seen = new Set<number>();
  for (let i = 0; i < 3 * 4096; i++) {
    const f = pooledRandomFraction();
    assert.ok(f >= 0 && f < 1, String(f));
    assert.equal(Number.isInteger(f * 256), true);
    seen.add(f * 256);
  }
  assert.equal(seen.size, 256);
});

test('an id’s time is its ULID time, never later than now, and now for an id that is not a ULID', () => {
  const past = Date.parse('2026-01-05T11:00:00.000Z');
  assert.equal(idTime(ulid(past)).getTime(), past);
  const before = Date.now();
  const ahead = idTime(ulid(before + 3_600_000)).getTime();
  assert.ok(ahead >= before && ahead <= Date.now(), 'a node whose clock runs ahead does not delay the job');
  assert.equal(idTime(ulid(past + 5000), past).getTime(), past, 'capped at the given bound');
  const odd = idTime('not-a-ulid').getTime();
  assert.ok(odd >= before && odd <= Date.now());
});
