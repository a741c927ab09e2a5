import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMAIL_RE, replaceEmails } from './normalise.ts';
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
