import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import {
  redactReporter,
  redactText,
  redactValue,
  recipientIdentityOf,
  REDACTED_ADDRESS,
  type ReporterIdentity,
} from './redact.ts';
import { foldAccents, identityForms } from './redact-identity.ts';

const ADDRESS = 'lea.martin@martin-famille.fr';
const IDENTITY: ReporterIdentity = { addresses: [ADDRESS], names: ['Léa Martin'], numbers: ['+33612345678'] };
const r = (s: string, id: ReporterIdentity = IDENTITY): string => redactText(s, id);
const hex = (algo: string, s: string): string => createHash(algo).update(s).digest('hex');

test(
  'a percent-encoded address in a query is replaced by the percent-encoded placeholder, so the link still ' + 'parses',
  () => {
    const out = r('https://t.example/verify?u=lea.martin%40martin-famille.fr&x=1');
    assert.equal(out, 'https://t.example/verify?u=x%40redacted.invalid&x=1');
    assert.equal(new URL(out).searchParams.get('u'), REDACTED_ADDRESS);
    assert.equal(
      r('a?u=%6C%65%61%2E%6D%61%72%74%69%6E%40%6D%61%72%74%69%6E%2D%66%61%6D%69%6C%6C%65%2E%66%72'),
      'a?u=x%40redacted.invalid',
    );
    assert.equal(r('a?u=lea.martin%2540martin-famille.fr'), 'a?u=x%40redacted.invalid', 'percent-encoded twice');
  },
);

test('HTML character references, numeric, hexadecimal and named, whole or partial, are decoded before matching', () => {
  const entities = [...ADDRESS].map((c) => `&#${c.charCodeAt(0)};`).join('');
  assert.equal(r(`<a>${entities}</a>`), `<a>${REDACTED_ADDRESS}</a>`);
  assert.equal(r('mail lea.martin&#x40;martin-famille&period;fr now'), `mail ${REDACTED_ADDRESS} now`);
  assert.equal(r('Bonjour L&eacute;a M&#97;rtin'), 'Bonjour [redacted]');
});

test('names are redacted whole and by parts, in any case, with or without accents, in both orders', () => {
  for (const s of [
    'Léa Martin',
    'LÉA MARTIN',
    'lea martin',
    'Lea Martin',
    'MARTIN, Léa',
    'Martin Lea',
    'L%C3%A9a+Martin',
  ]) {
    assert.doesNotMatch(r(`Dear ${s}, hello`), /l[ée]a|martin|%C3%A9/i, s);
  }
  for (const s of ['Hello Lea,', 'Bonjour Léa !', 'HELLO LEA', 'Hi léa']) assert.doesNotMatch(r(s), /l[ée]a/i, s);
  // A name registered without accents is found with them too.
  assert.equal(r('Chère Léa', { addresses: [], names: ['Lea Martin'], numbers: [] }), 'Chère [redacted]');
  assert.equal(r('Leanne and Clea stay'), 'Leanne and Clea stay', 'a name inside another word is not a name');
  assert.equal(foldAccents('Zoé Øberg-Müller'), 'Zoe Oberg-Muller');
});

test('base64 and base64url of the address are decoded, redacted and re-encoded in place, at any alignment', () => {
  const b64 = Buffer.from(ADDRESS).toString('base64');
  const out = r(`https://phish.example/login?e=${b64}&r=1`);
  const e = new URL(out).searchParams.get('e') ?? '';
  assert.equal(Buffer.from(e, 'base64').toString(), REDACTED_ADDRESS, 'the value decodes to the placeholder');
  for (const prefix of ['', 'a', 'ab', 'abc', 'id=7;']) {
    for (const enc of ['base64', 'base64url'] as const) {
      const token = Buffer.from(`${prefix}${ADDRESS}&ts=1700000000`).toString(enc);
      const red = r(`x?d=${token}`);
      const decoded = Buffer.from(red.slice('x?d='.length), 'base64').toString('latin1');
      assert.ok(
        !decoded.includes(ADDRESS) && !decoded.includes('lea.martin'),
        `${enc} prefix ${prefix.length}: ${decoded}`,
      );
      assert.ok(
        decoded.includes(`${prefix}${REDACTED_ADDRESS}&ts=1700000000`),
        `${enc} prefix ${prefix.length}: the rest survives: ${decoded}`,
      );
    }
  }
  // Inside a longer base64 text that does not start where the address does.
  const long = Buffer.from(`{"campaign":42,"to":"${ADDRESS}","n":1}`).toString('base64');
  const red = r(`payload ${long.slice(4)} end`);
  assert.ok(!red.includes(long.slice(8, 40)), 'the fragment is gone');
});

test('MD5, SHA-1 and SHA-256 of the address, in its case variants, become the same hash of the placeholder', () => {
  for (const algo of ['md5', 'sha1', 'sha256']) {
    for (const v of [ADDRESS, ADDRESS.toUpperCase(), 'Lea.martin@martin-famille.fr']) {
      const h = hex(algo, v);
      assert.equal(
        r(`https://t.example/p.gif?h=${h}`),
        `https://t.example/p.gif?h=${hex(algo, REDACTED_ADDRESS)}`,
        `${algo} ${v}`,
      );
      assert.equal(
        r(`h=${h.toUpperCase()}`),
        `h=${hex(algo, REDACTED_ADDRESS).toUpperCase()}`,
        `${algo} upper-case hex`,
      );
    }
  }
  assert.doesNotMatch(r(`id=${Buffer.from(ADDRESS).toString('hex')}`), /6c65612e6d617274696e/);
});

test('quoted-printable escapes and soft line breaks, and RFC 2047 words split across the address, are decoded', () => {
  assert.equal(r('write to lea.martin=40martin-famille.fr'), `write to ${REDACTED_ADDRESS}`);
  assert.doesNotMatch(r('lea.mar=\r\ntin@martin-famille.fr'), /lea|martin/);
  const split = `=?utf-8?B?${Buffer.from('lea.mar').toString('base64')}?= \
=?utf-8?B?${Buffer.from('tin@martin-famille.fr').toString('base64')}?=`;
  const raw = Buffer.from(
    `From: a@spam.example\r\nTo: ${split}\r\nSubject: =?utf-8?Q?L=C3=A9a_?= \
=?utf-8?Q?Martin=2C_votre_compte?=\r\n\r\nbody\r\n`,
  );
  const out = redactReporter(raw, IDENTITY).raw.toString('latin1');
  const subject = /Subject: (.*)/.exec(out)?.[1] ?? '';
  const words = [...subject.matchAll(/=\?utf-8\?B\?([^?]*)\?=/g)]
    .map((m) => Buffer.from(m[1], 'base64').toString())
    .join('');
  assert.equal(words, '[redacted], votre compte');
  assert.doesNotMatch(out, /bGVhLm1hcn/);
});

test('the reporter’s own mail domain and its hosts are redacted; a shared provider’s are not', () => {
  assert.equal(
    r('Received: from x by mx1.martin-famille.fr with ESMTP'),
    `Received: from x by redacted.invalid with ESMTP`,
  );
  const gmail: ReporterIdentity = { addresses: ['lea.martin@gmail.com'], names: [], numbers: [] };
  assert.equal(
    r('by mx.google.com for <lea.martin@gmail.com>; see gmail.com', gmail),
    `by mx.google.com for <${REDACTED_ADDRESS}>; see gmail.com`,
  );
  // Punycode and Unicode forms of an internationalised domain.
  const idn: ReporterIdentity = { addresses: ['zoe@café-martin.fr'], names: [], numbers: [] };
  const ascii = domainToASCII('café-martin.fr');
  assert.equal(r(`to zoe@${ascii} via mail.${ascii}`, idn), `to ${REDACTED_ADDRESS} via redacted.invalid`);
  assert.ok(identityForms(idn).addresses.includes(`zoe@${ascii}`));
});

test('phone numbers in national, international, URL and tel: forms', () => {
  for (const s of [
    '06 12 34 56 78',
    '+33 6 12 34 56 78',
    '0033612345678',
    'tel:+33612345678',
    'tel:%2B33612345678',
    '(0)6.12.34.56.78',
  ]) {
    assert.doesNotMatch(r(`call ${s}`), /12.?34.?56/, s);
  }
  assert.equal(r(`h=${hex('sha256', '+33612345678')}`), `h=${hex('sha256', '+00000000000')}`);
});

test('phone numbers whose national number is not nine digits: UK, US, German, Italian, written every way', () => {
  const cases: [string, string[], RegExp][] = [
    [
      '+447815296484',
      ['07815 296484', '+44 7815 296484', '+44 (0)7815 296484', '0044 7815296484', 'tel:+447815296484'],
      /296.?484/,
    ],
    ['+14155550123', ['(415) 555-0123', '415.555.0123', '+1 415 555 0123', '1-415-555-0123'], /555.?0123/],
    ['+4915123456789', ['0151 23456789', '+49 151 23456789', '+49 (0)151 2345 6789'], /2345.?6789/],
    ['+393123456789', ['312 345 6789', '+39 312 345 6789'], /345.?6789/],
    // Written by the intake without its country code: the digits without the trunk prefix.
    ['07815296484', ['07815 296484', '+44 7815 296484'], /296.?484/],
  ];
  for (const [number, forms, left] of cases) {
    const id: ReporterIdentity = { addresses: [], names: [], numbers: [number] };
    for (const s of forms) assert.doesNotMatch(r(`call ${s} now`, id), left, `${number}: ${s}`);
  }
  // Another number that shares the last nine digits stays: the whole national number is matched.
  const uk: ReporterIdentity = { addresses: [], names: [], numbers: ['+447815296484'] };
  assert.match(r('call 06815 296484', uk), /06815 296484/);
});

test('the local part alone is redacted when distinctive', () => {
  assert.equal(r('user lea.martin logged in'), 'user [redacted] logged in');
  assert.equal(r('https://x.example/u/lea.martin/profile'), 'https://x.example/u/[redacted]/profile');
});

test(
  'recipient fields name the reporter: their addresses and display names are redacted; generic names are ' + 'not',
  () => {
    const raw = Buffer.from(
      'To: "Chloé Dubreuil" <c.dubreuil@agence-dubreuil.fr>, Valued Customer <vc@example.org>\r\nSubject: Chloé, ' +
        'your ' +
        'parcel\r\n\r\nHello Chloe, dear valued customer\r\n',
    );
    const rec = recipientIdentityOf(raw);
    assert.deepEqual(rec.names, ['Chloé Dubreuil', 'Valued Customer']);
    const out = redactReporter(raw, { addresses: [], names: [], numbers: [] }).raw.toString('utf8');
    assert.doesNotMatch(out, /Chlo|dubreuil/i);
    assert.match(out, /dear valued customer/, 'generic display names do not blank ordinary words');
  },
);

test('a JSON-like value is redacted string by string, keys included, structure kept', () => {
  const v = {
    subject: 'Léa Martin, votre compte',
    urls: [{ value: 'https://v.example/verify?u=lea.martin%40martin-famille.fr', count: 2 }],
    n: 3,
    ok: true,
  };
  const out = redactValue(v, IDENTITY);
  assert.deepEqual(out, {
    subject: '[redacted], votre compte',
    urls: [{ value: 'https://v.example/verify?u=x%40redacted.invalid', count: 2 }],
    n: 3,
    ok: true,
  });
});

test('the reader’s view steps over hidden elements between letters, as many as its scan budget allows', async () => {
  const { readerView, HIDDEN_MAX, HIDDEN_SCAN_BUDGET } = await import('./redact-views.ts');
  const one = 'j<span style="display:none">zz</span>d@orange.fr';
  assert.equal(readerView(one)?.text, 'jd@orange.fr');
  // Nested elements of the same name are counted; one never closed is read as a plain tag.
  assert.equal(readerView('jd@ora<span hidden>p<span>q</span>p</span>nge.fr')?.text, 'jd@orange.fr');
  assert.equal(readerView('j<span hidden>zz d@x')?.text, 'jzz d@x');
  // Past the budget (hostile input: thousands of hidden elements), the rest are read as plain tags.
  const allowed = Math.ceil(HIDDEN_SCAN_BUDGET / HIDDEN_MAX);
  const many = Array.from({ length: allowed + 3 }, () => one).join(' ');
  const seen = readerView(many)?.text.split(' ') ?? [];
  assert.equal(seen.length, allowed + 3);
  assert.deepEqual(new Set(seen.slice(0, allowed)), new Set(['jd@orange.fr']));
  assert.deepEqual(new Set(seen.slice(allowed)), new Set(['jzzd@orange.fr']));
});
