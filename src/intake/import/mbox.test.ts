import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MboxSplitter, type MboxEntry, type MboxFormat } from './mbox.ts';

/** Splits `text` feeding it in pieces of `chunk` bytes, to exercise lines cut across chunks. */
function split(text: string | Buffer, opts: { format?: MboxFormat; max?: number; chunk?: number } = {}): MboxEntry[] {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1');
  const s = new MboxSplitter(opts.format ?? 'mboxrd', opts.max ?? 1024 * 1024);
  const out: MboxEntry[] = [];
  const step = opts.chunk ?? buf.length;
  for (let i = 0; i < buf.length; i += step) out.push(...s.push(buf.subarray(i, i + step)));
  out.push(...s.end());
  return out;
}

const raws = (entries: MboxEntry[]) => entries.map((e) => e.raw?.toString('latin1') ?? null);

const MBOX = [
  'From alice@example.org Mon Jan  2 15:04:05 2006',
  'From: alice@example.org',
  'Subject: one',
  '',
  'first body',
  '>From the start, quoted once',
  '>>From quoted twice',
  '>>>From quoted three times',
  '> From not a From line',
  'From: header-looking body line stays',
  '',
  'From bob@example.org Tue Jan  3 10:00:00 2006',
  'From: bob@example.org',
  'Subject: two',
  '',
  'second body',
  '',
  '',
].join('\n');

describe('MboxSplitter', () => {
  test('mboxrd: removes one ">" from every ">+From " line, drops separators and the blank line before them', () => {
    const e = split(MBOX);
    assert.equal(e.length, 2);
    assert.deepEqual(raws(e), [
      [
        'From: alice@example.org',
        'Subject: one',
        '',
        'first body',
        'From the start, quoted once',
        '>From quoted twice',
        '>>From quoted three times',
        '> From not a From line',
        'From: header-looking body line stays',
        '',
      ].join('\n'),
      // The final blank line terminates the mbox; the one before it is the message's own.
      ['From: bob@example.org', 'Subject: two', '', 'second body', ''].join('\n'),
    ]);
    assert.equal(e[0].envelope, 'From alice@example.org Mon Jan  2 15:04:05 2006');
    assert.equal(e[0].line, 1);
    assert.equal(e[0].offset, 0);
    assert.equal(e[1].line, 12);
    assert.equal(e[1].offset, MBOX.indexOf('From bob'));
  });

  test('mboxo: only ">From " is unquoted; deeper quoting is content', () => {
    const [first] = split(MBOX, { format: 'mboxo' });
    const lines = first.raw?.toString('latin1').split('\n') ?? [];
    assert.equal(lines[4], 'From the start, quoted once');
    assert.equal(lines[5], '>>From quoted twice');
    assert.equal(lines[6], '>>>From quoted three times');
  });

  test('the result does not depend on how the input is cut into chunks', () => {
    const whole = raws(split(MBOX));
    for (const chunk of [1, 2, 3, 7, 64]) assert.deepEqual(raws(split(MBOX, { chunk })), whole, `chunk ${chunk}`);
  });

  test('CRLF mboxes keep CRLF inside messages and still recognise separators and blank lines', () => {
    const crlf = MBOX.replace(/\n/g, '\r\n');
    const e = split(crlf, { chunk: 5 });
    assert.equal(e.length, 2);
    assert.equal(e[1].raw?.toString('latin1'), 'From: bob@example.org\r\nSubject: two\r\n\r\nsecond body\r\n');
    assert.ok(e[0].raw?.toString('latin1').includes('\r\nFrom the start, quoted once\r\n'));
  });

  test('a "From " line not preceded by a blank line is content, not a separator', () => {
    const e = split('From a@b Mon Jan  2 15:04:05 2006\nSubject: x\n\nline\nFrom here on it is body\n');
    assert.equal(e.length, 1);
    assert.match(e[0].raw?.toString('latin1') ?? '', /From here on it is body/);
  });

  test('text before the first separator is reported as a problem entry with its line', () => {
    const e = split('garbage line\nmore\n\nFrom a@b Mon Jan  2 15:04:05 2006\nSubject: ok\n\nbody\n');
    assert.equal(e.length, 2);
    assert.match(e[0].problem ?? '', /before the first "From " separator/);
    assert.equal(e[0].line, 1);
    assert.equal(e[1].problem, undefined);
    assert.equal(e[1].line, 4);
    assert.equal(e[1].raw?.toString(), 'Subject: ok\n\nbody\n');
  });

  test('an entry above the size limit is skipped with its line, the next one is kept', () => {
    const big = `From a@b Mon Jan  2 15:04:05 2006\nSubject: big\n\n${'x'.repeat(500)}\n\nFrom c@d Mon Jan  2 15:04:05 \
2006\nSubject: small\n\nok\n`;
    const e = split(big, { max: 200, chunk: 50 });
    assert.equal(e.length, 2);
    assert.equal(e[0].raw, null);
    assert.match(e[0].problem ?? '', /larger than 200 bytes/);
    assert.equal(e[0].line, 1);
    assert.equal(e[1].raw?.toString(), 'Subject: small\n\nok\n');
    assert.equal(e[1].line, 6);
  });

  test('a UTF-8 byte-order mark before the first separator is ignored', () => {
    const e = split(
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from('From a@b Mon Jan  2 15:04:05 2006\nSubject: bom\n\nx\n'),
      ]),
    );
    assert.equal(e.length, 1);
    assert.equal(e[0].problem, undefined);
    assert.equal(e[0].raw?.toString(), 'Subject: bom\n\nx\n');
  });

  test('a last message without a final newline is kept whole', () => {
    const e = split('From a@b Mon Jan  2 15:04:05 2006\nSubject: x\n\nno newline at end');
    assert.equal(e[0].raw?.toString(), 'Subject: x\n\nno newline at end');
  });
});
