import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeText } from './dialect.ts';

/** What safeText must do, as the regex scan it was first written as. */
const UNSAFE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const reference = (s: string): string => s.replace(UNSAFE, '\uFFFD');

test('safe text: NUL and lone surrogates become U+FFFD, pairs and everything else stay', () => {
  assert.equal(safeText('plain ascii'), 'plain ascii');
  assert.equal(safeText('é€ 😀 ok'), 'é€ 😀 ok');
  assert.equal(safeText('a\0b'), 'a\uFFFDb');
  assert.equal(safeText('a\uD800b'), 'a\uFFFDb');
  assert.equal(safeText('\uDC00x'), '\uFFFDx');
  assert.equal(safeText('x\uD83D'), 'x\uFFFD');
  assert.equal(safeText('\uDE00\uD83D'), '\uFFFD\uFFFD', 'a low before a high is two lone halves');
  assert.equal(safeText(''), '');
  const s = 'untouched';
  assert.equal(safeText(s), s);
});

test('safe text answers as the regex scan on seeded strings of every awkward kind of character', () => {
  // NUL, high and low surrogates alone and paired, ASCII, Latin-1, BMP: strings of up to 40 of them.
  const pool = ['\0', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uD83D\uDE00', 'a', ' ', 'é', '€', '\uFFFD', 'z'];
  let seed = 20261204;
  const next = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let i = 0; i < 5000; i++) {
    let s = '';
    for (let k = next(40); k > 0; k--) s += pool[next(pool.length)];
    assert.equal(safeText(s), reference(s), JSON.stringify(s));
  }
});
