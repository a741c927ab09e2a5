/**
 * A report that is the reporter's redirect of the spam: the hops above their resent block (their own machine logged
 * in at their provider, the provider's relays, this instance's intake) are left out, and only when the intake says
 * the report is a redirect. A real phishing-pot message (skipped loudly when absent), redirected as a mail client
 * does it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR, needsCorpus } from '../../../core/test-env.ts';
import { readLabelled } from '../../../../scripts/eval/evaluate-traceback.ts';
import { ipLocationDbAsnLookup } from '../../ports/ip-location-db.ts';
import { traceRaw } from '../traceback.ts';
import { redirectBoundary } from './redirect.ts';
import { trustTableFor } from './trust.ts';

const asn = ipLocationDbAsnLookup();
const REPORTER = 'lea.martin@gmail.com';
const HOME = '91.13.18.52';
// sample-1161: mx.google.com took the phish from soudal.ksks.eu 194.8.253.115.
const SPAM_ORIGIN = '194.8.253.115';

function trace(text: string, resentBy: readonly string[]) {
  return traceRaw(Buffer.from(text, 'latin1'), {
    trust: trustTableFor(['intake.spamdesk.example'], null),
    asn,
    mailhosts: [],
    documentationIsPublic: false,
    resentBy,
  });
}

/** What the intake stores for a redirect: the reporter's resend hops and resent block above the spam as received. */
function redirected(spam: string, resentFrom = `Lea Martin <${REPORTER}>`): string {
  return (
    'Received: from mail-ed1-f44.google.com (mail-ed1-f44.google.com [209.85.208.44]) by intake.spamdesk.example ' +
    '(Spamdesk) with ESMTPS id R1; Tue, 14 Feb 2023 09:00:05 +0000\r\n' +
    'Received: by mail-ed1-f44.google.com with SMTP id x1so; Tue, 14 Feb 2023 01:00:04 -0800 (PST)\r\n' +
    `Received: from [192.168.178.23] (p5b0d1234.dip0.t-ipconnect.de. [${HOME}]) by smtp.gmail.com with ESMTPSA ` +
    'id y2; Tue, 14 Feb 2023 01:00:03 -0800 (PST)\r\n' +
    `Resent-From: ${resentFrom}\r\n` +
    'Resent-To: report@spamdesk.example\r\n' +
    'Resent-Date: Tue, 14 Feb 2023 10:00:02 +0100\r\n' +
    'Resent-Message-ID: <r1@mail.gmail.com>\r\n' +
    spam
  );
}

test(
  'the reporter’s redirect: the hops of the way from them to us are left out, the spam’s origin is named, never ' +
    'the reporter’s home address (phishing_pot sample-1161)',
  async (t) => {
    if (!needsCorpus(t, 'phishing_pot')) return;
    const spam = readLabelled(CORPUS_DIR, 'phishing_pot/email/sample-1161.eml').toString('latin1');
    const raw = redirected(spam);
    // Without the intake's word, the walk takes the reporter's login at Gmail for the sender: the fault.
    assert.equal((await trace(raw, [])).origin?.ip, HOME);
    const w = await trace(raw, [REPORTER, 'other@example.net']);
    assert.equal(w.origin?.ip, SPAM_ORIGIN, w.steps.join('\n'));
    assert.ok(w.flags.includes('redirect-hops-left-out'));
    assert.match(
      w.steps[0],
      /redirect of the message \(Resent-From lea\.martin@gmail\.com\): the Received fields above the resent block/,
    );
    assert.ok(!w.hops.some((h) => h.fromIp === HOME), 'the redirect’s hops are not among the hops');
  },
);

test('a resent block of someone else’s, or none above the hops, leaves the chain whole', async (t) => {
  if (!needsCorpus(t, 'phishing_pot')) return;
  const spam = readLabelled(CORPUS_DIR, 'phishing_pot/email/sample-1161.eml').toString('latin1');
  // The topmost block names another resender: not the reporter's redirect.
  assert.equal((await trace(redirected(spam, '<x@example.net>'), [REPORTER])).origin?.ip, HOME);
  // A spam carrying a Resent-From of its recipient at the top, reported as an attachment (the intake gives no
  // resender) or with nothing above it: the spammer's hand-off is walked as ever.
  const fake = `Resent-From: ${REPORTER}\r\nResent-Date: Tue, 14 Feb 2023 10:00:02 +0100\r\n${spam}`;
  assert.equal((await trace(fake, [])).origin?.ip, SPAM_ORIGIN);
  assert.equal(
    redirectBoundary(
      [
        { name: 'resent-from', value: REPORTER },
        { name: 'received', value: 'x' },
      ],
      [REPORTER],
    ),
    null,
  );
});
