import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../core/errors.ts';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { extractForwarded, parseMailbox } from './extract.ts';

const CRLF = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'utf8');

function inlineForward(body: string, contentType = 'text/plain; charset=utf-8'): Buffer {
  return CRLF([
    'From: "Léa Martin" <lea@example.fr>',
    'To: spam@report.test',
    'Subject: TR: offre',
    'MIME-Version: 1.0',
    `Content-Type: ${contentType}`,
    'Content-Transfer-Encoding: 8bit',
    '',
    body,
  ]);
}

test('inline forwards of the common mail clients are recovered with their header blocks', () => {
  const clients: Record<string, string> = {
    gmail: [
      'FYI',
      '',
      '---------- Forwarded message ---------',
      'From: Lotto <win@lotto.example>',
      'Date: Mon, 2 Nov 2026 at 10:00',
      'Subject: You won',
      'To: <lea@example.fr>',
      '',
      'Claim now',
    ].join('\n'),
    thunderbird: [
      '',
      '-------- Forwarded Message --------',
      'Subject: \tYou won',
      'Date: \tMon, 2 Nov 2026 10:00:00 +0100',
      'From: \tLotto <win@lotto.example>',
      'To: \tlea@example.fr',
      '',
      'Claim now',
    ].join('\n'),
    apple: [
      'Begin forwarded message:',
      '',
      'From: Lotto <win@lotto.example>',
      'Subject: You won',
      'Date: 2 November 2026 at 10:00:00 CET',
      'To: lea@example.fr',
      '',
      'Claim now',
    ].join('\n'),
    outlook: [
      'Spam ci-dessous',
      '',
      '________________________________',
      'From: Lotto <win@lotto.example>',
      'Sent: Monday, November 2, 2026 10:00 AM',
      'To: Léa Martin <lea@example.fr>',
      'Subject: You won',
      '',
      'Claim now',
    ].join('\n'),
    outlookBold: [
      '________________________________',
      '*From:* Lotto <win@lotto.example>',
      '*Sent:* Monday, November 2, 2026 10:00 AM',
      '*Subject:* You won',
      '',
      'Claim now',
    ].join('\n'),
    outlookFr: [
      '________________________________',
      'De : Lotto <win@lotto.example>',
      'Envoyé : lundi 2 novembre 2026 10:00',
      'À : lea@example.fr',
      'Objet : You won',
      '',
      'Claim now',
    ].join('\n'),
  };
  for (const [client, body] of Object.entries(clients)) {
    const ex = extractForwarded(inlineForward(body));
    assert.equal(ex.originals.length, 1, client);
    const o = ex.originals[0];
    assert.equal(o.quality, 'inline', client);
    const text = o.raw.toString('utf8');
    assert.match(text, /^X-Spamdesk-Recovered: inline-forward; wrapper=[0-9a-f]{64}\r\n/, client);
    assert.match(text, /\r\nFrom: Lotto <win@lotto\.example>\r\n/, client);
    assert.match(text, /\r\nSubject: You won\r\n/, client);
    assert.match(text, /\r\nDate: [^\r\n]*2026[^\r\n]*\r\n/, client);
    assert.match(text, /\r\n\r\nClaim now$/, client);
    assert.equal(ex.wrapper.fromAddress, 'lea@example.fr');
  }
});

test('an HTML-only inline forward is recovered too, and a ">"-quoted one', () => {
  const html = inlineForward(
    '<div>Regardez</div><div>---------- Forwarded message ---------<br>From: <b>Promo</b> ' +
      '&lt;promo@shop.example&gt;<br>Subject: -50%<br><br>Achetez</div>',
    'text/html; charset=utf-8',
  );
  const o = extractForwarded(html).originals[0];
  assert.match(o.raw.toString('utf8'), /\r\nFrom: Promo <promo@shop\.example>\r\nSubject: -50%\r\n/);
  const quoted = inlineForward(
    [
      '-------- Original Message --------',
      '> From: Promo <promo@shop.example>',
      '> Subject: -50%',
      '>',
      '> Achetez',
    ].join('\n'),
  );
  assert.match(
    extractForwarded(quoted).originals[0].raw.toString('utf8'),
    /\r\nFrom: Promo <promo@shop\.example>\r\nSubject: -50%\r\n/,
  );
});

test('an .eml file attachment counts as an attached original; a message inside the spam does not count twice', (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const spamDir = path.join(CORPUS_DIR, 'spamassassin', 'spam');
  const spam = fs.readFileSync(
    path.join(
      spamDir,
      fs
        .readdirSync(spamDir)
        .filter((f) => /^\d{5}\./.test(f))
        .sort()[0],
    ),
  );
  const eml = CRLF([
    'From: lea@example.fr',
    'Subject: see file',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary=XX',
    '',
    '--XX',
    'Content-Type: text/plain',
    '',
    'Attached the spam as a file.',
    '--XX',
    'Content-Type: application/octet-stream; name="spam.eml"',
    'Content-Disposition: attachment; filename="spam.eml"',
    'Content-Transfer-Encoding: base64',
    '',
    spam.toString('base64'),
    '--XX--',
    '',
  ]);
  const ex = extractForwarded(eml);
  assert.equal(ex.originals.length, 1);
  assert.equal(ex.originals[0].how, 'eml-file');
  assert.ok(ex.originals[0].raw.equals(spam));
  assert.equal(ex.note, 'Attached the spam as a file.');

  const carrier = Buffer.concat([
    CRLF([
      'From: x@spam.example',
      'Subject: carrier',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary=YY',
      '',
      '--YY',
      'Content-Type: message/rfc822',
      '',
      '',
    ]),
    spam,
    Buffer.from('\r\n--YY--\r\n'),
  ]);
  const wrapper = Buffer.concat([
    CRLF([
      'From: lea@example.fr',
      'Subject: fw',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary=ZZ',
      '',
      '--ZZ',
      'Content-Type: message/rfc822',
      '',
      '',
    ]),
    carrier,
    Buffer.from('\r\n--ZZ--\r\n'),
  ]);
  const nested = extractForwarded(wrapper);
  assert.equal(nested.originals.length, 1);
  assert.ok(nested.originals[0].raw.equals(carrier));
});

test(
  'a redirected mail (Resent-From) is its own original; a note without anything attached is refused with the ' +
    'reason',
  () => {
    const redirected = CRLF([
      'Resent-From: lea@example.fr',
      'From: promo@shop.example',
      'To: lea@example.fr',
      'Subject: -50%',
      '',
      'Achetez',
    ]);
    const ex = extractForwarded(redirected);
    assert.equal(ex.originals[0].how, 'resent');
    assert.ok(ex.originals[0].raw.equals(redirected));
    assert.throws(
      () =>
        extractForwarded(CRLF(['From: lea@example.fr', 'Subject: hello', '', 'I got a spam yesterday, what do I do?'])),
      (e: unknown) => e instanceof AppError && e.code === 'NO_ATTACHED_MESSAGE' && /as an attachment/.test(e.message),
    );
  },
);

test('an ARF report whose original the provider redacted is kept whole', (t) => {
  if (!needsCorpus(t, 'sisimai/maildir/bsd')) return;
  const raw = fs.readFileSync(path.join(CORPUS_DIR, 'sisimai', 'maildir', 'bsd', 'arf-25.eml'));
  const ex = extractForwarded(raw);
  assert.equal(ex.arf?.feedbackType, 'abuse');
  assert.equal(ex.originals[0].wholeMail, true);
  assert.ok(ex.originals[0].raw.equals(raw));
});

test('mailboxes are parsed from the usual From forms', () => {
  assert.deepEqual(parseMailbox('"Martin, Léa" <Lea@Example.FR>'), { address: 'lea@example.fr', name: 'Martin, Léa' });
  assert.deepEqual(parseMailbox('lea@example.fr (Léa)'), { address: 'lea@example.fr', name: 'Léa' });
  assert.equal(parseMailbox('undisclosed-recipients:;'), null);
});

test('a redirect is its own original even with a message of its own inside; the reporter is its resender', async () => {
  const { claimedReporter } = await import('../smtp/take-apart.ts');
  // The spam, as the reporter's client redirected it, with an attached .eml whose chain the spammer wrote.
  const raw = CRLF([
    'Received: from [192.168.178.23] (p5b0d1234.dip0.t-ipconnect.de. [91.13.18.52]) by smtp.gmail.com with ' +
      'ESMTPSA id 1',
    'Resent-From: Lea Martin <lea.martin@gmail.com>',
    'Resent-To: spam@report.test',
    'Resent-Date: Tue, 14 Feb 2023 10:00:02 +0100',
    'Received: from bot.example (bot.example [198.51.100.9]) by mx.google.com with ESMTP id 2',
    'From: "Invoices" <billing@shop.example>',
    'To: lea.martin@gmail.com',
    'Subject: Your invoice',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'See attached.',
    '--b',
    'Content-Type: message/rfc822; name="invoice.eml"',
    'Content-Disposition: attachment; filename="invoice.eml"',
    '',
    'Received: from innocent.example (innocent.example [93.184.216.34]) by mx.example with ESMTP id 3',
    'From: a@b.example',
    'Subject: invoice',
    '',
    'x',
    '--b--',
    '',
  ]);
  const ex = extractForwarded(raw);
  assert.deepEqual(
    ex.originals.map((o) => [o.how, o.wholeMail]),
    [['resent', true]],
  );
  assert.equal(ex.originals[0]?.raw, raw);
  // The spam's From is the spammer's: the reporter is who resent it.
  const env = {
    mailFrom: 'lea.martin@gmail.com',
    rcptTo: ['spam@report.test'],
    clientIp: '209.85.208.44',
    heloName: 'x',
    tls: true,
  };
  assert.equal(claimedReporter(ex, env), 'lea.martin@gmail.com');
});

test('an inline forward that carries the spam’s own attached message again is recovered inline; a colleague’s \
forward of the spam as an attachment still gives the spam', (t) => {
  if (!needsCorpus(t, 'spamassassin/spam_2')) return;
  // A real spam shaped as a bounce: "Undeliverable: Home Based Business for Grownups", with the returned mail attached.
  const bounce = fs.readFileSync(
    path.join(CORPUS_DIR, 'spamassassin', 'spam_2', '00169.86268e75abd1bd4bda4d6c129681df34'),
  );
  const inner = /Content-Type: message\/rfc822\r?\n\r?\n([\s\S]*?)\r?\n------_=_NextPart/.exec(
    bounce.toString('latin1'),
  );
  assert.ok(inner, 'the corpus bounce carries a returned message');
  const returned = Buffer.from(inner[1], 'latin1');
  const forward = (subjectLine: string, body: string): Buffer =>
    Buffer.concat([
      CRLF([
        'From: "Léa Martin" <lea@example.fr>',
        'To: spam@report.test',
        `Subject: ${subjectLine}`,
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary=TB',
        '',
        '--TB',
        'Content-Type: text/plain; charset=utf-8',
        '',
        body,
        '--TB',
        'Content-Type: message/rfc822',
        'Content-Disposition: attachment; filename="attachment.eml"',
        '',
        '',
      ]),
      returned,
      Buffer.from('\r\n--TB--\r\n'),
    ]);
  // Thunderbird's inline forward: the bounce's header block, its text, and its attachment attached again.
  const inlineBounce = forward(
    'Fwd: Undeliverable: Home Based Business for Grownups',
    [
      '-------- Forwarded Message --------',
      'Subject: Undeliverable: Home Based Business for Grownups',
      'Date: Tue, 26 Feb 2002 05:50:48 +0100',
      'From: System Administrator <postmaster@tfi.kpn.com>',
      '',
      'Your message did not reach some or all of the intended recipients.',
    ].join('\r\n'),
  );
  const ex = extractForwarded(inlineBounce);
  assert.equal(ex.originals.length, 1);
  assert.equal(ex.originals[0].how, 'inline', 'the returned message inside the spam is not the reported one');
  assert.match(ex.originals[0].raw.toString('utf8'), /^Subject: Undeliverable: Home Based Business for Grownups/m);
  // A colleague forwarded the spam as an attachment; the reporter forwards that inline: the spam is the attachment.
  const colleague = forward(
    'Fwd: Fwd: Home Based Business for Grownups',
    [
      '---------- Forwarded message ---------',
      'From: Paul Durand <paul@example.fr>',
      'Subject: Fwd: Home Based Business for Grownups',
      '',
      'Encore un.',
    ].join('\r\n'),
  );
  const ex2 = extractForwarded(colleague);
  assert.equal(ex2.originals[0].how, 'attached');
  assert.ok(ex2.originals[0].raw.equals(returned));
});
