import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { createContext, closeContext } from '../../app/context.ts';
import { createTestDatabase, DIALECTS } from '../../db/test-databases.ts';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { sha256Hex } from '../../core/ids.ts';
import { isAppError } from '../../core/errors.ts';
import { decodeContent, getMessageRaw } from '../../evidence/store.ts';
import type { DnsResolver } from '../../analysis/stage.ts';
import { StaticZoneResolver } from '../../analysis/ports/dns-static-zone.ts';
import { MailThreads } from './mail-threads.ts';
import { INLINE_MAX_BYTES, takeApart, type Envelope } from './take-apart.ts';
import { SmtpIntake } from './smtp-intake.ts';

const SPAM_DIR = path.join(CORPUS_DIR, 'spamassassin', 'spam');
const ZONE = { 'example.org': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] } };
const ENV: Envelope = {
  mailFrom: 'alice@example.org',
  rcptTo: ['spam@report.test'],
  clientIp: '127.0.0.1',
  heloName: 'mail.example.org',
  tls: false,
};

/** A corpus spam (CRLF, as SMTP carries it). */
function smallSpam(): Buffer {
  const name = fs
    .readdirSync(SPAM_DIR)
    .filter((f) => /^\d{5}\./.test(f))
    .sort()[3];
  return Buffer.from(fs.readFileSync(path.join(SPAM_DIR, name)).toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

/** A corpus spam padded past the inline bound with text lines. */
function largeSpam(): Buffer {
  const spam = smallSpam().toString('latin1');
  const pad = 'more words of the same spam, again and again, to make it large\r\n'.repeat(
    Math.ceil((2 * INLINE_MAX_BYTES) / 64),
  );
  return Buffer.from(`${spam}\r\n${pad}`, 'latin1');
}

/** A forward-as-attachment wrapper (RFC 2046 §5.2.1) with a note and an Auto-Submitted field. */
function forward(original: Buffer): Buffer {
  const b = 'mail-thread-test-boundary';
  return Buffer.concat([
    Buffer.from(
      `From: Alice <alice@example.org>\r\nTo: spam@report.test\r\nSubject: Fwd: look at this\r\nMessage-ID: \
<fwd-1@example.org>\r\nAuto-Submitted: no\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${b}"\r\n\
\r\n--${b}\r\nContent-Type: text/plain\r\n\r\nThis one again.\r\n--${b}\r\nContent-Type: message/rfc822\r\n\
Content-Disposition: attachment; filename="spam.eml"\r\n\r\n`,
      'latin1',
    ),
    original,
    Buffer.from(`\r\n--${b}--\r\n`, 'latin1'),
  ]);
}

/** A resolver that never answers: the forwarder check waits (up to its own 5 s bound). */
const SILENT: DnsResolver = {
  resolveTxt: () => new Promise(() => undefined),
  resolveMx: () => new Promise(() => undefined),
  resolve4: () => new Promise(() => undefined),
  resolve6: () => new Promise(() => undefined),
  resolvePtr: () => new Promise(() => undefined),
  resolveCname: () => new Promise(() => undefined),
  resolveNs: () => new Promise(() => undefined),
};

test('a large forward taken apart in a mail thread gives what the SMTP thread gives, its original hashed and \
compressed, DNS answered from the SMTP thread', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const original = largeSpam();
  const mail = forward(original);
  const threads = new MailThreads({ size: 1 });
  t.after(() => threads.close());
  const inline = await takeApart(Buffer.from(mail), ENV, [], new StaticZoneResolver(ZONE), false);
  const moved = Buffer.from(mail);
  const viaThread = await threads.takeApart(moved, ENV, [], new StaticZoneResolver(ZONE));
  // The bytes moved to the thread rather than being copied.
  assert.equal(moved.byteLength, 0);
  assert.equal(threads.stats.mails, 1);
  // SPF passed only if the thread's lookups reached the static zone through the SMTP thread.
  assert.equal(viaThread.reporterAuth.verified, true);
  assert.equal(viaThread.reporterAuth.method, 'spf');
  assert.deepEqual(viaThread.reporterAuth, inline.reporterAuth);
  assert.deepEqual(viaThread.extraction.wrapper, inline.extraction.wrapper);
  assert.equal(viaThread.extraction.wrapper.sha256, sha256Hex(mail));
  assert.equal(viaThread.extraction.note, 'This one again.');
  assert.equal(viaThread.autoSubmitted, 'no');
  assert.equal(viaThread.reporterAddress, 'alice@example.org');
  assert.equal(viaThread.extraction.originals.length, 1);
  const [o] = viaThread.extraction.originals;
  const [i] = inline.extraction.originals;
  assert.ok(o.prepared && i.raw);
  assert.equal(o.how, 'attached');
  assert.equal(o.filename, 'spam.eml');
  assert.equal(o.prepared.sha256, sha256Hex(i.raw));
  assert.equal(o.prepared.size, i.raw.length);
  assert.ok(o.prepared.content.length < i.raw.length, 'the padded spam compresses');
  assert.ok(decodeContent(o.prepared.codec, o.prepared.content, o.prepared.size).equals(i.raw));
  assert.ok(i.raw.equals(original), 'the original is stored byte for byte');
});

test('a mail refused in its thread is refused with its own reason (554, no attached message)', async (t) => {
  const threads = new MailThreads({ size: 1 });
  t.after(() => threads.close());
  const plain = Buffer.from(
    `From: bob@example.org\r\nTo: spam@report.test\r\nSubject: hello\r\n\r\n${'just text\r\n'.repeat(20_000)}`,
  );
  await assert.rejects(threads.takeApart(plain, ENV, [], new StaticZoneResolver(ZONE)), (e: unknown) => {
    assert.ok(isAppError(e));
    assert.equal(e.code, 'NO_ATTACHED_MESSAGE');
    assert.equal(e.smtp, 554);
    return true;
  });
  assert.equal(threads.stats.killed, 0, 'a refusal does not end the thread');
  assert.equal(threads.running, 1);
});

test('a mail past its time bound ends its thread and is refused 451 (retry later); the next mail gets a new \
thread', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  // The silent resolver holds the forwarder check for 5 s, past the 3 s bound; the next mail is a
  // small one, well within it even on a loaded machine.
  const threads = new MailThreads({ size: 1, timeoutMs: 3000 });
  t.after(() => threads.close());
  const stuck = threads.takeApart(forward(largeSpam()), ENV, [], SILENT);
  const next = threads.takeApart(forward(smallSpam()), ENV, [], new StaticZoneResolver(ZONE));
  await assert.rejects(stuck, (e: unknown) => {
    assert.ok(isAppError(e));
    assert.equal(e.code, 'UNAVAILABLE');
    assert.equal(e.smtp, 451);
    assert.match(e.message, /within 3 s; nothing was stored, try again later/);
    return true;
  });
  const ok = await next;
  assert.equal(ok.reporterAuth.verified, true);
  assert.equal(threads.stats.killed, 1);
  assert.equal(threads.stats.mails, 1);
});

test('an idle mail thread ends (its memory goes with it) and the next mail starts a new one', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const threads = new MailThreads({ size: 1, idleMs: 100 });
  t.after(() => threads.close());
  await threads.takeApart(forward(largeSpam()), ENV, [], new StaticZoneResolver(ZONE));
  assert.equal(threads.running, 1);
  for (let i = 0; i < 100 && threads.running > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(threads.running, 0);
  assert.equal(threads.stats.idleEnded, 1);
  const again = await threads.takeApart(forward(largeSpam()), ENV, [], new StaticZoneResolver(ZONE));
  assert.equal(again.extraction.originals.length, 1);
  assert.equal(threads.stats.mails, 2);
});

for (const dialect of DIALECTS) {
  test(`a large forward over SMTP is taken apart in a mail thread and stored byte for byte, attributed to its \
proved forwarder (${dialect})`, async (t) => {
    if (!needsCorpus(t, 'spamassassin/spam')) return;
    const tdb = await createTestDatabase(t, dialect, { smtpPort: 0, publicUrl: 'https://spamdesk.test' });
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, migrate: false });
    const intake = await new SmtpIntake(ctx, { ackSender: null, dns: new StaticZoneResolver(ZONE) }).start();
    const tr = nodemailer.createTransport({
      host: '127.0.0.1',
      port: intake.address().port,
      secure: false,
      ignoreTLS: true,
    });
    t.after(async () => {
      tr.close();
      await intake.stop();
      await closeContext(ctx, { keepDb: true });
      await tdb.drop();
    });
    const original = largeSpam();
    const info = await tr.sendMail({
      envelope: { from: 'alice@example.org', to: ['spam@report.test'] },
      raw: forward(original),
    });
    assert.match(info.response, /^250 .*Stored 1 report/);
    assert.equal(intake.mailThreads.stats.mails, 1, 'taken apart in a mail thread');
    const rows = await ctx.db.selectFrom('reports').selectAll().execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0].channel, 'smtp');
    assert.equal(rows[0].reporter_address, 'alice@example.org');
    const raw = await getMessageRaw(ctx.db, rows[0].message_sha256);
    assert.ok(raw?.equals(original));
    const context = JSON.parse(String(rows[0].context)) as { how: string; reporterAuth: { verified: boolean } };
    assert.equal(context.how, 'attached');
    assert.equal(context.reporterAuth.verified, true);
  });
}
