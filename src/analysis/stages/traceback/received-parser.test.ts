/**
 * The Received parser on real header lines (from the Apache/BSD/MIT corpora: spamassassin_testdata,
 * sisimai, arf_dmarc_reports; some wrapped here on one line) and on synthetic lines in the exact
 * shapes Microsoft 365, Gmail, Exim and Postfix write (documentation addresses, RFC 5737/3849).
 * The last test measures extraction coverage over every Received header of ../shared/corpus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../../../core/test-env.ts';
import { containsIpLiteral } from './ip-class.ts';
import { headerFields } from './header-block.ts';
import { parseReceived, type ParsedReceived } from './received-parser.ts';

type Expect = Partial<ParsedReceived>;

const CASES: [string, string, Expect][] = [
  [
    'Postfix: helo (rdns [ip]) with TLS comment',
    'from mail.example.net (mail.example.net [IPv6:2001:db8::25]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 ' +
      '(256/256 bits)) (No client certificate requested) by mx.example.org (Postfix) with ESMTPS id 4XyZ for ' +
      '<a@example.org>; Mon, 1 Jan 2024 10:00:00 +0100 (CET)',
    {
      fromHelo: 'mail.example.net',
      fromRdns: 'mail.example.net',
      fromIp: '2001:db8::25',
      byHost: 'mx.example.org',
      protocol: 'ESMTPS',
      tls: true,
      id: '4XyZ',
      for: 'a@example.org',
      date: '2024-01-01T09:00:00.000Z',
    },
  ],
  [
    'Postfix: unknown reverse DNS (spamassassin_testdata spam/015)',
    'from CM-vtr0-104-67.cm.vtr.net (unknown [200.83.104.67]) by eclectic.kluge.net (Postfix) with SMTP id ' +
      '23F574480F4 for <user@example.com>; Thu, 2 Dec 2004 10:55:53 -0500 (EST)',
    {
      fromHelo: 'cm-vtr0-104-67.cm.vtr.net',
      fromRdns: null,
      fromIp: '200.83.104.67',
      byHost: 'eclectic.kluge.net',
      protocol: 'SMTP',
      tls: false,
      notes: ['rdns-unknown'],
    },
  ],
  [
    'Sendmail: may be forged (spamassassin_testdata spam/001)',
    'from netsvr.Internet (USR-157-050.dr.cgocable.ca [24.226.157.50] (may be forged)) by webnote.net (8.9.3/8.9.3) ' +
      'with ESMTP id IAA29903 for <jm7@netnoteinc.com>; Sun, 18 Feb 2001 08:28:16 GMT',
    {
      fromHelo: 'netsvr.internet',
      fromRdns: 'usr-157-050.dr.cgocable.ca',
      fromIp: '24.226.157.50',
      byHost: 'webnote.net',
      protocol: 'ESMTP',
      id: 'IAA29903',
      notes: ['rdns-may-be-forged'],
    },
  ],
  [
    'Sendmail: no HELO name, only a literal ([ip])',
    'from poetrix.com ([61.146.170.133]) by mailman.enron.com (8.11.4/8.11.4/corp-1.06) with ESMTP id g343Bbl38716 ' +
      'for <vladi.Pimenov@enron.com>; Sun, 19 Aug 2001 07:03:27 -0500 (CDT)',
    { fromHelo: 'poetrix.com', fromRdns: null, fromIp: '61.146.170.133', byHost: 'mailman.enron.com' },
  ],
  [
    'Gmail MX: trailing dot in the reverse name, Google Transport Security',
    'from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com with SMTPS id ' +
      'e14-20020adff34e for <rcpt@example.org> (Google Transport Security); Mon, 11 Dec 2023 10:37:07 -0800 (PST)',
    {
      fromHelo: 'mail-sor-f41.google.com',
      fromRdns: 'mail-sor-f41.google.com',
      fromIp: '209.85.220.41',
      byHost: 'mx.google.com',
      protocol: 'SMTPS',
      tls: true,
      for: 'rcpt@example.org',
      date: '2023-12-11T18:37:07.000Z',
    },
  ],
  [
    'Gmail internal hop without from (spamassassin_testdata)',
    'by mail-qv1-xf4a.google.com with SMTP id 71-20020a0c804d000000b004b2fb260447so12985969qva.10 for ' +
      '<domains@stalw.art>; Mon, 28 Nov 2022 02:51:52 -0800 (PST)',
    { fromIp: null, fromHelo: null, byHost: 'mail-qv1-xf4a.google.com', protocol: 'SMTP', parsed: true },
  ],
  [
    'Gmail submission: IPv6 literal, ESMTPSA, TLS comment (spamassassin_testdata dmarc/noneko)',
    'from PC ([2409:4063:231e:c527:1997:664a:34e5:7d88]) by smtp.gmail.com with ESMTPSA id ' +
      'n23sm15339981pgv.76.2021.06.15.02.55.37 for <test@dmarc1.spamassassin.org> (version=TLS1 ' +
      'cipher=ECDHE-ECDSA-AES128-SHA bits=128/128); Tue, 15 Jun 2021 02:55:43 -0700 (PDT)',
    {
      fromHelo: 'pc',
      fromIp: '2409:4063:231e:c527:1997:664a:34e5:7d88',
      byHost: 'smtp.gmail.com',
      protocol: 'ESMTPSA',
      tls: true,
    },
  ],
  [
    'Microsoft 365 frontend: helo (ip) … with Microsoft SMTP Server (version=TLS1_2, cipher=…)',
    'from rokujo.cr.nyaan.jp (192.0.2.202) by BY2NAM03FT015.mail.protection.outlook.com (10.152.84.212) with ' +
      'Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384) id 15.20.1771.16 via ' +
      'Frontend Transport; Wed, 17 Apr 2019 05:39:01 +0000',
    {
      fromHelo: 'rokujo.cr.nyaan.jp',
      fromRdns: null,
      fromIp: '192.0.2.202',
      byHost: 'by2nam03ft015.mail.protection.outlook.com',
      protocol: 'SMTP',
      tls: true,
      id: '15.20.1771.16',
    },
  ],
  [
    'Microsoft 365 internal hop over IPv6',
    'from BN0PR03CA0023.namprd03.prod.outlook.com (2603:10b6:408:e6::28) by SA3PR19MB7370.namprd19.prod.outlook.com ' +
      '(2603:10b6:806:317::17) with Microsoft SMTP Server (version=TLS1_2, ' +
      'cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.6792.27; Tue, 19 Sep 2023 18:36:45 +0000',
    {
      fromHelo: 'bn0pr03ca0023.namprd03.prod.outlook.com',
      fromIp: '2603:10b6:408:e6::28',
      byHost: 'sa3pr19mb7370.namprd19.prod.outlook.com',
      tls: true,
    },
  ],
  [
    'Microsoft 365 mailbox hop: (::1) with HTTPS',
    'from SA3PR19MB7370.namprd19.prod.outlook.com (::1) by MN0PR19MB6312.namprd19.prod.outlook.com with HTTPS; Tue, ' +
      '19 Sep 2023 18:36:46 +0000',
    { fromIp: '::1', protocol: 'HTTPS', tls: true },
  ],
  [
    'Exchange MAPI hop with link-local literal and zone id',
    'from MWHPR1301MB2125.namprd13.prod.outlook.com ([fe80::7c7e:5df3:8e61:644]) by ' +
      'MWHPR1301MB2125.namprd13.prod.outlook.com ([fe80::7c7e:5df3:8e61:644%7]) with mapi id 15.20.6792.024; Mon, 18 ' +
      'Sep 2023 01:24:51 +0000',
    { fromIp: 'fe80::7c7e:5df3:8e61:644', protocol: 'MAPI' },
  ],
  [
    'Exim: [ip]:port helo=… (sisimai)',
    'from mta2.relay2.example.org ([192.0.2.222]:22222) by nyaan.example.com with esmtps ' +
      '(TLSv1:DHE-RSA-AES256-SHA:256) (Exim 4.81) (envelope-from <nyaan@neko.example.org>) id 2NEKOS-222222-22 for ' +
      'neko@libsisimai.org; Thu, 29 Apr 2005 23:34:45 +0900',
    {
      fromIp: '192.0.2.222',
      byHost: 'nyaan.example.com',
      protocol: 'ESMTPS',
      tls: true,
      id: '2NEKOS-222222-22',
      for: 'neko@libsisimai.org',
    },
  ],
  [
    'Exim: [ip] (port=… helo=…)',
    'from [198.51.100.27] (port=62882 helo=27.100.51.198.in-addr.arpa) by vps.example.com with esmtpa (Exim 4.92) ' +
      '(envelope-from <x@example.com>) id 1pzaWv-00057e-Da for victim@example.org; Thu, 18 May 2023 05:06:41 -0500',
    { fromIp: '198.51.100.27', fromHelo: '27.100.51.198.in-addr.arpa', fromRdns: null, protocol: 'ESMTPA', tls: false },
  ],
  [
    'Exim: rdns ([ip] helo=…) (spamassassin_testdata nice/mime9 shape)',
    'from host.example ([IPv6:2001:db8::5]:4567 helo=foo.example) by mx.example with esmtps id 1abc; Wed, 18 Feb ' +
      '2004 18:42:41 +0000',
    { fromIp: '2001:db8::5', fromHelo: 'foo.example', fromRdns: 'host.example' },
  ],
  [
    'Exim local submission',
    'from Debian-exim by nekochan.example.net with local (Exim 4.80) id 1d18ZP-0000cF-9f for sironeko@example.de; ' +
      'Thu, 20 Apr 2017 11:40:11 +0200',
    { fromIp: null, fromHelo: 'debian-exim', protocol: 'LOCAL' },
  ],
  [
    'qmail: unknown (HELO x) (ip) (sisimai)',
    'from unknown (HELO smtp-90.example.com) (192.0.2.244) by 192.0.2.244 with SMTP; 29 Apr 2012 23:45:10 +0900',
    { fromIp: '192.0.2.244', fromHelo: 'smtp-90.example.com', fromRdns: null, notes: ['rdns-unknown'] },
  ],
  [
    'qmail with login: (user@ip with login)',
    'from unknown (HELO mfrenchw2k) (mfrench42@62.254.163.42 with login) by smtp.mail.vip.sc5.yahoo.com with SMTP; 9 ' +
      'Aug 2002 09:38:23 -0000',
    { fromIp: '62.254.163.42', fromHelo: 'mfrenchw2k' },
  ],
  [
    'Yahoo: 127.0.0.1 (EHLO x) (ip) (sisimai)',
    'from 127.0.0.1 (EHLO nm36-vm0.bullet.mail.ne1.yahoo.com) (98.138.229.112) by mta1271.mail.bf1.yahoo.com with ' +
      'SMTPS; Sat, 06 Dec 2014 13:46:11 +0000',
    { fromIp: '98.138.229.112', fromHelo: 'nm36-vm0.bullet.mail.ne1.yahoo.com', protocol: 'SMTPS', tls: true },
  ],
  [
    'Yahoo webmail: bare ip via HTTP',
    'from [203.0.113.77] by web686.mail.yahoo.com via HTTP; Thu, 22 Sep 2005 07:36:50 -0200',
    { fromIp: '203.0.113.77', byHost: 'web686.mail.yahoo.com', protocol: 'HTTP', notes: ['webmail-http'] },
  ],
  [
    'Orange-style: helo ([ip]) with ESMTPA id',
    'from wwinf1e28 ([10.223.67.12]) by mwinf5d16.me-wanadoo.net with ME id x1Y2z3; Mon, 12 Feb 2024 10:00:00 +0100',
    { fromIp: '10.223.67.12', fromHelo: 'wwinf1e28', byHost: 'mwinf5d16.me-wanadoo.net', protocol: 'ME' },
  ],
  [
    'Free-style: Postfix with zimbra hop',
    'from zimbra65-e11.priv.proxad.net (zimbra65-e11.priv.proxad.net [172.20.243.215]) by smtp2-g21.free.fr ' +
      '(Postfix) with ESMTP id 2B23E2003A0; Tue, 13 Feb 2024 09:12:10 +0100 (CET)',
    { fromIp: '172.20.243.215', fromRdns: 'zimbra65-e11.priv.proxad.net', byHost: 'smtp2-g21.free.fr' },
  ],
  [
    'no HELO: from (rdns [ip])',
    'from (127.0.0.1 [127.0.0.1]) by MailEnable Inbound Mail Agent with ESMTP; Wed, 14 Aug 2002 00:40:42 -08:00',
    { fromIp: '127.0.0.1', fromHelo: null },
  ],
  [
    'Sendmail ident: (user@rdns [ip])',
    'from relay.example.com (root@relay.example.com [198.51.100.9]) by mx.example.net (8.13.1/8.13.1) with ESMTP id ' +
      'k1; Mon, 1 Jan 2007 00:00:00 GMT',
    { fromIp: '198.51.100.9', fromRdns: 'relay.example.com' },
  ],
  [
    'comment-only qmail (sisimai)',
    '(qmail 12733 invoked from network); 8 Mar 2017 05:57:05 -0000',
    { fromIp: null, notes: ['comment-only', 'qmail-from-network'], date: '2017-03-08T05:57:05.000Z' },
  ],
  [
    'comment-only local submission (nazario shape)',
    '(from root@localhost) by gatekeeper.example.com (8.13.3/8.13.3/Submit) id e1ILCgSU030344; Fri, 18 Feb 2000 ' +
      '15:12:42 -0600',
    { fromIp: null, byHost: 'gatekeeper.example.com', notes: ['comment-only', 'local-submission'] },
  ],
  [
    'qmail: a greeting that names an address is not the client (mime_edge_cases ruby_mail ' +
      'content_transfer_encoding_qp_with_space)',
    'from unknown (HELO 209.5.178.248) (222.47.112.31) by churchill.factcomp.com with SMTP; 7 Nov 2004 21:30:57 -0000',
    { fromHelo: '209.5.178.248', fromIp: '222.47.112.31', byHost: 'churchill.factcomp.com' },
  ],
  [
    'qmail: a private greeting address is not the client (spamscope mail_malformed_3)',
    'from unknown (HELO 192.168.15.15) (189.207.175.29) by smtp.test.net with SMTP; 8 Mar 2017 01:21:00 -0000',
    { fromIp: '189.207.175.29' },
  ],
  [
    'qmail: a bracketed greeting literal is not the client (spamassassin easy_ham/01301)',
    'from unknown (HELO [192.168.1.105]) ([66.93.225.166]) (envelope-sender <dbasinge@speakeasy.net>) by ' +
      'mail15.speakeasy.net (qmail-ldap-1.03) with SMTP; 26 Sep 2002 00:00:00 -0000',
    { fromIp: '66.93.225.166' },
  ],
  [
    'qpsmtpd: HELO [127.0.0.1] from an EC2 address (phishing_pot sample-869)',
    'from ec2-18-118-215-112.us-east-2.compute.amazonaws.com (HELO [127.0.0.1]) (18.118.215.112) by ' +
      'smtp.schmetterling-argus.de (qpsmtpd/0.94) with (TLS_AES_256_GCM_SHA384 encrypted) ESMTPSA; Tue, 04 Jul 2023 ' +
      '20:17:56 +0000',
    { fromIp: '18.118.215.112', fromRdns: 'ec2-18-118-215-112.us-east-2.compute.amazonaws.com' },
  ],
  [
    'invalid address is not taken',
    'from 199.181.135.367 (mailrly03fa.starwave.com) (199.181.135.367) by mta182.mail.re1.yahoo.com with SMTP; Mon, ' +
      '09 Apr 2007 02:25:36 -0500',
    { fromIp: null },
  ],
];

for (const [name, value, expected] of CASES) {
  test(`parses Received: ${name}`, () => {
    const got = parseReceived(value);
    for (const [k, v] of Object.entries(expected)) {
      assert.deepEqual(got[k as keyof ParsedReceived], v, `${k} of ${value}`);
    }
  });
}

test('unbalanced brackets, stray closers and megabyte headers never hang or throw', () => {
  for (const v of [
    'from x (a (b [1.2.3.4',
    'from ) ] > ; ;;',
    'by (((((((',
    `from ${'('.repeat(100000)}`,
    `from a ${'[1.2.3.4] '.repeat(50000)}`,
  ]) {
    const r = parseReceived(v);
    assert.equal(typeof r.parsed, 'boolean');
  }
});

test('header block: unfolds Received fields in order and stops at the body, for CR-only input too', () => {
  const raw = Buffer.from(
    'Received: from a (a [192.0.2.1])\r by b;\r Mon, 1 Jan 2024 00:00:00 +0000\rReceived: by c; Mon, 1 Jan 2024 ' +
      '00:00:00 +0000\rSubject: x\r\rReceived: body\r',
  );
  const f = headerFields(raw).filter((h) => h.name === 'received');
  assert.equal(f.length, 2);
  assert.equal(parseReceived(f[0]?.value ?? '').fromIp, '192.0.2.1');
  assert.equal(parseReceived(f[0]?.value ?? '').byHost, 'b');
});

function* files(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (!/SOURCE|LICENSE|README|labels|\.(json|xml|gz|zip|csv|mbox)$/i.test(e.name)) yield p;
  }
}

test('extracts the client address from ≥ 99.5 % of corpus Received headers that carry one', (t) => {
  if (!needsCorpus(t, 'phishing_pot')) return;
  let present = 0;
  let got = 0;
  for (const sub of [
    'phishing_pot',
    'spam_archive_2023_2025',
    'spamassassin_testdata',
    'sisimai',
    'spamassassin/spam',
  ]) {
    const dir = path.join(CORPUS_DIR, sub);
    if (!fs.existsSync(dir)) continue;
    for (const f of files(dir)) {
      for (const h of headerFields(fs.readFileSync(f))) {
        if (h.name !== 'received') continue;
        const fromPart =
          /^(.*?)\sby\s/i.exec(h.value)?.[1] ?? (/^from\s/i.test(h.value) ? (h.value.split(';')[0] ?? '') : '');
        if (!containsIpLiteral(fromPart)) continue;
        present++;
        if (parseReceived(h.value).fromIp !== null) got++;
      }
    }
  }
  t.diagnostic(`coverage ${got}/${present} = ${((100 * got) / Math.max(1, present)).toFixed(2)} %`);
  assert.ok(present > 5000, `too few headers with an address (${present})`);
  assert.ok(got / present >= 0.995, `coverage ${got}/${present}`);
});

test('POP3/IMAP pickups are marked as retrieval: fetchmail, getmail6, POPDOWN; SMTP hops are not', () => {
  const pickups = [
    'from mail.webnote.net [193.120.211.219] by localhost with POP3 (fetchmail-5.9.0) for jm@localhost ' +
      '(single-drop); Mon, 02 Sep 2002 12:13:17 +0100 (IST)',
    'from jalapeno [127.0.0.1] by localhost with IMAP (fetchmail-5.9.0) for zzzz@localhost (single-drop); Thu, 22 ' +
      'Aug 2002 16:37:34 +0100 (IST)',
    'from pop.example.net by workstation.example.org with POP3-SSL getmail6 for <user@example.net>; 01 Mar 2024 ' +
      '10:00:00 -0000',
    'from imap.example.net by workstation.example.org with IMAP4-SSL getmail6 msgid:42 for <user@example.net>; 01 ' +
      'Mar 2024 10:00:00 -0000',
    'from 192.0.2.43 ([192.0.2.43] as evil06) by ni-mail1.dna.utvinternet.net (Vircom POPDOWN 1.4.232) with POP; ' +
      'Tue, 9 Jul 2002 10:07:45 +0100',
  ];
  for (const l of pickups) assert.ok(parseReceived(l).notes.includes('retrieval'), l);
  for (const l of [
    'from mail.example.com (mail.example.com [198.51.100.1]) by mx.example.org (Postfix) with ESMTPS id A; Mon, 1 ' +
      'Jan 2024 00:00:00 +0000',
    'from x by mx.example.org with LMTP; Mon, 1 Jan 2024 00:00:00 +0000',
  ]) {
    assert.ok(!parseReceived(l).notes.includes('retrieval'), l);
  }
});

test('qmail names are marked unverified; a receiver’s own address in its by clause is read', () => {
  const helo = parseReceived(
    'from mail.axess.com (HELO x) (216.162.64.150) by newmail.axess.com with SMTP; 23 Aug 2002 07:44:19 -0000',
  );
  assert.equal(helo.fromRdns, 'mail.axess.com');
  assert.ok(helo.notes.includes('rdns-unverified'), helo.notes.join());
  const same = parseReceived(
    'from mpehp1.mpe-garching.mpg.de (root@130.183.70.10) by o05.xray.mpe.mpg.de with SMTP; 16 Dec 2002 14:31:36 -0000',
  );
  assert.equal(same.fromHelo, 'mpehp1.mpe-garching.mpg.de');
  assert.ok(same.notes.includes('qmail-name'), same.notes.join());
  // Exchange writes `from helo (ip)` too, but with an id and its own address: a greeting, not a reverse name.
  const exchange = parseReceived(
    'from apiron13.triara.com (200.57.129.98) by APCNHUB11.correo.local (172.18.31.175) with Microsoft SMTP Server ' +
      'id 14.3.498.0; Mon, 10 Oct 2022 15:11:35 -0500',
  );
  assert.ok(!exchange.notes.includes('qmail-name') && !exchange.notes.includes('rdns-unverified'));
  assert.equal(exchange.byIp, '172.18.31.175');
  assert.equal(
    parseReceived(
      'from mx03.futurequest.net (mx03.futurequest.net [69.5.6.174]) by pt02.futurequest.net ([69.5.6.173]) with ' +
        'FQDP via TCP; 21 Aug 2016 10:49:40 -0000',
    ).byIp,
    '69.5.6.173',
  );
  assert.equal(
    parseReceived('from a (a [192.0.2.1]) by mx.example (Postfix) with ESMTP id 1; Mon, 1 Jan 2024 00:00:00 +0000')
      .byIp,
    null,
  );
});
