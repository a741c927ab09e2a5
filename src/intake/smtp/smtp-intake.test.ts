import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { createContext, closeContext, type AppContext } from '../../app/context.ts';
import { createTestDatabase, DIALECTS } from '../../db/test-databases.ts';
import { CORPUS_DIR, hasCommand, needs, needsCorpus } from '../../core/test-env.ts';
import { getMessageRaw } from '../../evidence/store.ts';
import { newId, nowIso } from '../../core/ids.ts';
import { SmtpIntake, type SmtpIntakeOptions } from './smtp-intake.ts';
import type { Ack } from './ack.ts';
import type { DialectName } from '../../db/dialect.ts';
import type { Config } from '../../core/config.ts';
import { StaticZoneResolver, type Zone } from '../../analysis/ports/dns-static-zone.ts';
import crypto from 'node:crypto';

const SPAM_DIR = path.join(CORPUS_DIR, 'spamassassin', 'spam');
const ARF_DIR = path.join(CORPUS_DIR, 'sisimai', 'maildir', 'bsd');

function spam(n: number): Buffer {
  const files = fs
    .readdirSync(SPAM_DIR)
    .filter((f) => /^\d{5}\./.test(f))
    .sort();
  return fs.readFileSync(path.join(SPAM_DIR, files[n]));
}

/** SMTP carries CRLF; an 8bit attachment arrives with its lines in CRLF. */
function crlf(b: Buffer): Buffer {
  return Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

interface Harness {
  ctx: AppContext;
  intake: SmtpIntake;
  port: number;
  transport(opts?: Record<string, unknown>): nodemailer.Transporter;
}

/**
 * DNS the forwarder checks see: example.org (the domain most tests forward from) authorises the
 * loopback client by SPF, so its From addresses are proved; see the forwarder tests for the rest.
 */
const ZONE: Zone = {
  'example.org': { TXT: [['v=spf1 ip4:127.0.0.1 ip6:::1 -all']] },
  'example.net': { TXT: [['v=spf1 ip4:192.0.2.1 -all']] },
};

async function harness(
  t: TestContext,
  dialect: DialectName = 'sqlite',
  overrides: Partial<Record<keyof Config, unknown>> = {},
  opts: SmtpIntakeOptions = {},
): Promise<Harness | null> {
  const tdb = await createTestDatabase(t, dialect, { smtpPort: 0, publicUrl: 'https://spamdesk.test', ...overrides });
  if (!tdb) return null;
  const ctx = await createContext(tdb.config, { db: tdb.db, migrate: false });
  const intake = await new SmtpIntake(ctx, { ackSender: null, dns: new StaticZoneResolver(ZONE), ...opts }).start();
  const port = intake.address().port;
  const transports: nodemailer.Transporter[] = [];
  t.after(async () => {
    for (const tr of transports) tr.close();
    await intake.stop();
    await closeContext(ctx, { keepDb: true });
    await tdb.drop();
  });
  return {
    ctx,
    intake,
    port,
    transport(o = {}) {
      const tr = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, ...o });
      transports.push(tr);
      return tr;
    },
  };
}

async function reportsOf(ctx: AppContext) {
  return ctx.db.selectFrom('reports').selectAll().orderBy('id').execute();
}

for (const dialect of DIALECTS) {
  test(`a spam forwarded as attachment becomes a report by the forwarding user, byte for byte \
(${dialect})`, async (t) => {
    if (!needsCorpus(t, 'spamassassin/spam')) return;
    const h = await harness(t, dialect);
    if (!h) return;
    const userId = newId();
    await h.ctx.db
      .insertInto('users')
      .values({
        id: userId,
        email: 'alice@example.org',
        name: 'Alice Reporter',
        role: 'reporter',
        password_hash: null,
        created_at: nowIso(),
        disabled_at: null,
      })
      .execute();
    const original = spam(0);
    const info = await h.transport().sendMail({
      from: 'Alice Reporter <alice@example.org>',
      to: 'spam@report.test',
      subject: 'Fwd: spam',
      text: 'Got this again.',
      attachments: [{ content: original, contentType: 'message/rfc822', filename: 'spam.eml' }],
    });
    assert.match(info.response, /^250 .*Stored 1 report/);
    const [r] = await reportsOf(h.ctx);
    assert.equal(r.channel, 'smtp');
    assert.equal(r.quality, 'full');
    assert.equal(r.reporter_address, 'alice@example.org');
    assert.equal(r.reporter_user_id, userId);
    assert.equal(r.note, 'Got this again.');
    const stored = await getMessageRaw(h.ctx.db, r.message_sha256);
    assert.ok(stored);
    assert.ok(stored.equals(crlf(original)), 'the stored original is the attached message, byte for byte');
    const context = JSON.parse(r.context ?? '{}');
    assert.equal(context.how, 'attached');
    assert.equal(context.wrapper.subject, 'Fwd: spam');
    assert.equal(context.smtp.mailFrom, 'alice@example.org');
    const jobs = await h.ctx.db.selectFrom('jobs').select(['kind', 'payload']).execute();
    assert.deepEqual(
      jobs.map((j) => j.kind),
      ['analyse-report'],
    );
  });
}

test('several attached originals in one mail become several reports, all or nothing', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const h = await harness(t);
  if (!h) return;
  const originals = [spam(1), spam(2), spam(3)];
  const info = await h.transport().sendMail({
    from: 'bob@example.net',
    to: 'spam@report.test',
    subject: 'three spams',
    text: 'three',
    attachments: originals.map((content, i) => ({ content, contentType: 'message/rfc822', filename: `s${i}.eml` })),
  });
  assert.match(info.response, /Stored 3 reports/);
  const rows = await reportsOf(h.ctx);
  assert.equal(rows.length, 3);
  for (const [i, r] of rows.entries()) {
    const stored = await getMessageRaw(h.ctx.db, r.message_sha256);
    assert.ok(stored?.equals(crlf(originals[i])), `original ${i} stored exactly`);
    assert.equal(JSON.parse(r.context ?? '{}').part.of, 3);
  }
});

test('a base64-encoded attached message is stored as the decoded exact bytes', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const h = await harness(t);
  if (!h) return;
  const original = spam(4);
  await h.transport().sendMail({
    from: 'carol@example.net',
    to: 'spam@report.test',
    subject: 'fw',
    text: '',
    attachments: [
      {
        content: original,
        contentType: 'message/rfc822',
        filename: 'x.eml',
        encoding: 'base64',
        contentTransferEncoding: 'base64',
      },
    ],
  });
  const [r] = await reportsOf(h.ctx);
  const stored = await getMessageRaw(h.ctx.db, r.message_sha256);
  assert.ok(stored?.equals(original), 'LF line endings and all: base64 preserves the exact bytes');
});

test('an ARF feedback report becomes an arf report with its feedback type', async (t) => {
  if (!needsCorpus(t, 'sisimai/maildir/bsd')) return;
  const h = await harness(t);
  if (!h) return;
  const arf = fs.readFileSync(path.join(ARF_DIR, 'arf-16.eml'));
  await h.transport().sendMail({ envelope: { from: 'fbl@returnpath.example', to: ['fbl@report.test'] }, raw: arf });
  const [r] = await reportsOf(h.ctx);
  assert.equal(r.channel, 'arf');
  const context = JSON.parse(r.context ?? '{}');
  assert.equal(context.feedbackType, 'abuse');
  assert.equal(context.arf.sourceIp, '192.0.2.1');
  assert.deepEqual(context.arf.reportedDomain, ['example.com', 'example.org']);
  const stored = (await getMessageRaw(h.ctx.db, r.message_sha256))?.toString('latin1') ?? '';
  assert.doesNotMatch(stored, /message\/feedback-report/i, 'the stored evidence is the original, not the report');
});

test('an inline forward is accepted as a lower-quality report with the original headers recovered', async (t) => {
  const h = await harness(t);
  if (!h) return;
  const text = [
    'Look at this one.',
    '',
    '---------- Forwarded message ---------',
    'From: Lottery Board <winner@lotto.example>',
    'Date: Mon, 2 Nov 2026 10:00:00 +0100',
    'Subject: You won 1,000,000 EUR',
    'To: <dave@example.org>',
    '',
    'Claim your prize at http://lotto.example/claim now.',
  ].join('\n');
  await h
    .transport()
    .sendMail({ from: 'Dave <dave@example.org>', to: 'spam@report.test', subject: 'Fwd: You won', text });
  const [r] = await reportsOf(h.ctx);
  assert.equal(r.quality, 'inline');
  assert.equal(r.note, 'Look at this one.');
  const stored = (await getMessageRaw(h.ctx.db, r.message_sha256))?.toString('utf8') ?? '';
  assert.match(stored, /^X-Spamdesk-Recovered: inline-forward/);
  assert.match(stored, /\r\nFrom: Lottery Board <winner@lotto.example>\r\n/);
  assert.match(stored, /\r\nSubject: You won 1,000,000 EUR\r\n/);
  assert.match(stored, /\r\n\r\nClaim your prize at http:\/\/lotto\.example\/claim now\./);
});

test(
  'refusals carry their reason: no attached message (554), not an e-mail (550), too large (552, SIZE in ' + 'EHLO)',
  async (t) => {
    const h = await harness(t, 'sqlite', { maxMessageBytes: 20_000 });
    if (!h) return;
    const tr = h.transport();
    await assert.rejects(
      tr.sendMail({
        from: 'e@example.org',
        to: 'spam@report.test',
        subject: 'hello',
        text: 'just a note, nothing attached',
      }),
      (e: Error & { responseCode?: number }) => e.responseCode === 554 && /No attached message found/.test(e.message),
    );
    await assert.rejects(
      tr.sendMail({
        envelope: { from: 'e@example.org', to: ['spam@report.test'] },
        raw: 'this is not a mail at all\r\nno headers\r\n',
      }),
      (e: Error & { responseCode?: number }) => e.responseCode === 550 && /not an e-mail/.test(e.message),
    );
    await assert.rejects(
      tr.sendMail({ from: 'e@example.org', to: 'spam@report.test', subject: 'big', text: 'x'.repeat(50_000) }),
      (e: Error & { responseCode?: number }) => e.responseCode === 552 && /20000/.test(e.message),
    );
    const ehlo = await rawSmtp(h.port, ['EHLO client.test', 'QUIT']);
    assert.match(ehlo, /250[- ]SIZE 20000/);
    assert.doesNotMatch(ehlo, /STARTTLS/, 'no certificate configured: no STARTTLS');
    assert.equal((await reportsOf(h.ctx)).length, 0);
  },
);

test('a client over its per-minute limit gets a temporary 451 and nothing is stored', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const h = await harness(t, 'sqlite', { smtpRateLimit: 2 });
  if (!h) return;
  const tr = h.transport();
  const send = () =>
    tr.sendMail({
      from: 'f@example.org',
      to: 'spam@report.test',
      subject: 's',
      text: '',
      attachments: [{ content: spam(5), contentType: 'message/rfc822' }],
    });
  await send();
  await send();
  await assert.rejects(
    send(),
    (e: Error & { responseCode?: number }) => e.responseCode === 451 && /Rate limit/.test(e.message),
  );
  assert.equal((await reportsOf(h.ctx)).length, 2, 'the refused third mail stored nothing');
});

test('a mail that cannot be committed gets 451 and no 250', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const h = await harness(t);
  if (!h) return;
  await h.ctx.writer.close();
  await assert.rejects(
    h.transport().sendMail({
      from: 'g@example.org',
      to: 'spam@report.test',
      subject: 's',
      text: '',
      attachments: [{ content: spam(6), contentType: 'message/rfc822' }],
    }),
    (e: Error & { responseCode?: number }) => e.responseCode === 451,
  );
});

test('STARTTLS is offered when a certificate is configured and the report records it', async (t) => {
  if (!needs(t, 'openssl', hasCommand('openssl'), 'apt-get install openssl')) return;
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-tls-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ],
    { stdio: 'ignore' },
  );
  const h = await harness(t, 'sqlite', { smtpTlsCert: cert, smtpTlsKey: key });
  if (!h) return;
  await h.transport({ ignoreTLS: false, requireTLS: true, tls: { rejectUnauthorized: false } }).sendMail({
    from: 'h@example.org',
    to: 'spam@report.test',
    subject: 's',
    text: '',
    attachments: [{ content: spam(7), contentType: 'message/rfc822' }],
  });
  const [r] = await reportsOf(h.ctx);
  assert.equal(JSON.parse(r.context ?? '{}').smtp.tls, true);
});

test(
  'without a configured certificate STARTTLS is refused even when a client sends it, and the report says tls: ' +
    'false',
  async (t) => {
    if (!needs(t, 'swaks', hasCommand('swaks'), 'apt-get install swaks')) return;
    if (!needsCorpus(t, 'spamassassin/spam')) return;
    const h = await harness(t);
    if (!h) return;
    // A client that insists on STARTTLS although EHLO does not offer it (smtp-server used to accept
    // it on its bundled expired certificate).
    const forced = await rawSmtp(h.port, ['EHLO client.test', 'STARTTLS', 'QUIT']);
    assert.doesNotMatch(forced, /^220 .*TLS/m, forced);
    assert.match(forced, /^5\d\d .*\r\n221 /m, 'STARTTLS answered with a permanent error');
    // swaks with --tls gives up rather than send in clear text; with --tls-optional it goes on unencrypted.
    const msg = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-notls-')), 'm.eml');
    t.after(() => fs.rmSync(path.dirname(msg), { recursive: true, force: true }));
    fs.writeFileSync(
      msg,
      Buffer.concat([
        Buffer.from(
          'From: n@example.org\r\nTo: spam@report.test\r\nSubject: fw\r\nMIME-Version: 1.0\r\nContent-Type: ' +
            'message/rfc822\r\n\r\n',
        ),
        crlf(spam(8)),
      ]),
    );
    // Asynchronous: the server answers from this very event loop.
    const swaks = (extra: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        execFile(
          'swaks',
          [
            '--server',
            `127.0.0.1:${h.port}`,
            '--from',
            'n@example.org',
            '--to',
            'spam@report.test',
            '--data',
            `@${msg}`,
            ...extra,
          ],
          (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout }),
        );
      });
    assert.notEqual((await swaks(['--tls'])).code, 0);
    assert.equal((await reportsOf(h.ctx)).length, 0);
    const plain = await swaks(['--tls-optional']);
    assert.equal(plain.code, 0, plain.out);
    const [r] = await reportsOf(h.ctx);
    assert.equal(JSON.parse(r.context ?? '{}').smtp.tls, false);
  },
);

test(
  'the reporter gets an acknowledgement with the tracking link through the relay, never the null ' + 'sender',
  async (t) => {
    if (!needsCorpus(t, 'spamassassin/spam')) return;
    const received: Buffer[] = [];
    const sink = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      onData(stream, _s, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          received.push(Buffer.concat(chunks));
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', () => resolve()));
    t.after(() => new Promise<void>((resolve) => sink.close(() => resolve())));
    const sinkAddr = sink.server.address();
    assert.ok(sinkAddr && typeof sinkAddr === 'object');
    const h = await harness(
      t,
      'sqlite',
      {
        smtpAckEnabled: true,
        smtpAckRelayUrl: `smtp://127.0.0.1:${sinkAddr.port}`,
        smtpAckFrom: 'Spamdesk <noreply@spamdesk.test>',
      },
      { ackSender: undefined },
    );
    if (!h) return;
    const tr = h.transport();
    await tr.sendMail({
      from: 'ivy@example.org',
      to: 'spam@report.test',
      subject: 'Fwd: offer',
      text: '',
      attachments: [{ content: spam(8), contentType: 'message/rfc822' }],
    });
    await tr.sendMail({
      envelope: { from: '', to: ['spam@report.test'] },
      from: 'MAILER-DAEMON@example.org',
      to: 'spam@report.test',
      subject: 'bounce',
      text: '',
      attachments: [{ content: spam(9), contentType: 'message/rfc822' }],
    });
    await h.intake.stop();
    assert.equal(received.length, 1, 'one acknowledgement, none for the mailer daemon');
    const ack = received[0].toString('utf8');
    const [r] = await reportsOf(h.ctx);
    assert.match(ack, /^To: ivy@example\.org/m);
    assert.match(ack, /^Auto-Submitted: auto-replied/m);
    // The text may be quoted-printable (the acknowledgement is in the instance's language, with
    // accents): undo its soft line breaks before looking for the link.
    assert.ok(
      ack.replace(/=\r?\n/g, '').includes(`https://spamdesk.test/track/${r.tracking_token}`),
      'the tracking link is in the acknowledgement',
    );
  },
);

test('acknowledgements go through an injected sender (the outbox can take them over)', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const acks: Ack[] = [];
  const h = await harness(t, 'sqlite', {}, { ackSender: { send: async (a) => void acks.push(a) } });
  if (!h) return;
  await h.transport().sendMail({
    from: 'Jo <jo@example.org>',
    to: 'spam@report.test',
    subject: 'x',
    text: '',
    attachments: [{ content: spam(10), contentType: 'message/rfc822' }],
  });
  await h.intake.stop();
  assert.equal(acks.length, 1);
  assert.equal(acks[0].to, 'jo@example.org');
  assert.equal(acks[0].reports.length, 1);
});

/** Speaks SMTP line by line and returns the whole transcript. */
async function rawSmtp(port: number, lines: string[]): Promise<string> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    let i = 0;
    sock.on('data', (d) => {
      out += d.toString('latin1');
      if (/^\d{3} /m.test(out.split('\r\n').filter(Boolean).slice(-1)[0] ?? '') && i < lines.length)
        sock.write(`${lines[i++]}\r\n`);
    });
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
  });
}

test('a client resending the same mail after a lost 250 does not create a second report', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const h = await harness(t);
  if (!h) return;
  const wrapper = Buffer.concat([
    Buffer.from(
      'From: kim@example.org\r\nTo: spam@report.test\r\nSubject: fw\r\nMessage-ID: ' +
        '<retry-1@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n',
    ),
    crlf(spam(11)),
  ]);
  const tr = h.transport();
  const first = await tr.sendMail({ envelope: { from: 'kim@example.org', to: ['spam@report.test'] }, raw: wrapper });
  const second = await tr.sendMail({ envelope: { from: 'kim@example.org', to: ['spam@report.test'] }, raw: wrapper });
  const ids = (s: string) => s.replace(/^.*: /, '');
  assert.equal(ids(first.response), ids(second.response));
  assert.equal((await reportsOf(h.ctx)).length, 1);
});

test('hostile mails get a reasoned refusal and the server keeps serving', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const h = await harness(t);
  if (!h) return;
  const tr = h.transport();
  const send = (raw: Buffer) => tr.sendMail({ envelope: { from: 'm@example.org', to: ['spam@report.test'] }, raw });
  const binary = Buffer.alloc(4096);
  for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919) % 256;
  await assert.rejects(send(binary), (e: Error & { responseCode?: number }) => e.responseCode === 550);
  // An attachment claiming to be a message that is not one.
  const fake = Buffer.from(
    'From: m@example.org\r\nSubject: fw\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; ' +
      'boundary=q\r\n\r\n--q\r\nContent-Type: message/rfc822\r\n\r\n\x00\x01\x02 garbage\r\n--q--\r\n',
    'latin1',
  );
  await assert.rejects(
    send(fake),
    (e: Error & { responseCode?: number }) => e.responseCode === 554 && /No attached message/.test(e.message),
  );
  // 3,000 nested multiparts with the spam at the bottom: bounded depth, answered, nothing crashes.
  let nested = 'From: m@example.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\n';
  for (let i = 0; i < 3000; i++) nested += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
  await assert.rejects(
    send(Buffer.from(`${nested}Content-Type: message/rfc822\r\n\r\n${crlf(spam(12)).toString('latin1')}`, 'latin1')),
    (e: Error & { responseCode?: number }) => e.responseCode === 554,
  );
  const ok = await tr.sendMail({
    from: 'm@example.org',
    to: 'spam@report.test',
    subject: 'fw',
    text: '',
    attachments: [{ content: spam(13), contentType: 'message/rfc822' }],
  });
  assert.match(ok.response, /^250 /);
});

test('a client over its connection limit gets 421, and a closed connection frees its place', async (t) => {
  const h = await harness(t, 'sqlite', { smtpMaxConnectionsPerClient: 2 });
  if (!h) return;
  const net = await import('node:net');
  const open = () =>
    new Promise<{ sock: import('node:net').Socket; greeting: string }>((resolve, reject) => {
      const sock = net.connect(h.port, '127.0.0.1');
      sock.once('data', (d) => resolve({ sock, greeting: d.toString('latin1') }));
      sock.once('error', reject);
    });
  const closed = (sock: import('node:net').Socket) =>
    new Promise<void>((resolve) => sock.once('close', () => resolve()));
  const a = await open();
  const b = await open();
  assert.match(a.greeting, /^220 /);
  assert.match(b.greeting, /^220 /);
  const c = await open();
  assert.match(c.greeting, /^421 .*Too many connections/);
  c.sock.destroy();
  const bClosed = closed(b.sock);
  b.sock.end('QUIT\r\n');
  await bClosed;
  // The refused connection's close must not free a second place: still one free, not two.
  await new Promise((r) => setTimeout(r, 50));
  const d = await open();
  assert.match(d.greeting, /^220 /);
  const e = await open();
  assert.match(e.greeting, /^421 /);
  for (const s of [a, d, e]) s.sock.destroy();
});

/** Opens a raw connection from `localAddress` (any of 127/8) and resolves with its greeting. */
async function idleFrom(
  port: number,
  localAddress: string,
): Promise<{ sock: import('node:net').Socket; greeting: string; said(): string; closed: Promise<void> }> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress });
    let all = '';
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.on('data', (d: Buffer) => (all += d.toString('latin1')));
    sock.once('data', (d: Buffer) => resolve({ sock, greeting: d.toString('latin1'), said: () => all, closed }));
    sock.once('error', reject);
  });
}

for (const dialect of DIALECTS)
  test(`with every place held by idle connections from a few addresses, a client from another address still delivers; \
an idle one is closed with 421 and the reason (${dialect})`, async (t) => {
    if (!needsCorpus(t, 'spamassassin/spam')) return;
    const h = await harness(t, dialect, { smtpMaxConnections: 20, smtpMaxConnectionsPerClient: 10 });
    if (!h) return;
    const idle: Awaited<ReturnType<typeof idleFrom>>[] = [];
    for (const addr of ['127.0.0.2', '127.0.0.3']) for (let i = 0; i < 10; i++) idle.push(await idleFrom(h.port, addr));
    t.after(() => {
      for (const c of idle) c.sock.destroy();
    });
    assert.ok(
      idle.every((c) => /^220 /.test(c.greeting)),
      'all 20 places taken',
    );
    const over = await idleFrom(h.port, '127.0.0.2');
    assert.match(
      over.greeting,
      /^421 .*Too many connections from 127\.0\.0\.2/,
      'one address cannot hold more than its cap',
    );
    over.sock.destroy();
    const sent = await h.transport({ localAddress: '127.0.0.4' }).sendMail({
      from: 'p@example.org',
      to: 'spam@report.test',
      subject: 's',
      text: '',
      attachments: [{ content: spam(14), contentType: 'message/rfc822' }],
    });
    assert.match(sent.response, /^250 /);
    const evicted = idle.filter((c) => c.said().includes('421 '));
    assert.equal(evicted.length, 1, 'one idle connection made room');
    assert.match(evicted[0].said(), /421 \S+ Too many connections from your address/);
    await evicted[0].closed;
    const [r] = await reportsOf(h.ctx);
    assert.equal(JSON.parse(r.context ?? '{}').smtp.clientIp, '127.0.0.4');
  });

test('a silent client is closed after the idle time-out, a client trickling NOOPs at the DATA deadline, both with ' +
  '421', {
  timeout: 60_000,
}, async (t) => {
  const h = await harness(t, 'sqlite', { smtpIdleTimeoutMs: 300, smtpPreDataTimeoutMs: 1500 });
  if (!h) return;
  const silent = await idleFrom(h.port, '127.0.0.5');
  await silent.closed;
  assert.match(silent.said(), /421 .*Timeout/);
  const trickler = await idleFrom(h.port, '127.0.0.6');
  const noop = setInterval(() => trickler.sock.write('NOOP\r\n'), 100);
  t.after(() => clearInterval(noop));
  await trickler.closed;
  clearInterval(noop);
  assert.match(trickler.said(), /250 OK[\s\S]*421 \S+ No mail within 2 s/);
  assert.equal(h.intake.openConnections(), 0, 'both places released');
});

for (const dialect of DIALECTS)
  test(`SMTP: beyond the in-flight memory budget a mail gets 452 (retry later) and is taken once there is room \
(${dialect})`, {
    timeout: 120_000,
  }, async (t) => {
    const h = await harness(t, dialect, { maxMessageBytes: 400_000, intakeMemoryBudgetBytes: 500_000 });
    if (!h) return;
    const wrap = (id: string) =>
      Buffer.concat([
        Buffer.from(
          `From: q@example.org\r\nTo: spam@report.test\r\nSubject: fw ${id}\r\nMIME-Version: 1.0\r\nContent-Type: \
message/rfc822\r\n\r\n`,
        ),
        crlf(
          Buffer.from(
            `From: a@spam.example\nTo: b@example.org\nSubject: ${id}\nMessage-ID: \
<${id}@spam.example>\n\n${'y'.repeat(76)}\n`.repeat(1) + `${'z'.repeat(76)}\n`.repeat(3800),
          ),
        ),
      ]);
    // A first client is in the middle of sending ~300 KB: the server holds that much of the budget.
    const first = await idleFrom(h.port, '127.0.0.7');
    const body = wrap('first');
    const said = (re: RegExp) =>
      new Promise<void>((resolve) => {
        const check = () => (re.test(first.said()) ? resolve() : setTimeout(check, 10));
        check();
      });
    first.sock.write('EHLO a.test\r\nMAIL FROM:<q@example.org>\r\nRCPT TO:<spam@report.test>\r\nDATA\r\n');
    await said(/^354 /m);
    first.sock.write(body);
    while (h.ctx.intakeBudget.inUse < body.length - 1000) await new Promise((r) => setTimeout(r, 10));
    // A declared SIZE that cannot fit is refused before the data; an undeclared one after it.
    const early = await rawSmtp(h.port, ['EHLO b.test', 'MAIL FROM:<q@example.org> SIZE=300000', 'QUIT']);
    assert.match(early, /^452 .*try again later/m);
    const tr = h.transport({ localAddress: '127.0.0.8' });
    const second = wrap('second');
    await assert.rejects(
      tr.sendMail({ envelope: { from: 'q@example.org', to: ['spam@report.test'] }, raw: second }),
      (e: Error & { responseCode?: number }) => e.responseCode === 452 && /try again later/.test(e.message),
    );
    first.sock.write('\r\n.\r\nQUIT\r\n');
    await first.closed;
    assert.match(first.said(), /^250 Stored 1 report/m);
    assert.equal(h.ctx.intakeBudget.inUse, 0);
    const ok = await tr.sendMail({ envelope: { from: 'q@example.org', to: ['spam@report.test'] }, raw: second });
    assert.match(ok.response, /^250 /);
    assert.equal((await reportsOf(h.ctx)).length, 2, 'both mails stored once, the refused attempt left nothing');
  });

async function addUser(ctx: AppContext, email: string): Promise<string> {
  const id = newId();
  await ctx.db
    .insertInto('users')
    .values({ id, email, name: null, role: 'reporter', password_hash: null, created_at: nowIso(), disabled_at: null })
    .execute();
  return id;
}

test(
  'a forged From is kept as claimed but never attributed to the account nor acknowledged (SPF fails, no ' + 'DKIM)',
  async (t) => {
    if (!needsCorpus(t, 'spamassassin/spam')) return;
    const acks: Ack[] = [];
    const h = await harness(t, 'sqlite', {}, { ackSender: { send: async (a) => void acks.push(a) } });
    if (!h) return;
    const victim = await addUser(h.ctx, 'carol@example.net');
    // example.net allows only 192.0.2.1; this mail comes from 127.0.0.1.
    const info = await h.transport().sendMail({
      from: 'carol@example.net',
      to: 'spam@report.test',
      subject: 'Fwd',
      text: '',
      attachments: [{ content: spam(11), contentType: 'message/rfc822' }],
    });
    assert.match(info.response, /^250 /, 'the report itself is still taken');
    await h.intake.stop();
    const [r] = await reportsOf(h.ctx);
    assert.equal(r.reporter_address, 'carol@example.net', 'the claim is kept for the analyst');
    assert.equal(r.reporter_user_id, null, `not filed under ${victim}`);
    const auth = JSON.parse(r.context ?? '{}').reporterAuth;
    assert.equal(auth.verified, false);
    assert.equal(auth.spf.result, 'fail');
    assert.match(auth.reason, /example\.net not proved: SPF fail/);
    assert.equal(acks.length, 0, 'no acknowledgement to an unproved address (backscatter)');
  },
);

test(
  'an aligned DKIM signature proves the forwarder even when SPF does not; a tampered one proves ' + 'nothing',
  async (t) => {
    if (!needsCorpus(t, 'spamassassin/spam')) return;
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    // The key is published for mail.signed.example; From is signed.example: relaxed alignment.
    const zone: Zone = {
      ...ZONE,
      'sd1._domainkey.mail.signed.example': { TXT: [[`v=DKIM1; k=rsa; p=${p}`]] },
      'signed.example': { TXT: [['v=spf1 -all']] },
    };
    const acks: Ack[] = [];
    const h = await harness(
      t,
      'sqlite',
      {},
      { dns: new StaticZoneResolver(zone), ackSender: { send: async (a) => void acks.push(a) } },
    );
    if (!h) return;
    const bob = await addUser(h.ctx, 'bob@signed.example');
    const signer = nodemailer.createTransport({
      streamTransport: true,
      buffer: true,
      dkim: {
        domainName: 'mail.signed.example',
        keySelector: 'sd1',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    const signed = async (subject: string): Promise<Buffer> =>
      (
        await signer.sendMail({
          from: 'Bob <bob@signed.example>',
          to: 'spam@report.test',
          subject,
          text: 'see attached',
          attachments: [{ content: spam(12), contentType: 'message/rfc822' }],
        })
      ).message as Buffer;
    const envelope = { from: 'bob@signed.example', to: ['spam@report.test'] };
    const tr = h.transport();
    await tr.sendMail({ envelope, raw: await signed('Fwd: scam') });
    const tampered = Buffer.from(
      (await signed('Fwd: scam 2')).toString('latin1').replace('see attached', 'see attachmnt'),
      'latin1',
    );
    await tr.sendMail({ envelope, raw: tampered });
    await h.intake.stop();
    const rows = await reportsOf(h.ctx);
    const bySubject = new Map(rows.map((r) => [JSON.parse(r.context ?? '{}').wrapper.subject as string, r]));
    const good = bySubject.get('Fwd: scam');
    const bad = bySubject.get('Fwd: scam 2');
    assert.ok(good && bad);
    const auth = JSON.parse(good.context ?? '{}').reporterAuth;
    assert.equal(auth.verified, true, auth.reason);
    assert.equal(auth.method, 'dkim');
    assert.equal(auth.spf.result, 'fail', 'SPF alone would not have proved it');
    assert.equal(good.reporter_user_id, bob);
    const badAuth = JSON.parse(bad.context ?? '{}').reporterAuth;
    assert.equal(badAuth.verified, false);
    assert.notEqual(badAuth.dkim[0].result, 'pass', 'mailauth: body hash did not verify');
    assert.equal(bad.reporter_user_id, null);
    assert.deepEqual(
      acks.map((a) => a.reports[0].id),
      [good.id],
      'only the proved mail is acknowledged',
    );
  },
);

test('a relay listed in smtpTrustedForwarders proves its From without DNS', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const h = await harness(
    t,
    'sqlite',
    { smtpTrustedForwarders: '127.0.0.0/8, ::1' },
    { dns: new StaticZoneResolver({}) },
  );
  if (!h) return;
  const dave = await addUser(h.ctx, 'dave@corp.example');
  await h.transport().sendMail({
    from: 'dave@corp.example',
    to: 'spam@report.test',
    subject: 'Fwd',
    text: '',
    attachments: [{ content: spam(14), contentType: 'message/rfc822' }],
  });
  const [r] = await reportsOf(h.ctx);
  assert.equal(r.reporter_user_id, dave);
  const auth = JSON.parse(r.context ?? '{}').reporterAuth;
  assert.equal(auth.method, 'trusted-relay');
});
