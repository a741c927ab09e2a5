import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import PostalMime from 'postal-mime';
import { CORPUS_DIR, REPO_ROOT, needsCorpus } from '../core/test-env.ts';
import {
  base64Fragments,
  identitiesByReport,
  Redactor,
  redactedEvidenceOf,
  redactReporter,
  redactText,
  reporterIdentityOf,
  type ReporterIdentity,
} from './redact.ts';
import { DIALECTS } from '../db/test-databases.ts';
import { createTestContext } from '../app/test-context.ts';
import { newId, nowIso } from '../core/ids.ts';
import { getMessageRaw } from './store.ts';
import { parseSmsEvidence, serializeSmsEvidence } from './sms-format.ts';
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import { storeAnalysis } from '../analysis/repository.ts';

const ADDRESS = 'zoe.reportertest@example-isp.fr';
const NAME = 'Zoé Duclos-Marchetti';
const NUMBER = '+33612345678';
const IDENTITY: ReporterIdentity = { addresses: [ADDRESS], names: [NAME], numbers: [NUMBER] };

/** Every form of the identity an independent reader could find in a message. */
async function traces(raw: Buffer): Promise<string[]> {
  const found = new Set<string>();
  const md5 = createHash('md5').update(ADDRESS).digest('hex');
  const check = (text: string): void => {
    const hay = text.toLowerCase();
    if (hay.includes(ADDRESS)) found.add('address');
    if (hay.includes('zoe.reportertest')) found.add('local part');
    if (hay.includes('duclos-marchetti')) found.add('name');
    if (hay.includes(md5)) found.add('md5');
    if (
      new RegExp(
        [
          String.raw`6[\s.\-()]{0,3}1[\s.\-()]{0,3}2[\s.\-()]{0,3}3[\s.\-()]{0,3}4[\s.\-()]{0,3}5[\s.\-()]{0,3}6[\s`,
          String.raw`.\-()]{0,3}7[\s.\-()]{0,3}8`,
        ].join(''),
      ).test(hay)
    )
      found.add('number');
  };
  /** Decoded views of a text: URL-decoded, HTML entities, QP soft breaks, short base64 runs. */
  const checkDecoded = (text: string): void => {
    check(text);
    check(safeDecodeURIComponent(text));
    check(
      text
        .replace(/&#(\d+);/g, (_m, d: string) => String.fromCharCode(Number(d)))
        .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    );
    check(text.replace(/=\r?\n/g, ''));
    // Short base64 runs (tokens in links); whole base64 bodies are decoded by postal-mime.
    for (const run of new Set(text.match(/[A-Za-z0-9+/_-]{16,2000}={0,2}/g) ?? [])) {
      for (const shift of [0, 1, 2, 3])
        check(Buffer.from(run.slice(shift).replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1'));
    }
  };
  const collect = async (buf: Buffer, depth: number): Promise<void> => {
    check(buf.toString('latin1'));
    check(buf.toString('utf8'));
    if (depth > 4) return;
    const email = await PostalMime.parse(buf, {
      forceRfc822Attachments: true,
      attachmentEncoding: 'arraybuffer',
      maxNestingDepth: 20,
    });
    for (const h of email.headers) checkDecoded(h.value);
    for (const a of [email.from, email.sender, ...(email.to ?? []), ...(email.cc ?? []), ...(email.replyTo ?? [])]) {
      if (a) check(JSON.stringify(a));
    }
    checkDecoded(email.subject ?? '');
    checkDecoded(email.text ?? '');
    checkDecoded(email.html ?? '');
    for (const att of email.attachments) {
      const content = Buffer.from(typeof att.content === 'string' ? att.content : new Uint8Array(att.content));
      check(att.filename ?? '');
      check(content.toString('latin1'));
      check(content.toString('utf8'));
      if (att.mimeType === 'message/rfc822' || att.mimeType === 'message/global') await collect(content, depth + 1);
      else if (att.mimeType.startsWith('text/')) checkDecoded(content.toString('utf8'));
    }
  };
  await collect(raw, 0);
  return [...found].sort();
}

function safeDecodeURIComponent(s: string): string {
  return s.replace(/(%[0-9a-fA-F]{2})+/g, (m) => {
    try {
      return decodeURIComponent(m);
    } catch {
      return m;
    }
  });
}

/** The reporter's identity pushed into an original in the forms spam uses. */
function personalise(original: Buffer): Buffer {
  const text = original.toString('latin1');
  const headerEnd = text.search(/\r?\n\r?\n/);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const extra = [
    `X-Original-To: ${ADDRESS}`,
    `Delivered-To: ${ADDRESS.toUpperCase()}`,
    `X-Tracking: https://t.example/o?e=${encodeURIComponent(ADDRESS)}&b=${Buffer.from(`id=7;${ADDRESS}\
`).toString('base64')}&h=${createHash('md5').update(ADDRESS).digest('hex')}`,
    `X-Greeting: =?utf-8?B?${Buffer.from(`Bonjour ${NAME}`).toString('base64')}?=`,
  ].join(eol);
  if (headerEnd === -1) return original;
  return Buffer.from(`${text.slice(0, headerEnd)}${eol}${extra}${text.slice(headerEnd)}`, 'latin1');
}

/** A forward as attachment by the reporter, the attachment 8bit or base64. */
function wrap(original: Buffer, encoding: '8bit' | 'base64'): Buffer {
  const b = 'fwd-boundary-42';
  const fromName = `=?utf-8?Q?${Buffer.from(NAME)
    .toString('latin1')
    .replace(/[^A-Za-z0-9-]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}?=`;
  const head = [
    `From: ${fromName} <${ADDRESS}>`,
    'To: spam@report.test',
    'Subject: Fwd: spam',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${b}"`,
    '',
    `--${b}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    `Spam again. Call me at 06 12 34 56 78. -- ${NAME}, zoe.reporter=`,
    `test@example-isp.fr`,
    `--${b}`,
    `Content-Type: message/rfc822`,
    `Content-Transfer-Encoding: ${encoding}`,
    '',
    '',
  ].join('\r\n');
  const body =
    encoding === 'base64'
      ? `${original.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`
      : original.toString('latin1');
  return Buffer.concat([
    Buffer.from(head, 'latin1'),
    Buffer.from(body, 'latin1'),
    Buffer.from(`\r\n--${b}--\r\n`, 'latin1'),
  ]);
}

/** The analysis area's golden set, and corpus spam and ARF reports. */
function goldenSet(): { name: string; raw: Buffer }[] {
  const golden = path.join(REPO_ROOT, 'src', 'analysis', 'golden');
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.eml$/i.test(e.name)) files.push(p);
    }
  };
  if (fs.existsSync(golden)) walk(golden);
  // Besides the golden set, a wider corpus sample (spam of 2002, ARF reports, recent spam).
  if (fs.existsSync(path.join(CORPUS_DIR, 'spamassassin', 'spam'))) {
    const spam = path.join(CORPUS_DIR, 'spamassassin', 'spam');
    files.push(
      ...fs
        .readdirSync(spam)
        .filter((f) => /^\d{5}\./.test(f))
        .sort()
        .slice(0, 60)
        .map((f) => path.join(spam, f)),
    );
    const arf = path.join(CORPUS_DIR, 'sisimai', 'maildir', 'bsd');
    files.push(
      ...fs
        .readdirSync(arf)
        .filter((f) => f.startsWith('arf-'))
        .map((f) => path.join(arf, f)),
    );
    const recent = path.join(CORPUS_DIR, 'spam_archive_2023_2025', '2024');
    if (fs.existsSync(recent)) {
      const small = fs
        .readdirSync(recent)
        .filter((f) => f.endsWith('.eml') && fs.statSync(path.join(recent, f)).size < 400_000);
      files.push(
        ...small
          .sort()
          .slice(0, 30)
          .map((f) => path.join(recent, f)),
      );
    }
  }
  return files.sort().map((f) => ({ name: path.relative(REPO_ROOT, f), raw: fs.readFileSync(f) }));
}

test(
  'for every report of the golden set forwarded by a known reporter, the reporter cannot be found in the redacted ' +
    'output',
  async (t) => {
    if (!fs.existsSync(path.join(REPO_ROOT, 'src', 'analysis', 'golden')) && !needsCorpus(t, 'spamassassin/spam'))
      return;
    const set = goldenSet();
    assert.ok(set.length >= 20, `a real set (${set.length} messages)`);
    let checked = 0;
    for (const { name, raw } of set) {
      for (const encoding of ['8bit', 'base64'] as const) {
        const forwarded = wrap(personalise(raw), encoding);
        const before = createHash('sha256').update(forwarded).digest('hex');
        assert.ok((await traces(forwarded)).includes('address'), `${name}: the test input does carry the address`);
        const { raw: redacted, replacements } = redactReporter(forwarded, IDENTITY);
        assert.equal(
          createHash('sha256').update(forwarded).digest('hex'),
          before,
          `${name}: the input is not modified`,
        );
        assert.ok(replacements > 0);
        assert.deepEqual(await traces(redacted), [], `${name} (${encoding}): no trace of the reporter`);
        checked++;
      }
    }
    process.stdout.write(`# redaction checked on ${checked} forwarded messages from ${set.length} originals\n`);
  },
);

test('the redacted copy still parses, keeps the spam and only loses the identity', async () => {
  const original = Buffer.from(
    `From: Prize Dept <prize@lotto.example>\r\nTo: "${NAME}" <${ADDRESS}>\r\nSubject: You won\r\nMIME-Version: \
1.0\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(`<p>Dear \
${NAME},</p><a href="http://lotto.example/c?u=${encodeURIComponent(ADDRESS)}">claim</a>`).toString('base64')}\r\n`,
  );
  const { raw } = redactReporter(original, IDENTITY);
  const email = await PostalMime.parse(raw);
  assert.equal(email.from?.address, 'prize@lotto.example');
  assert.equal(email.subject, 'You won');
  // Percent-encoded in, percent-encoded out: the link still parses, its value is the placeholder.
  assert.match(email.html ?? '', /href="http:\/\/lotto\.example\/c\?u=x%40redacted\.invalid"/);
  assert.doesNotMatch(email.html ?? '', /Duclos|Zo/);
  assert.equal(email.to?.[0] && 'address' in email.to[0] ? email.to[0].address : '', 'x@redacted.invalid');
});

test('the local part alone is redacted when distinctive, not when it is a common word', () => {
  assert.equal(redactText('signed zoe.reportertest on the forum', IDENTITY), 'signed [redacted] on the forum');
  const common: ReporterIdentity = { addresses: ['info@example.org'], names: [], numbers: [] };
  assert.equal(redactText('more info at info@example.org', common), 'more info at x@redacted.invalid');
});

test('phone numbers are redacted in national and international formats', () => {
  for (const form of ['+33 6 12 34 56 78', '06.12.34.56.78', '0033612345678', '(0)6-12-34-56-78']) {
    assert.equal(redactText(`call ${form} now`, IDENTITY), `call [redacted-number] now`, form);
  }
  assert.equal(
    redactText('order 1612345678901 shipped', IDENTITY),
    'order 1612345678901 shipped',
    'a longer digit run is another number',
  );
});

test('base64 fragments of the address are found at every alignment', () => {
  for (const prefix of ['', 'a', 'ab', 'abc']) {
    const enc = Buffer.from(`${prefix}${ADDRESS}&x=1`).toString('base64');
    assert.ok(
      base64Fragments(ADDRESS).some((f) => enc.includes(f)),
      `prefix ${prefix.length}`,
    );
  }
});

test('the reporter identity of a report comes from its address, account and forwarding wrapper', () => {
  const id = reporterIdentityOf(
    { reporter_address: ADDRESS, context: JSON.stringify({ wrapper: { from: `"${NAME}" <${ADDRESS}>` } }) },
    { email: 'zoe@other.example', name: 'Zoé D.' },
  );
  assert.deepEqual(id.addresses, [ADDRESS, 'zoe@other.example']);
  assert.deepEqual(id.names, ['Zoé D.', NAME]);
  const sms = reporterIdentityOf({ reporter_address: NUMBER, context: null });
  assert.deepEqual(sms.numbers, [NUMBER]);
});

for (const dialect of DIALECTS) {
  test(`redactedEvidenceOf redacts a stored report for export and leaves the evidence as stored \
(${dialect})`, async (t) => {
    const app = await createTestContext(t, dialect);
    if (!app) return;
    const { ctx } = app;
    t.after(() => app.close());
    const userId = newId();
    await ctx.db
      .insertInto('users')
      .values({
        id: userId,
        email: 'zoe@other.example',
        name: NAME,
        role: 'reporter',
        password_hash: null,
        created_at: nowIso(),
        disabled_at: null,
      })
      .execute();
    const original = Buffer.from(
      `From: Prize <prize@lotto.example>\r\nTo: ${NAME} <zoe@other.example>\r\nSubject: You won\r\n\r\nDear \
${NAME.split(' ')[0]}, claim at http://lotto.example/?r=${encodeURIComponent('zoe@other.example')}\r\n`,
    );
    const [mail, sms] = await ctx.writer.submit([
      { raw: original, channel: 'smtp', reporterAddress: ADDRESS, reporterUserId: userId },
      {
        raw: serializeSmsEvidence({
          sender: '+33611111111',
          text: `Bonjour ${NAME}, votre colis attend`,
          receivedAt: null,
        }),
        kind: 'sms',
        channel: 'sms',
        reporterAddress: NUMBER,
        reporterUserId: userId,
      },
    ]);
    const out = await redactedEvidenceOf(ctx.db, mail.id);
    assert.ok(out);
    assert.equal(out.kind, 'email');
    const text = out.raw.toString('utf8');
    assert.doesNotMatch(text, /zoe|Duclos|Zoé/i);
    assert.match(text, /^From: Prize <prize@lotto\.example>/);
    const stored = await getMessageRaw(ctx.db, mail.sha256);
    assert.ok(stored?.equals(original), 'the evidence is unchanged');
    const smsOut = await redactedEvidenceOf(ctx.db, sms.id);
    assert.equal(smsOut?.kind, 'sms');
    assert.equal(parseSmsEvidence(smsOut?.raw ?? Buffer.alloc(0))?.text, 'Bonjour [redacted], votre colis attend');
    assert.equal(await redactedEvidenceOf(ctx.db, 'no-such-report'), null);
  });
}

test('names whose accent folding changes the spelling are redacted as written: ø, ß, Cyrillic й and ё, Hangul', () => {
  for (const [name, text] of [
    ['Søren Kierkegaard', 'Dear Søren Kierkegaard, SØREN'],
    ['Anna Strauß', 'Hallo Anna Strauß'],
    ['Сергей Королёв', 'Здравствуйте, Сергей Королёв! СЕРГЕЙ'],
    ['김민준', '김민준 고객님'],
  ] as const) {
    const raw = Buffer.from(
      `From: a@b.example\r\nTo: "${name}" <x@y.example>\r\nSubject: ${text}\r\nMIME-Version: 1.0\r\n` +
        `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n`,
      'utf8',
    );
    const out = redactReporter(raw, { addresses: [], names: [name], numbers: [] }).raw.toString('utf8');
    for (const word of name.split(' ')) {
      assert.ok(!out.includes(word), `${word} left in:\n${out}`);
      assert.ok(!out.includes(word.toUpperCase()), `${word.toUpperCase()} left in:\n${out}`);
    }
  }
});

test('a redirect’s copies leave out the way from the reporter to us, and its spam’s sender is not the reporter', () => {
  const context = JSON.stringify({ how: 'resent', wrapper: { from: '"Invoices" <billing@shop.example>' } });
  const id = reporterIdentityOf({ reporter_address: 'lea.martin@gmail.com', context });
  assert.deepEqual(id, { addresses: ['lea.martin@gmail.com'], names: [], numbers: [], redirect: true });
  const spam =
    'Received: from bot.example (bot.example [198.51.100.9]) by mx.google.com with ESMTP id 2\r\n' +
    'From: "Invoices" <billing@shop.example>\r\nTo: lea.martin@gmail.com\r\nSubject: Your invoice\r\n\r\npay now\r\n';
  const raw = Buffer.from(
    'Received: from mail-ed1-f44.google.com ([209.85.208.44]) by intake.example with ESMTPS id R1\r\n' +
      'Received: from [192.168.178.23] (p5b0d1234.dip0.t-ipconnect.de. [91.13.18.52])\r\n' +
      '\tby smtp.gmail.com with ESMTPSA id y2\r\n' +
      'X-Originating-IP: 91.13.18.52\r\n' +
      'Resent-From: Lea Martin <lea.martin@gmail.com>\r\nResent-Date: Tue, 14 Feb 2023 10:00:02 +0100\r\n' +
      spam,
    'latin1',
  );
  const out = redactReporter(raw, id).raw.toString('latin1');
  assert.doesNotMatch(out, /91\.13\.18\.52|t-ipconnect|smtp\.gmail\.com|intake\.example/);
  assert.match(out, /^Resent-From: /);
  assert.match(out, /bot\.example \[198\.51\.100\.9\]/);
  assert.match(out, /billing@shop\.example/, 'the spam’s sender stays');
  assert.doesNotMatch(out, /lea\.martin/);
  // Not a redirect: the header is kept whole.
  const plain = reporterIdentityOf({ reporter_address: 'lea.martin@gmail.com', context: '{"how":"attached"}' });
  assert.match(redactReporter(raw, plain).raw.toString('latin1'), /^Received: from mail-ed1-f44/);
});

test('a feedback report’s complainant (Original-Rcpt-To) is part of the reporter’s identity', () => {
  const context = JSON.stringify({ how: 'arf', arf: { originalRcptTo: ['complainant@isp.example'] } });
  const id = reporterIdentityOf({ reporter_address: 'fbl@isp.example', context });
  assert.deepEqual(id.addresses, ['fbl@isp.example', 'complainant@isp.example']);
});

for (const dialect of DIALECTS) {
  test(`the reporter's own mail servers' addresses leave no copy when their domain is their own, and the origin \
stays (${dialect})`, async (t) => {
    if (!needsCorpus(t, 'trec07p/data')) return;
    const app = await createTestContext(t, dialect);
    if (!app) return;
    const { ctx } = app;
    t.after(() => app.close());
    // Received at the University of Waterloo: plg2.math.uwaterloo.ca [129.97.186.80] is its own relay, the
    // Comcast address below it the origin.
    const raw = fs.readFileSync(path.join(CORPUS_DIR, 'trec07p', 'data', 'inmail.1007'));
    const [own, shared] = await ctx.writer.submit([
      { raw, channel: 'smtp', reporterAddress: 'the00@plg.uwaterloo.ca' },
      { raw, channel: 'smtp', reporterAddress: 'someone@gmail.com' },
    ]);
    const analysis = await analyse(raw, { ports: offlinePorts(), settings: defaultAnalysisSettings({}) });
    assert.equal(analysis.traceback.origin?.ip, '67.168.59.15');
    await storeAnalysis(ctx.db, analysis, 0);
    const ids = await identitiesByReport(ctx.db, [own.id, shared.id], { mailServers: true });
    assert.deepEqual(ids.get(own.id)?.hostAddresses, ['129.97.186.80']);
    assert.equal(ids.get(shared.id)?.hostAddresses, undefined, 'a shared provider’s user names no server of theirs');
    assert.equal((await identitiesByReport(ctx.db, [own.id])).get(own.id)?.hostAddresses, undefined);
    const out = await redactedEvidenceOf(ctx.db, own.id);
    const text = out?.raw.toString('latin1') ?? '';
    assert.ok(!text.includes('129.97.186.80'), 'the relay’s address is gone from the copy');
    assert.match(text, /\[redacted-ip\]/);
    assert.match(text, /c-67-168-59-15\.hsd1\.wa\.comcast\.net \[67\.168\.59\.15\]/, 'the origin stays');
    assert.match(analysis.traceback.steps.join('\n'), /129\.97\.186\.80/, 'the walk’s text names the relay');
    const steps = new Redactor(ids.get(own.id) ?? IDENTITY).string(analysis.traceback.steps.join('\n'));
    assert.ok(!steps.includes('129.97.186.80') && steps.includes('67.168.59.15'), steps);
  });
}
