import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMAIL_RE, eachWord, looksRandom, replaceEmails } from './normalise.ts';
import { mulberry32 } from '../../core/prng.ts';

test('addresses are replaced exactly where the e-mail pattern matches, on generated hostile texts', () => {
  const rng = mulberry32(17);
  // Letters, digits, the local part's symbols, dots, @, spaces, accented and astral letters, lone surrogates.
  const alphabet = [
    'a',
    'b',
    'Z',
    '7',
    '.',
    '.',
    '-',
    '_',
    '+',
    '%',
    '@',
    '@',
    ' ',
    '\n',
    'é',
    '日',
    '𝒜',
    '\ud835',
    '\udc9c',
    ',',
  ];
  const cases = [
    'write to john.doe@example.com or jane@mail.example.org.',
    `${'a'.repeat(70)}@example.com`,
    `${'𝒜'.repeat(63)}@example.com and ${'𝒜'.repeat(65)}@example.com`,
    'a@b@c.com x@@y.de .@x.io @start.com end@',
    'no address here',
  ];
  for (let i = 0; i < 3000; i++) {
    let s = '';
    const n = Math.floor(rng() * 200);
    for (let k = 0; k < n; k++) s += alphabet[Math.floor(rng() * alphabet.length)];
    if (rng() < 0.5) s += ` ${'x'.repeat(Math.floor(rng() * 140))}@dom.example${'y'.repeat(Math.floor(rng() * 3))} `;
    cases.push(s);
  }
  for (const s of cases) assert.equal(replaceEmails(s, ' email '), s.replace(EMAIL_RE, ' email '), JSON.stringify(s));
});

/** Letters, digits and separators of several scripts, astral letters and digits, lone surrogates. */
const WORD_ALPHABET = [
  'a',
  'e',
  'y',
  'q',
  'Z',
  '7',
  ' ',
  '-',
  '.',
  '\n',
  'é',
  'ü',
  'ß',
  'Ж',
  '日',
  '٣',
  '²',
  '𝒜',
  '𝟘',
  '😀',
  '\ud835',
  '\udc9c',
  '\u0301',
  '\u00a0',
  '_',
];

function randomText(rng: () => number, max: number): string {
  let s = '';
  const n = Math.floor(rng() * max);
  for (let k = 0; k < n; k++) s += WORD_ALPHABET[Math.floor(rng() * WORD_ALPHABET.length)];
  return s;
}

test('words are the runs of letters and digits the Unicode pattern finds, on generated texts', () => {
  const rng = mulberry32(23);
  const cases = ['', 'plain ascii words 42', '𝒜𝒜 x', 'café—naïve 日本語', '\ud835', 'a\udc9cb', 'end𝟘'];
  for (let i = 0; i < 5000; i++) cases.push(randomText(rng, 60));
  for (const s of cases) {
    const words: string[] = [];
    eachWord(s, (w) => words.push(w) > 0);
    assert.deepEqual(words, s.match(/[\p{L}\p{N}]+/gu) ?? [], JSON.stringify(s));
  }
  // Stopped when asked to.
  const first: string[] = [];
  eachWord('one two three', (w) => first.push(w) < 2);
  assert.deepEqual(first, ['one', 'two']);
});

test('a token looks random by its code points, a surrogate pair counting as one consonant', () => {
  const vowels = new Set([...'aeiouyàâäéèêëîïôöùûüáíóú']);
  // The definition, character by character.
  const reference = (token: string): boolean => {
    if (token.length > 24) return true;
    if (token.length < 5) return false;
    let run = 0;
    let longest = 0;
    let seen = 0;
    for (const ch of token) {
      if (vowels.has(ch)) {
        seen++;
        run = 0;
      } else if (++run > longest) longest = run;
    }
    return seen === 0 || (token.length >= 8 && longest >= 6);
  };
  const rng = mulberry32(29);
  const cases = ['qzxkwvbt', 'hello', 'strengths', '𝒜𝒜𝒜a', 'b𝒜𝒜𝒜𝒜𝒜a', 'é𝒜𝒜𝒜𝒜𝒜𝒜x', 'a'.repeat(25)];
  for (let i = 0; i < 5000; i++) cases.push(randomText(rng, 30));
  for (const s of cases) assert.equal(looksRandom(s), reference(s), JSON.stringify(s));
});
