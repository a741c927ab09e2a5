/**
 * Trace-back cases (synthetic chains in the shapes real MTAs write; addresses from the RFC 5737 /
 * RFC 3849 documentation ranges, made public for these tests with `documentationIsPublic`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseReceived } from './received-parser.ts';
import { TrustTable, TrustedRelaysFileError, loadTrustedRelaysFile, trustedRelaysProblems } from './trust.ts';
import { walkChain, type WalkInput } from './walk.ts';

function walk(lines: string[], opts: Partial<Omit<WalkInput, 'received'>> = {}) {
  return walkChain({
    received: lines.map((l) => ({ ...parseReceived(l), raw: l })),
    trust: opts.trust ?? new TrustTable([], null),
    asnOf: opts.asnOf ?? new Map(),
    asNameOf: opts.asNameOf ?? new Map(),
    webmailHeaders: opts.webmailHeaders ?? [],
    documentationIsPublic: opts.documentationIsPublic ?? true,
  });
}
const codes = (w: ReturnType<typeof walk>) => w.findings.map((f) => f.code);

const M365 = [
  'from SA3PR19MB7370.namprd19.prod.outlook.com (::1) by MN0PR19MB6312.namprd19.prod.outlook.com with HTTPS; Tue, 19 ' +
    'Sep 2023 18:36:46 +0000',
  'from BN0PR03CA0023.namprd03.prod.outlook.com (2603:10b6:408:e6::28) by SA3PR19MB7370.namprd19.prod.outlook.com ' +
    '(2603:10b6:806:317::17) with Microsoft SMTP Server (version=TLS1_2, ' +
    'cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.6792.27; Tue, 19 Sep 2023 18:36:45 +0000',
  'from BN8NAM11FT066.eop-nam11.prod.protection.outlook.com (2603:10b6:408:e6:cafe::23) by ' +
    'BN0PR03CA0023.outlook.office365.com (2603:10b6:408:e6::28) with Microsoft SMTP Server (version=TLS1_2, ' +
    'cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.6792.28 via Frontend Transport; Tue, 19 Sep 2023 ' +
    '18:36:45 +0000',
  'from ubuntu-s-1vcpu (198.51.100.4) by BN8NAM11FT066.mail.protection.outlook.com (10.13.177.138) with Microsoft ' +
    'SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.6813.19 via Frontend ' +
    'Transport; Tue, 19 Sep 2023 18:36:44 +0000',
  'by ubuntu-s-1vcpu (Postfix, from userid 0) id 39DEA3F725; Tue, 19 Sep 2023 18:35:49 +0000 (UTC)',
];

test('Microsoft 365 chain: internal hops are trusted, the frontend’s client is the origin', () => {
  const w = walk(M365);
  assert.equal(w.origin?.ip, '198.51.100.4');
  assert.equal(w.origin?.hopIndex, 3);
  assert.deepEqual(
    w.hops.map((h) => h.trusted),
    [true, true, true, true, false],
  );
  assert.ok(codes(w).includes('PRIVATE_ADDRESS_SKIPPED'), 'the ::1 hop is skipped, not blamed');
  assert.ok(!codes(w).includes('BROKEN_CHAIN'), w.steps.join('\n'));
  assert.match(w.steps.join('\n'), /Microsoft 365 \/ Outlook\.com is trusted/);
  assert.match(w.steps.join('\n'), /origin: the first untrusted hop/);
});

test('without trusted relays the documentation addresses are reserved: skipped, and no origin', () => {
  const w = walk(['from x (x [192.0.2.7]) by mx.example.org with ESMTP; Mon, 1 Jan 2024 00:00:00 +0000'], {
    documentationIsPublic: false,
  });
  assert.equal(w.origin, null);
  assert.ok(codes(w).includes('NO_ORIGIN'));
  assert.ok(codes(w).includes('PRIVATE_ADDRESS_SKIPPED'));
});

test('Gmail → Yahoo relay trusted by AS number → the Yahoo client is the origin', () => {
  const w = walk(
    [
      'by 2002:a59:cde2:0:b0:42b:92a8:c8f7 with SMTP id b2csp5897300vqx; Tue, 12 Dec 2023 03:57:53 -0800 (PST)',
      'from sonic301-20.consmr.mail.ir2.yahoo.com (sonic301-20.consmr.mail.ir2.yahoo.com. [77.238.176.97]) by ' +
        'mx.google.com with ESMTPS id ffa for <r@example.org> (version=TLS1_3 cipher=TLS_AES_128_GCM_SHA256 ' +
        'bits=128/128); Tue, 12 Dec 2023 03:57:52 -0800 (PST)',
      'from 127.0.0.1 (EHLO x) (198.51.100.66) by sonic301-20.consmr.mail.ir2.yahoo.com with SMTPS; Tue, 12 Dec 2023 ' +
        '11:57:50 +0000',
    ],
    { asnOf: new Map([['77.238.176.97', 34010]]) },
  );
  assert.equal(w.origin?.ip, '198.51.100.66');
  assert.match(w.steps.join('\n'), /Yahoo \/ AOL is trusted \(77\.238\.176\.97 is in its AS34010\)/);
});

test('a reverse-DNS name flagged "may be forged" earns no trust', () => {
  const w = walk([
    'from mx.google.com (mail-x.google.com [198.51.100.9] (may be forged)) by mx.example.org (8.14/8.14) with ESMTP ' +
      'id a; Mon, 1 Jan 2024 00:00:00 GMT',
  ]);
  assert.equal(w.origin?.ip, '198.51.100.9');
  assert.ok(codes(w).includes('FORGED_HOP'), 'HELO claims Google from a foreign address');
});

test('hops below the origin that name a trusted provider are forged-looking', () => {
  const w = walk([
    'from relay.example.net (relay.example.net [198.51.100.20]) by mx.example.org (Postfix) with ESMTP id A; Mon, 1 ' +
      'Jan 2024 00:00:05 +0000',
    'from mail-sor-f41.google.com (mail-sor-f41.google.com [209.85.220.41]) by mx.google.com with ESMTPS id B; Mon, ' +
      '1 Jan 2024 00:00:00 +0000',
  ]);
  assert.equal(w.origin?.ip, '198.51.100.20');
  assert.ok(w.flags.includes('forged-hop@1'));
  assert.equal(w.hops[1]?.trusted, false);
});

test('a gap in the chain is flagged BROKEN_CHAIN', () => {
  const w = walk(
    [
      'from a.example.net (a.example.net [192.0.2.10]) by mx.example.org (Postfix) with ESMTP id A; Mon, 1 Jan 2024 ' +
        '00:00:05 +0000',
      'from b.example.com (b.example.com [192.0.2.11]) by unrelated.example.info (Postfix) with ESMTP id B; Mon, 1 ' +
        'Jan 2024 00:00:00 +0000',
    ],
    { trust: new TrustTable(['192.0.2.10'], null) },
  );
  assert.ok(w.flags.includes('broken-chain@1'), w.steps.join('\n'));
  assert.ok(codes(w).includes('BROKEN_CHAIN'));
  assert.equal(w.origin?.ip, '192.0.2.11');
});

test('private relays inside the trusted part are skipped and the walk goes on', () => {
  const w = walk(
    [
      'from inner.example.org (inner.example.org [10.1.2.3]) by mx.example.org (Postfix) with ESMTP id A; Mon, 1 Jan ' +
        '2024 00:00:05 +0000',
      'from spammer.example.net (spammer.example.net [198.51.100.99]) by inner.example.org (Postfix) with ESMTP id ' +
        'B; Mon, 1 Jan 2024 00:00:00 +0000',
    ],
    { trust: new TrustTable(['mx.example.org'], null) },
  );
  assert.equal(w.origin?.ip, '198.51.100.99');
  assert.ok(w.steps.some((s) => s.includes('10.1.2.3') && s.includes('never blamed')));
});

test('intake hosts (names and CIDRs) are trusted: a forwarded report is traced past them', () => {
  const w = walk(
    [
      'from fw.example.org (fw.example.org [198.51.100.200]) by intake.spamdesk.example (Postfix) with ESMTPS id A; ' +
        'Mon, 1 Jan 2024 00:01:00 +0000',
      'from bad.example.net (bad.example.net [203.0.113.50]) by fw.example.org (Postfix) with ESMTP id B; Mon, 1 Jan ' +
        '2024 00:00:00 +0000',
    ],
    { trust: new TrustTable(['intake.spamdesk.example', '198.51.100.192/26'], null) },
  );
  assert.equal(w.origin?.ip, '203.0.113.50');
  assert.match(w.steps[0] ?? '', /intake/);
});

test('X-Originating-IP is used only when the message was submitted at the trusted webmail’s own service', () => {
  const relay =
    'from mail-sor-f41.google.com (mail-sor-f41.google.com [209.85.220.41]) by mx.example.org (Postfix) with ESMTPS ' +
    'id A; Mon, 1 Jan 2024 00:00:00 +0000';
  const used = walk([relay, 'by 10.67.29.14 with HTTP; Mon, 1 Jan 2024 00:00:00 +0000'], {
    webmailHeaders: [{ name: 'x-originating-ip', value: '[198.51.100.33]' }],
  });
  assert.equal(used.origin?.ip, '198.51.100.33');
  assert.equal(used.origin?.hopIndex, -1);
  assert.ok(codes(used).includes('WEBMAIL_ORIGINATING_IP'));

  // Nothing shows the webmail's submission service: the header could be anyone's.
  const noSubmission = walk([relay], { webmailHeaders: [{ name: 'x-originating-ip', value: '[198.51.100.33]' }] });
  assert.equal(noSubmission.origin?.ip, '209.85.220.41');
  assert.ok(!codes(noSubmission).includes('WEBMAIL_ORIGINATING_IP'));

  // A receiver's note about the relay that connected (X-Sender-IP = a hop of this chain) is no browser.
  const note = walk([relay, 'by 10.67.29.14 with HTTP; Mon, 1 Jan 2024 00:00:00 +0000'], {
    webmailHeaders: [{ name: 'x-sender-ip', value: '209.85.220.41' }],
  });
  assert.equal(note.origin?.ip, '209.85.220.41');
  assert.ok(!codes(note).includes('WEBMAIL_ORIGINATING_IP'));

  const ignored = walk(
    [
      'from relay.example.net (relay.example.net [192.0.2.80]) by mx.example.org (Postfix) with ESMTP id A; Mon, 1 ' +
        'Jan 2024 00:00:00 +0000',
    ],
    {
      webmailHeaders: [{ name: 'x-originating-ip', value: '[198.51.100.33]' }],
    },
  );
  assert.equal(ignored.origin?.ip, '192.0.2.80');
  assert.ok(!codes(ignored).includes('WEBMAIL_ORIGINATING_IP'));
});

test('all relays trusted and no webmail header: the provider’s relay is named, with the reason', () => {
  const w = walk([
    'from mail-sor-f41.google.com (mail-sor-f41.google.com [209.85.220.41]) by mx.example.org (Postfix) with ESMTPS ' +
      'id A; Mon, 1 Jan 2024 00:00:00 +0000',
  ]);
  assert.equal(w.origin?.ip, '209.85.220.41');
  assert.ok(w.flags.includes('origin-trusted-provider'));
});

test('an IPv6 origin is reported as such', () => {
  const w = walk([
    'from h (h [IPv6:2001:db8:1::25]) by mx.example.org (Postfix) with ESMTP id A; Mon, 1 Jan 2024 00:00:00 +0000',
  ]);
  assert.equal(w.origin?.ipVersion, 6);
  assert.ok(codes(w).includes('ORIGIN_IPV6'));
});

test('no Received header at all', () => {
  const w = walk([]);
  assert.equal(w.origin, null);
  assert.ok(codes(w).includes('NO_RECEIVED_HEADERS'));
});

test('the operator’s relay file adds a provider; a bad file names the file and the entry', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relays-'));
  const good = path.join(dir, 'good.json');
  fs.writeFileSync(good, JSON.stringify([{ name: 'Example ISP', names: ['isp.example'], networks: ['192.0.2.0/24'] }]));
  const w = walk(
    [
      'from relay.isp.example (relay.isp.example [192.0.2.5]) by mx.example.org (Postfix) with ESMTP id A; Mon, 1 ' +
        'Jan 2024 00:00:05 +0000',
      'from x (x [198.51.100.5]) by relay.isp.example (Postfix) with ESMTP id B; Mon, 1 Jan 2024 00:00:00 +0000',
    ],
    { trust: new TrustTable([], good) },
  );
  assert.equal(w.origin?.ip, '198.51.100.5');
  const bad = path.join(dir, 'bad.json');
  fs.writeFileSync(bad, JSON.stringify([{ name: 'X', networks: ['not-a-cidr'] }]));
  assert.throws(
    () => loadTrustedRelaysFile(bad),
    (e: unknown) =>
      e instanceof TrustedRelaysFileError && e.message.includes('bad.json') && e.message.includes('not-a-cidr'),
  );
  const notJson = path.join(dir, 'x.json');
  fs.writeFileSync(notJson, '{');
  assert.throws(() => loadTrustedRelaysFile(notJson), /x\.json: not JSON/);
});

// qmail-smtpd: `from <reverse name> (HELO <greeting>) (<ip>) by <host> with SMTP`; the reverse name is
// tcpserver's PTR look-up, never checked to resolve back.
const QMAIL_TOP =
  'from mail.victim.example (198.51.100.20) by inbound.victim.example with SMTP; 16 Dec 2002 14:31:36 -0000';
const QMAIL_BELOW =
  'from relay.innocent.example (relay.innocent.example [203.0.113.9]) by mail.victim.example (8.12.2/8.12.2) with ' +
  'ESMTP id g7FLk7wW021603; Mon, 16 Dec 2002 15:31:34 +0100';

test(
  'an unverified qmail reverse name in the organisation’s domain is not believed on its own: a forged chain does ' +
    'not shift the blame',
  () => {
    // The address is in an AS of no research network and near no address of the organisation: the
    // name could be anybody's reverse zone, so 198.51.100.20 is the origin, not the relay it wrote below.
    const w = walk([QMAIL_TOP, QMAIL_BELOW], {
      asnOf: new Map([['198.51.100.20', 64500]]),
      asNameOf: new Map([[64500, 'Example Holdings LLC']]),
    });
    assert.equal(w.origin?.ip, '198.51.100.20', w.steps.join('\n'));
    // The same with qmail's `(HELO x)` form, whose leading name used to be read as a checked reverse name.
    const w2 = walk([
      'from mail.victim.example (HELO bulk) (198.51.100.20) by inbound.victim.example with SMTP; 16 Dec 2002 ' +
        '14:31:36 ' +
        '-0000',
      QMAIL_BELOW,
    ]);
    assert.equal(w2.origin?.ip, '198.51.100.20', w2.steps.join('\n'));
  },
);

test(
  'an unverified qmail reverse name is believed when the address agrees: a research network, or the /24 of a ' +
    'relay already believed',
  () => {
    const research = walk([QMAIL_TOP, QMAIL_BELOW], {
      asnOf: new Map([['198.51.100.20', 680]]),
      asNameOf: new Map([[680, 'Verein zur Foerderung eines Deutschen Forschungsnetzes e.V.']]),
    });
    assert.equal(research.origin?.ip, '203.0.113.9', research.steps.join('\n'));
    assert.match(research.steps.join('\n'), /research and education network/);
    // The /24 of a relay of the organisation already believed (a Postfix-checked reverse name), in a network that is
    // no access, hosting or transit network (an AS of the organisation's parent company, whose name it does not bear).
    const siteLines = [
      'from hub.victim.example (hub.victim.example [198.51.100.173]) by mx.victim.example (Postfix) with ESMTP id ' +
        '2CC378D014; Mon, 16 Dec 2002 14:31:37 +0000',
      'from mail.victim.example (198.51.100.174) by hub.victim.example with SMTP; 16 Dec 2002 14:31:36 -0000',
      QMAIL_BELOW,
    ];
    const owned = (asName: string) => ({
      asnOf: new Map([
        ['198.51.100.173', 64500],
        ['198.51.100.174', 64500],
      ]),
      asNameOf: new Map([[64500, asName]]),
    });
    const site = walk(siteLines, owned('ACME-CORP Acme Industries Inc'));
    assert.equal(site.origin?.ip, '203.0.113.9', site.steps.join('\n'));
    assert.match(site.steps.join('\n'), /same \/24 as 198\.51\.100\.173/);
    // On a hosting network, or one no AS data names, the /24 is rented: a neighbour writes its own reverse name.
    assert.equal(walk(siteLines, owned('Hetzner Online GmbH')).origin?.ip, '198.51.100.174');
    assert.equal(walk(siteLines).origin?.ip, '198.51.100.174');
    // A name outside the organisation's domain earns nothing, whatever the address.
    const other = walk([
      'from hub.victim.example (hub.victim.example [198.51.100.173]) by mx.victim.example (Postfix) with ESMTP id ' +
        '2CC378D014; Mon, 16 Dec 2002 14:31:37 +0000',
      'from mail.elsewhere.example (198.51.100.174) by hub.victim.example with SMTP; 16 Dec 2002 14:31:36 -0000',
      QMAIL_BELOW,
    ]);
    assert.equal(other.origin?.ip, '198.51.100.174');
  },
);

test('an LMTP hand-off the believed receiver recorded names its own MTA; SMTP from the same address does not', () => {
  // Dovecot/Cyrus LMTP delivery from the organisation's MTA on a public address (RFC 2033: never port 25).
  const lines = (protocol: string) => [
    `from mx1.example.org ([198.51.100.20]) by imap.example.org with ${protocol} id 4xY; ` +
      'Mon, 1 Jan 2024 10:00:02 +0000',
    'from bot.example.net (bot.example.net [203.0.113.9]) by mx1.example.org (Postfix) with ESMTP id 9Q for ' +
      '<a@example.org>; Mon, 1 Jan 2024 10:00:01 +0000',
  ];
  const lmtp = walk(lines('LMTP'));
  assert.equal(lmtp.origin?.ip, '203.0.113.9', lmtp.steps.join('\n'));
  assert.match(lmtp.steps.join('\n'), /recorded the hand-off over LMTP/);
  // The same hop over SMTP, with no name to back it: the MTA is the first stranger.
  const smtp = walk(lines('ESMTP'));
  assert.equal(smtp.origin?.ip, '198.51.100.20', smtp.steps.join('\n'));
});

test('a checked reverse name in the envelope recipient’s domain, as the delivering side wrote it, is its relay', () => {
  const chain = [
    'from hub.oldname-corp.net (hub.oldname-corp.net [198.51.100.20]) by inbox.newname-corp.com (8.7.5/8.7.3) with ' +
      'SMTP id A1 for <user@desk.oldname-corp.net>; Mon, 29 Jul 1996 02:26:08 -0700',
    'from sender.example.net (sender.example.net [203.0.113.50]) by hub.oldname-corp.net (8.6.9/8.6.9) with ESMTP ' +
      'id B2 for <user@newname-corp.com>; Mon, 29 Jul 1996 02:24:55 -0700',
  ];
  const w = walk(chain);
  assert.equal(w.origin?.ip, '203.0.113.50');
  assert.match(w.steps.join('\n'), /oldname-corp\.net, the domain of the envelope recipient/);
  // The same hand-off with a reverse name the receiver could not confirm earns nothing.
  const forged = walk([chain[0].replace('[198.51.100.20])', '[198.51.100.20] (may be forged))'), chain[1]]);
  assert.equal(forged.origin?.ip, '198.51.100.20');
  // Nor does a recipient domain that only the client's own header (below the boundary) names.
  const below = walk([
    chain[0].replace('user@desk.oldname-corp.net', 'user@inbox.newname-corp.com'),
    chain[1].replace('user@newname-corp.com', 'user@oldname-corp.net'),
  ]);
  assert.equal(below.origin?.ip, '198.51.100.20');
  // An alias a forwarder expanded proves nothing: anyone can point a domain of theirs at a forwarder.
  const alias = walk([
    'from mx1.improvmx.com (mx1.improvmx.com [198.51.100.60]) by mail.mailbox-corp.com (Postfix) with ESMTPS id C3 ' +
      'for <victim@mailbox-corp.com>; Tue, 1 Dec 2026 10:00:02 +0000',
    'from mail.attacker-corp.net (mail.attacker-corp.net [203.0.113.66]) by mx1.improvmx.com (Postfix) with ESMTP ' +
      'id D4 for <fwd@attacker-corp.net>; Tue, 1 Dec 2026 10:00:01 +0000',
    'from innocent.example.org (innocent.example.org [192.0.2.77]) by mail.attacker-corp.net (Postfix) with ESMTP ' +
      'id E5 for <fwd@attacker-corp.net>; Tue, 1 Dec 2026 10:00:00 +0000',
  ]);
  assert.equal(alias.origin?.ip, '203.0.113.66', alias.steps.join('\n'));
  // A list server in the recipient's domain received it for its list: it is the origin.
  const list = walk([chain[0], chain[1].replace('user@newname-corp.com', 'members@lists.elsewhere.org')]);
  assert.equal(list.origin?.ip, '198.51.100.20');
});

test('a name under a documentation domain is nobody’s organisation: a stranger there is not believed as the \
receiver’s relay (anonymised corpora name unrelated parties example.com)', () => {
  const lines = [
    'from relay.example.com (relay.example.com [81.2.69.142]) by mx.example.com (Postfix) with ESMTP id 1; ' +
      'Tue, 1 Dec 2026 10:00:02 +0000',
    'from lists.example.com (lists.example.com [93.184.0.9]) by relay.example.com (8.12.8) with ESMTP id 2; ' +
      'Tue, 1 Dec 2026 10:00:01 +0000',
  ];
  const real = walk(lines, { documentationIsPublic: false });
  assert.equal(real.origin?.ip, '81.2.69.142', real.steps.join('\n'));
  // Where a fixture's documentation names stand for a real organisation, the same chain is walked through.
  const fixture = walk(lines, { documentationIsPublic: true });
  assert.equal(fixture.origin?.ip, '93.184.0.9', fixture.steps.join('\n'));
});

test('an operator’s dated relay network is believed for hops dated before its day only; a bad day is named', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relays-'));
  const file = path.join(dir, 'dated.json');
  fs.writeFileSync(
    file,
    JSON.stringify([
      { name: 'Old ISP', names: ['isp.example'], networksUntil: [{ network: '192.0.2.0/24', until: '2010-01-01' }] },
    ]),
  );
  const chain = (year: number) => [
    `from relay (relay [192.0.2.5]) by mx.example.org (Postfix) with ESMTP id A; Mon, 1 Jan ${year} 00:00:05 +0000`,
    `from x (x [198.51.100.5]) by relay (Postfix) with ESMTP id B; Mon, 1 Jan ${year} 00:00:00 +0000`,
  ];
  const trust = new TrustTable([], file);
  const before = walk(chain(2009), { trust });
  assert.equal(before.origin?.ip, '198.51.100.5', before.steps.join('\n'));
  assert.match(
    before.steps.join('\n'),
    /192\.0\.2\.0\/24, its relays’ network until 2010-01-01.*dated 2009-01-01 at the latest/,
  );
  assert.equal(walk(chain(2011), { trust }).origin?.ip, '192.0.2.5');
  // No date the receiver wrote: not believed.
  const undated = chain(2009).map((l) => l.replace(/; Mon.*$/, ''));
  assert.equal(walk(undated, { trust }).origin?.ip, '192.0.2.5');
  const bad = path.join(dir, 'bad-day.json');
  fs.writeFileSync(bad, JSON.stringify([{ name: 'X', networksUntil: [{ network: '192.0.2.0/24', until: '2010' }] }]));
  assert.throws(
    () => loadTrustedRelaysFile(bad),
    (e: unknown) => e instanceof TrustedRelaysFileError,
  );
  assert.ok(trustedRelaysProblems(bad).some((p) => p.where === '0.networksUntil.0.until'));
});

test('a misspelt key in the operator’s trusted-relays file is an error naming the key meant, not dropped', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relays-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'relays.json');
  // `networkUntil` for `networksUntil`: read as before, the provider was believed with no dated range at all.
  fs.writeFileSync(
    file,
    JSON.stringify([
      { $comment: 'our old ISP', name: 'Old ISP', networkUntil: [{ network: '192.0.2.0/24', until: '2010-01-01' }] },
    ]),
  );
  const problems = trustedRelaysProblems(file);
  assert.deepEqual(
    problems.map((p) => p.where),
    ['0.networkUntil'],
  );
  assert.match(problems[0]?.message ?? '', /unknown key "networkUntil" \(did you mean "networksUntil"\?\)/);
  assert.throws(
    () => loadTrustedRelaysFile(file),
    (e: unknown) => e instanceof TrustedRelaysFileError && e.message.includes('networkUntil'),
  );
  // A key unlike any known one is named without a guess; `$comment` is the one free-text key.
  fs.writeFileSync(file, JSON.stringify([{ $comment: 'fine', name: 'A', owner: 'ops team' }]));
  const [other] = trustedRelaysProblems(file);
  assert.equal(other?.where, '0.owner');
  assert.doesNotMatch(other?.message ?? '', /did you mean/);
  fs.writeFileSync(file, JSON.stringify([{ $comment: 'fine', name: 'A', networks: ['192.0.2.0/24'] }]));
  assert.deepEqual(trustedRelaysProblems(file), []);
});

// Hotmail's webmail of 2007 (trec07p inmail.382's shape): its relay, its pickup service, its HTTP front end.
const HOTMAIL_2007 = [
  'from bay0-omc3-s11.bay0.hotmail.com (bay0-omc3-s11.bay0.hotmail.com [65.54.246.211]) by mx.example.org ' +
    '(8.12.8/8.12.5) with ESMTP id l3949A0I009379; Mon, 9 Apr 2007 00:09:11 -0400',
  'from hotmail.com ([64.4.51.16]) by bay0-omc3-s11.bay0.hotmail.com with Microsoft SMTPSVC(6.0.3790.2668); Sun, 8 ' +
    'Apr 2007 21:08:47 -0700',
  'from mail pickup service by hotmail.com with Microsoft SMTPSVC; Sun, 8 Apr 2007 21:08:47 -0700',
  'from 64.4.51.220 by by107fd.bay107.hotmail.msn.com with HTTP; Mon, 09 Apr 2007 04:08:44 GMT',
];
const BROWSER = [{ name: 'x-originating-ip', value: '[198.51.100.77]' }];

test('Hotmail’s ranges of before Azure: a 2007 webmail message is traced to the browser Hotmail recorded', () => {
  const w = walk(HOTMAIL_2007, { webmailHeaders: BROWSER });
  assert.equal(w.origin?.ip, '198.51.100.77', w.steps.join('\n'));
  assert.ok(codes(w).includes('WEBMAIL_ORIGINATING_IP'));
  // The top header dated 2012 (the reporter's own server): the relay below is not dated back by its own line.
  const later = [HOTMAIL_2007[0]?.replace('Apr 2007', 'Apr 2012') ?? '', ...HOTMAIL_2007.slice(1)];
  assert.equal(walk(later, { webmailHeaders: BROWSER }).origin?.ip, '64.4.51.16');
});

test('a webmail line another provider wrote is no submission at the provider whose address it names', () => {
  // Zoho wrote an HTTP line whose client is a Google address; the sender put X-Originating-IP in the message.
  const w = walk(
    [
      'from sender4-of-o51.zoho.com (sender4-of-o51.zoho.com [136.143.188.51]) by mx.reporter.example (Postfix) with ' +
        'ESMTPS id A1; Tue, 1 Dec 2026 10:00:05 +0000',
      'from [74.125.212.10] by mx.zohomail.com with HTTP; Tue, 1 Dec 2026 10:00:00 +0000',
    ],
    { webmailHeaders: [{ name: 'x-originating-ip', value: '[93.184.216.34]' }], documentationIsPublic: false },
  );
  assert.notEqual(w.origin?.ip, '93.184.216.34', w.steps.join('\n'));
  assert.ok(!codes(w).includes('WEBMAIL_ORIGINATING_IP'));
});

test('a dated range: the day itself is after, the latest date above counts, a cut-off line gives no date', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relays-'));
  const file = path.join(dir, 'dated.json');
  fs.writeFileSync(
    file,
    JSON.stringify([{ name: 'Old ISP', networksUntil: [{ network: '192.0.2.0/24', until: '2010-01-01' }] }]),
  );
  const trust = new TrustTable([], file);
  const chain = (top: string, below: string) => [
    `from relay (relay [192.0.2.5]) by mx.example.org (Postfix) with ESMTP id A; ${top}`,
    `from x (x [198.51.100.5]) by relay (Postfix) with ESMTP id B; ${below}`,
  ];
  const at = (top: string) => walk(chain(top, top), { trust }).origin?.ip;
  assert.equal(at('Thu, 31 Dec 2009 23:59:59 +0000'), '198.51.100.5');
  assert.equal(at('Fri, 1 Jan 2010 00:00:00 +0000'), '192.0.2.5');
  // The same instant in another zone is the same instant.
  assert.equal(at('Thu, 31 Dec 2009 18:59:59 -0500'), '198.51.100.5');
  // A hop above with a later date (the delivering system's, from an internal address): the relay's own older
  // date is not taken.
  const top2012 = [
    'from mx.example.org (mx.example.org [10.0.0.2]) by inbox.example.org (Postfix) with ESMTP id Z; Sun, 1 Jan 2012 ' +
      '00:00:00 +0000',
    ...chain('Thu, 31 Dec 2009 12:00:00 +0000', 'Thu, 31 Dec 2009 12:00:00 +0000'),
  ];
  assert.equal(walk(top2012, { trust }).origin?.ip, '192.0.2.5');
  assert.equal(
    walk([top2012[0]?.replace('2012', '2009') ?? '', ...top2012.slice(1)], { trust }).origin?.ip,
    '198.51.100.5',
  );
  // A line cut at the parser's limit: its last semicolon may be the client's (a long recipient), so no date.
  const head = 'from relay ([192.0.2.5] helo=relay) by mx.example.org with esmtp (Exim 4.96) id 1q for "';
  const fake = ';Mon, 1 Jan 2007 00:00:00 +0000';
  const pad = 'a'.repeat(4000 - head.length - fake.length);
  const long = `${head}${pad}${fake}"@example.org; Tue, 1 Dec 2026 10:00:00 +0000`;
  assert.equal(parseReceived(long).date, null);
  const cut = walk([long, 'from x (x [198.51.100.5]) by relay with SMTP; Mon, 1 Jan 2007 00:00:00 +0000'], { trust });
  assert.equal(cut.origin?.ip, '192.0.2.5', cut.steps.join('\n'));
  // A day that is no calendar day is a problem of the file, at its path.
  const bad = path.join(dir, 'feb31.json');
  fs.writeFileSync(
    bad,
    JSON.stringify([{ name: 'X', networksUntil: [{ network: '192.0.2.0/24', until: '2010-02-31' }] }]),
  );
  assert.ok(
    trustedRelaysProblems(bad).some((p) => p.where === '0.networksUntil.0.until' && /invalid date/.test(p.message)),
  );
});

// iCloud into Microsoft 365 (phishing_pot sample-462): an ESMTPSA login taken from iCloud's own load balancer.
const ICLOUD = [
  'from PH7PR19MB5967.namprd19.prod.outlook.com (2603:10b6:510:1db::8) by MN0PR19MB6312.namprd19.prod.outlook.com ' +
    'with HTTPS; Mon, 13 Mar 2023 16:29:10 +0000',
  'from DB8EUR05FT036.eop-eur05.prod.protection.outlook.com (2603:10a6:10:4b4:cafe::ff) by ' +
    'DUZPR01CA0226.outlook.office365.com (2603:10a6:10:4b4::13) with Microsoft SMTP Server id 15.20.6178.25 via ' +
    'Frontend Transport; Mon, 13 Mar 2023 16:29:03 +0000',
  'from st43p00im-zteg10072001.me.com (17.58.63.167) by DB8EUR05FT036.mail.protection.outlook.com (10.233.239.99) ' +
    'with Microsoft SMTP Server id 15.20.6199.11 via Frontend Transport; Mon, 13 Mar 2023 16:29:03 +0000',
  'from 225.51.198.96 (st43p00im-dlb-asmtp-mailmevip.me.com [17.42.251.41]) by st43p00im-zteg10072001.me.com ' +
    '(Postfix) with ESMTPSA id 370AFB40B40; Mon, 13 Mar 2023 16:28:44 +0000 (UTC)',
];

test('a login the provider took from its own front end names the relay that handed the message out', () => {
  const w = walk(ICLOUD, { documentationIsPublic: false });
  assert.equal(w.origin?.ip, '17.58.63.167', w.steps.join('\n'));
  assert.match(w.steps.join('\n'), /17\.42\.251\.41, iCloud's own front end: no client was recorded/);
  // An SMTP hand-off between the provider's machines is not a submission: the deepest relay stays named.
  const relayed = [...ICLOUD.slice(0, 3), ICLOUD[3]?.replace('with ESMTPSA', 'with ESMTPS') ?? ''];
  assert.equal(walk(relayed, { documentationIsPublic: false }).origin?.ip, '17.42.251.41');
});

test(
  'the same AS as the organisation’s relay is believed only when the AS bears the organisation’s name: a hosting ' +
    'network without a hosting word rents to anyone',
  () => {
    const chain = [
      'from mx1.victim.example (mx1.victim.example [198.51.100.20]) by inbound.victim.example (Postfix) with ESMTP ' +
        'id 1; Mon, 8 May 2023 10:00:03 +0000',
      'from rented.other.example (rented.other.example [198.51.100.77]) by mx1.victim.example (Postfix) with ESMTP ' +
        'id 2; Mon, 8 May 2023 10:00:02 +0000',
      'from innocent.example (innocent.example [203.0.113.9]) by rented.other.example (Postfix) with ESMTP id 3; ' +
        'Mon, 8 May 2023 10:00:01 +0000',
    ];
    const asnOf = new Map([
      ['198.51.100.20', 64500],
      ['198.51.100.77', 64500],
    ]);
    // M247's registered name carries no hosting word: the machine rented there is the origin.
    const rented = walk(chain, { asnOf, asNameOf: new Map([[64500, 'M247 Europe SRL']]) });
    assert.equal(rented.origin?.ip, '198.51.100.77', rented.steps.join('\n'));
    // The organisation's own network, by its name: its other relay is believed.
    const own = walk(chain, { asnOf, asNameOf: new Map([[64500, 'Victim Holdings Inc']]) });
    assert.equal(own.origin?.ip, '203.0.113.9', own.steps.join('\n'));
    assert.match(own.steps.join('\n'), /an AS that bears the organisation's name/);
  },
);
