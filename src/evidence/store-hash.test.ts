import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../core/ids.ts';
import { HASH_SLICE_BYTES, prepareMessageAsync, sha256HexSliced } from './store.ts';

test('a large message is hashed in slices to the same SHA-256, letting other work run in between', async () => {
  for (const size of [0, 1, HASH_SLICE_BYTES, HASH_SLICE_BYTES + 1, 3 * HASH_SLICE_BYTES - 7]) {
    const b = randomBytes(size);
    assert.equal(await sha256HexSliced(b), sha256Hex(b), `size ${size}`);
  }
  const big = randomBytes(8 * HASH_SLICE_BYTES);
  const ran = new Promise<void>((resolve) => setImmediate(() => resolve()));
  let hashedFirst = false;
  const hashed = sha256HexSliced(big).then((h) => {
    hashedFirst = true;
    return h;
  });
  await ran;
  assert.equal(hashedFirst, false, 'another callback ran before the hash of 8 MiB was done');
  assert.equal(await hashed, sha256Hex(big));
  assert.equal((await prepareMessageAsync(big)).sha256, sha256Hex(big));
});
