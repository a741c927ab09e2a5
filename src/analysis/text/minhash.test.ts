import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SHINGLE_SIZE, hashString, shingleHashes } from './minhash.ts';

test('shingle hashes are the distinct hashes of the words joined by spaces, so stored signatures stay valid', () => {
  const words = [
    'été',
    'offer',
    '#',
    'x',
    'ünïcode',
    '日本語',
    'a',
    'email',
    'url',
    'example.com',
    'z',
    'été',
    'offer',
    '#',
  ];
  const expected = new Set<number>();
  for (let i = 0; i + SHINGLE_SIZE <= words.length; i++)
    expected.add(hashString(words.slice(i, i + SHINGLE_SIZE).join(' ')));
  assert.deepEqual(shingleHashes(words), Uint32Array.from([...expected].sort((a, b) => a - b)));
  assert.deepEqual(shingleHashes(['two', 'words']), Uint32Array.of(hashString('two words')));
  assert.deepEqual(shingleHashes([]), new Uint32Array(0));
});
