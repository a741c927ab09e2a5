/**
 * A stranger's Microsoft 365 tenant relaying mail it took in from outside, its own Received fields stripped: the
 * machine it took the message from is read from Microsoft's sealed ARC set, and only when the receiving side verified
 * that set. Real corpus messages (phishing_pot, referenced in place; skipped loudly when absent) and edited copies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR, needsCorpus } from '../../../core/test-env.ts';
import { readLabelled } from '../../../../scripts/eval/evaluate-traceback.ts';
import { edit, traceText } from '../../test-support/trace-text.ts';
import { arcFields, providerEntryVerdict } from './sealed-handoff.ts';

function pot(name: string): string {
  return readLabelled(CORPUS_DIR, `phishing_pot/email/${name}.eml`).toString('latin1');
}

/** The message with `line` added below its Microsoft 365 submission field (`… with mapi id …`, two lines). */
function belowSubmission(raw: string, line: string): string {
  return edit(raw, /(with mapi id [^\n]*\n[^\n]*\n)/, `$1${line}\r\n`);
}

// sample-1495: the tenant negro21.onmicrosoft.com took a Yahoo webmail message from Yahoo's Sonic relay
// 106.10.244.210 and relayed it out of 52.100.163.234 to the pot's Outlook.com mailbox.
const TENANT_OUT = '52.100.163.234';
const YAHOO_RELAY = '106.10.244.210';

test(
  'a stranger’s Microsoft 365 tenant with its Received fields stripped: the origin is the relay its sealed ARC ' +
    'set records, not the tenant’s outbound relay (phishing_pot sample-1495, 1472, 1471)',
  async (t) => {
    if (!needsCorpus(t, 'phishing_pot')) return;
    const w = await traceText(pot('sample-1495'));
    assert.equal(w.origin?.ip, YAHOO_RELAY, w.steps.join('\n'));
    assert.ok(w.flags.includes('origin-sealed-handoff'));
    assert.ok(w.findings.some((f) => f.code === 'SEALED_HANDOFF'));
    assert.match(w.steps.join('\n'), /sealed ARC set i=1 \(d=microsoft\.com.*verified.*arc=pass, cv=pass/);
    // Web.de's outbound relays, into the same tenant.
    assert.equal((await traceText(pot('sample-1472'))).origin?.ip, '212.227.17.11');
    assert.equal((await traceText(pot('sample-1471'))).origin?.ip, '217.72.192.78');
  },
);

test('the sealed record is not read when the receiving side did not verify the set before its own', async (t) => {
  if (!needsCorpus(t, 'phishing_pot')) return;
  const raw = pot('sample-1495');
  const failed = edit(raw, 'arc=pass (0 oda=1', 'arc=fail (0 oda=1');
  assert.equal((await traceText(failed)).origin?.ip, TENANT_OUT);
  const broken = edit(raw, /(ARC-Seal: i=2;[^\n]*)cv=pass/, '$1cv=fail');
  assert.equal((await traceText(broken)).origin?.ip, TENANT_OUT);
});

test('a set sealed by anyone but the provider, or a second set of one instance, names nothing', async (t) => {
  if (!needsCorpus(t, 'phishing_pot')) return;
  const raw = pot('sample-1495');
  const stranger = edit(raw, /(ARC-Seal: i=1;[^\n]*)d=microsoft\.com/, '$1d=evil.example');
  assert.equal((await traceText(stranger)).origin?.ip, TENANT_OUT);
  // A sender (or the tenant) adds its own instance-1 results naming an innocent address: two sets of one instance
  // make the chain invalid (RFC 8617), so neither is read.
  const framed = edit(
    raw,
    '\nX-Sonic-ID:',
    '\nARC-Authentication-Results: i=1; mx.microsoft.com 1; spf=pass (sender ip is 93.184.216.34)\nX-Sonic-ID:',
  );
  assert.equal((await traceText(framed)).origin?.ip, TENANT_OUT);
  // The receiving side's own set must sit above the hop it received: one written below it is the sender's.
  const below = edit(
    edit(raw, /ARC-Authentication-Results: i=2;[\s\S]*?\r?\n(?=Received:)/, ''),
    '\nX-Sonic-ID:',
    `\nARC-Authentication-Results: i=2; mx.microsoft.com 1; spf=pass (sender ip is ${TENANT_OUT}) arc=pass\n` +
      'X-Sonic-ID:',
  );
  assert.equal((await traceText(below)).origin?.ip, TENANT_OUT);
});

test('a client named by a Received field below the outbound relay: the fields speak, not the seal', async (t) => {
  if (!needsCorpus(t, 'phishing_pot')) return;
  // One of the tenant's internal hops kept below its outbound relay (Microsoft's internal 2603:1000::/24).
  const kept = edit(
    pot('sample-1495'),
    '\nX-IncomingTopHeaderMarker:',
    '\nReceived: from SN1PEPF000252A4.namprd03.prod.outlook.com (2603:10b6:806:80::16) by ' +
      'NAM04-BN8-obe.outbound.protection.outlook.com (2603:10b6:806:80::17) with Microsoft SMTP Server; ' +
      'Thu, 5 Oct 2023 19:37:25 +0000\nX-IncomingTopHeaderMarker:',
  );
  const w = await traceText(kept);
  assert.equal(w.origin?.ip, TENANT_OUT, w.steps.join('\n'));
  assert.ok(!w.flags.includes('origin-sealed-handoff'));
});

test(
  'a Received field written below the real hand-off, with sets around it, is not taken for the receiving side ' +
    '(the review’s framing of 93.184.216.34 and 8.8.8.8)',
  async (t) => {
    if (!needsCorpus(t, 'phishing_pot')) return;
    // A sender's own lines survive below the tenant's relay: a made-up Microsoft relay hop, a "receiving side" set
    // above it and a "tenant" set below it naming an innocent address, at instance numbers no real set uses.
    const forged =
      '\nARC-Seal: i=5; a=rsa-sha256; s=arcselector9901; d=microsoft.com; cv=pass; b=AAAA' +
      '\nARC-Authentication-Results: i=5; mx.microsoft.com 1; spf=pass (sender ip is 40.107.1.1) arc=pass (0 oda=1)' +
      '\nReceived: from NAM12-DM6-obe.outbound.protection.outlook.com (40.107.1.1) by ' +
      'NAM04-BN8-obe.outbound.protection.outlook.com (10.1.1.1) with Microsoft SMTP Server; ' +
      'Thu, 5 Oct 2023 19:37:25 +0000' +
      '\nARC-Seal: i=4; a=rsa-sha256; s=arcselector9901; d=microsoft.com; cv=none; b=AAAA' +
      '\nARC-Authentication-Results: i=4; mx.microsoft.com 1; spf=pass (sender ip is 93.184.216.34) ' +
      'smtp.mailfrom=yahoo.com';
    const w = await traceText(
      edit(pot('sample-1495'), '\nX-IncomingTopHeaderMarker:', `${forged}\nX-IncomingTopHeaderMarker:`),
    );
    assert.notEqual(w.origin?.ip, '93.184.216.34', w.steps.join('\n'));
    assert.ok(!w.flags.includes('origin-sealed-handoff'));
    // The same below Gmail's outbound relay of a Gmail-sent message (tb61's sample-1155): Google's relay stays named.
    const gmail = pot('sample-1155');
    const w2 = await traceText(edit(gmail, /\nDate:/, `${forged.replace('93.184.216.34', '8.8.8.8')}\nDate:`));
    assert.notEqual(w2.origin?.ip, '8.8.8.8', w2.steps.join('\n'));
    assert.ok(!w2.flags.includes('origin-sealed-handoff'));
  },
);

test(
  'the sealed address is named only with an SPF pass for a trusted provider’s domain: a tenant’s owner can have ' +
    'the “sender ip” read from fields of their own',
  async (t) => {
    if (!needsCorpus(t, 'phishing_pot')) return;
    const raw = pot('sample-1495');
    const stranger = edit(
      raw,
      /(ARC-Authentication-Results: i=1;[\s\S]*?)smtp\.mailfrom=yahoo\.com/,
      '$1smtp.mailfrom=innocent.example',
    );
    assert.equal((await traceText(stranger)).origin?.ip, TENANT_OUT);
    const failed = edit(raw, /(ARC-Authentication-Results: i=1; mx\.microsoft\.com 1; )spf=pass/, '$1spf=fail');
    assert.equal((await traceText(failed)).origin?.ip, TENANT_OUT);
  },
);

test(
  'a tenant whose own Received fields survive is walked by them, not by its sealed set (phishing_pot ' +
    'sample-108, 503)',
  async (t) => {
    if (!needsCorpus(t, 'phishing_pot')) return;
    for (const name of ['sample-108', 'sample-503']) {
      const w = await traceText(pot(name));
      assert.ok(!w.flags.includes('origin-sealed-handoff'), `${name}: ${w.steps.join('\n')}`);
    }
  },
);

test('ARC fields are read with their instance, writer and place among the Received fields', () => {
  const fields = [
    { name: 'received', value: 'from a by b' },
    { name: 'arc-seal', value: 'i=2; a=rsa-sha256; s=x; d=Microsoft.COM; cv=pass; b=abc' },
    { name: 'arc-authentication-results', value: 'i=2; mx.microsoft.com 1; spf=pass (sender ip is 192.0.2.1)' },
    { name: 'received', value: 'from c by d' },
    { name: 'arc-seal', value: ' i = 1 ; d=microsoft.com; cv=none' },
    { name: 'arc-seal', value: 'i=51; d=microsoft.com; cv=none' },
    { name: 'arc-seal', value: 'd=microsoft.com; i=1; cv=none' },
  ];
  assert.deepEqual(
    arcFields(fields).map((a) => [a.kind, a.instance, a.receivedAbove, a.writer, a.cv]),
    [
      ['seal', 2, 1, 'microsoft.com', 'pass'],
      ['results', 2, 1, 'mx.microsoft.com', null],
      ['seal', 1, 2, 'microsoft.com', 'none'],
    ],
  );
});

test(
  'a line the sender wrote below a provider’s submission is not read where the receiving side’s ARC verdict ' +
    'shows the provider sealed nothing (phishing_pot sample-1368)',
  async (t) => {
    if (!needsCorpus(t, 'phishing_pot')) return;
    // A Microsoft 365 tenant's user submitted it (MAPI); the pot recorded an ARC verdict and no set sealed by the
    // sending tenant's side: what lies below the submission is the sender's, and a line "from" an innocent address
    // "by" the submission host is not a receipt Microsoft wrote.
    const raw = pot('sample-1368');
    const framed = belowSubmission(
      raw,
      'Received: from evil.example (93.184.216.34) by TYZPR01MB3952.apcprd01.prod.exchangelabs.com with ESMTPS; ' +
        'Mon, 25 Sep 2023 21:22:30 +0000',
    );
    const w = await traceText(framed);
    assert.equal(w.origin?.ip, '40.107.255.116', w.steps.join('\n'));
    assert.match(w.steps.join('\n'), /took the message in with no outside client recorded/);
    assert.equal((await traceText(raw)).origin?.ip, '40.107.255.116');
  },
);

test('the receiving side’s ARC verdict on a provider’s entry: none recorded, sealed and verified, or not', () => {
  const f = (name: string, value: string) => ({ name, value });
  const received = f('received', 'from a by b');
  const theirs = f('arc-authentication-results', 'i=2; mx.microsoft.com 1; spf=pass (sender ip is 192.0.2.1) arc=pass');
  const sealed = f('arc-seal', 'i=1; a=rsa-sha256; d=google.com; cv=none; b=x');
  const checked = f(
    'arc-authentication-results',
    'i=1; mx.google.com; spf=pass (google.com: domain of a@b.example designates 2a01:111:f403:c004:: as ' +
      'permitted sender)',
  );
  assert.equal(providerEntryVerdict(arcFields([received, received]), 0, ['google.com']), 'no-arc');
  assert.equal(providerEntryVerdict(arcFields([theirs, received, sealed, checked]), 0, ['google.com']), 'sealed');
  // A seal whose results name no client checked (Microsoft 365 seals its own users' outgoing mail so: `spf=none;
  // dmarc=none; dkim=none; arc=none`) says nothing of a message received.
  const own = f('arc-authentication-results', 'i=1; mx.google.com; spf=none; dmarc=none; dkim=none; arc=none');
  assert.equal(providerEntryVerdict(arcFields([theirs, received, sealed, own]), 0, ['google.com']), 'unsealed');
  // The seal above the hop is the receiving side's own, not the sending provider's.
  assert.equal(providerEntryVerdict(arcFields([sealed, theirs, received]), 0, ['google.com']), 'unsealed');
  const failed = f('arc-authentication-results', 'i=2; mx.microsoft.com 1; arc=fail');
  assert.equal(providerEntryVerdict(arcFields([failed, received, sealed, checked]), 0, ['google.com']), 'unsealed');
  assert.equal(providerEntryVerdict(arcFields([theirs, received, sealed, checked]), 0, ['microsoft.com']), 'unsealed');
});

test(
  'Microsoft 365’s seal on its own user’s outgoing mail vouches for nothing below the submission: a line the sender ' +
    'added there is not read (phishing_pot sample-1086, Hotmail to the pot)',
  async (t) => {
    if (!needsCorpus(t, 'phishing_pot')) return;
    const raw = pot('sample-1086');
    const before = await traceText(raw);
    const framed = belowSubmission(
      raw,
      'Received: from evil.example (93.184.216.34) by evil.example with ESMTP id x; ' +
        'Sat, 1 Jul 2023 10:00:00 +0000',
    );
    const w = await traceText(framed);
    assert.notEqual(w.origin?.ip, '93.184.216.34', w.steps.join('\n'));
    assert.equal(w.origin?.ip, before.origin?.ip);
  },
);

test('a header padded with thousands of ARC fields and huge values is read within bounds', () => {
  const huge = 'x'.repeat(200_000);
  const fields = [
    { name: 'received', value: 'from a by b' },
    ...Array.from({ length: 3000 }, (_, k) => ({
      name: k % 2 === 0 ? 'arc-seal' : 'arc-authentication-results',
      value: `i=${(k % 50) + 1}; d=microsoft.com; cv=pass; ${huge}`,
    })),
  ];
  const arc = arcFields(fields);
  assert.equal(arc.length, 48);
  assert.ok(arc.every((a) => a.text.length <= 1500));
  // All of them below the only Received field: none is the receiving side's.
  assert.equal(providerEntryVerdict(arc, 0, ['microsoft.com']), 'no-arc');
});
