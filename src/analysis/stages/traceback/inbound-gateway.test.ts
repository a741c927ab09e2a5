import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipLocationDbAsnLookup } from '../../ports/ip-location-db.ts';
import { traceRaw } from '../traceback.ts';
import { inboundGatewayWhy, spfClientsAbove } from './inbound-gateway.ts';
import { trustTableFor } from './trust.ts';

const f = (name: string, value: string) => ({ name, value });
const ips = (rows: { ip: string }[][]) => rows.map((r) => r.map((c) => c.ip));

test('the SPF clients a receiver records are read in each form, per Received field, from the fields above it', () => {
  const fields = [
    f(
      'arc-authentication-results',
      'i=1; mx.google.com; spf=pass (google.com: domain of a@b designates 52.1.96.230 as permitted sender)',
    ),
    f('received', 'from mx07-00096706.pphosted.com (mx07-00096706.pphosted.com. [185.132.181.231]) by mx.google.com'),
    f(
      'received-spf',
      'pass (google.com: domain of a@b designates 52.1.96.230 as permitted sender) client-ip=52.1.96.230;',
    ),
    f('authentication-results', 'spf=softfail (sender IP is 2a01:111:f400:7eab::807) smtp.mailfrom=x; dkim=none'),
    f('received', 'from a by b'),
    f('received-spf', 'fail (example.org: domain of x does not designate 203.0.113.9 as permitted sender)'),
    f('received', 'from c by d'),
  ];
  assert.deepEqual(ips(spfClientsAbove(fields, 10)), [
    ['52.1.96.230'],
    ['52.1.96.230', '52.1.96.230', '2a01:111:f400:7eab::807'],
    ['52.1.96.230', '52.1.96.230', '2a01:111:f400:7eab::807', '203.0.113.9'],
  ]);
  // Bounded by the number of hops traced.
  assert.equal(spfClientsAbove(fields, 1).length, 1);
  // Not an address: nothing.
  assert.deepEqual(ips(spfClientsAbove([f('received-spf', 'pass client-ip=not.an.ip;'), f('received', 'x')], 5)), [[]]);
});

test('a client is the inbound gateway only when its own receiver checked another public address below it', () => {
  const received = [
    { fromIp: '185.132.181.231', byHost: 'mx.google.com' },
    { fromIp: '127.0.0.1', byHost: 'mx07-00096706.pphosted.com' },
    { fromIp: '52.1.96.230', byHost: 'mx07-00096706.pphosted.com' },
  ];
  const google = (ip: string) => ({ ip, field: `i=1; mx.google.com; spf=pass (google.com: … designates ${ip} …)` });
  assert.match(inboundGatewayWhy(0, '185.132.181.231', received, [[google('52.1.96.230')]], false) ?? '', /gateway/);
  // The receiver checked the client itself: an ordinary hand-off.
  assert.equal(
    inboundGatewayWhy(0, '185.132.181.231', received, [[google('185.132.181.231'), google('52.1.96.230')]], false),
    null,
  );
  // Another receiver's record (it does not name google.com): not this hop's receiver's word.
  const other = { ip: '52.1.96.230', field: 'mail.example.org; spf=pass smtp.mailfrom=x (sender IP is 52.1.96.230)' };
  assert.equal(inboundGatewayWhy(0, '185.132.181.231', received, [[other]], false), null);
  // An address no hop below records, or a private one: nothing.
  assert.equal(inboundGatewayWhy(0, '185.132.181.231', received, [[google('198.51.100.7')]], false), null);
  assert.equal(inboundGatewayWhy(0, '185.132.181.231', received, [[google('127.0.0.1')]], false), null);
  // Nothing recorded above the hop.
  assert.equal(inboundGatewayWhy(0, '185.132.181.231', received, undefined, false), null);
});

const asn = ipLocationDbAsnLookup();
async function originOf(lines: string[]): Promise<string | undefined> {
  const raw = Buffer.from(
    `${[...lines, 'From: a@sender.example', 'Subject: x', '', 'body', ''].join('\r\n')}`,
    'latin1',
  );
  const w = await traceRaw(raw, { trust: trustTableFor([], null), asn, mailhosts: [], documentationIsPublic: false });
  return w.origin?.ip;
}
const SPAMMER = '45.141.84.12';
const INNOCENT = '93.184.216.34';
const below =
  `Received: from innocent.example (innocent.example [${INNOCENT}]) by bulk.sender.example with ESMTP; Wed, 29` +
  ` Sep 2021 17:20:40 +0000`;

test('a Microsoft 365 tenant behind a hosted filter with enhanced filtering: the filter is looked past', async () => {
  const origin = await originOf([
    'Received: from DM6PR11MB4657.namprd11.prod.outlook.com (2603:10b6:5:1b4::20) by' +
      ' BN0PR11MB5744.namprd11.prod.outlook.com with HTTPS; Wed, 29 Sep 2021 17:20:48 +0000',
    'Received: from DM6NAM11FT055.eop-nam11.prod.protection.outlook.com (2603:10b6:5:1b4:cafe::7) by' +
      ' DM6PR11MB4657.namprd11.prod.outlook.com (2603:10b6:5:1b4::20) with Microsoft SMTP Server; Wed, 29 Sep' +
      ' 2021 17:20:47 +0000',
    `Authentication-Results: spf=pass (sender IP is ${INNOCENT}) smtp.mailfrom=sender.example; dkim=none`,
    `Received-SPF: Pass (protection.outlook.com: domain of sender.example designates ${INNOCENT} as permitted` +
      ` sender) receiver=protection.outlook.com; client-ip=${INNOCENT}; helo=innocent.example;`,
    'Received: from us-smtp-delivery-1.mimecast.com (205.139.110.61) by' +
      ' DM6NAM11FT055.mail.protection.outlook.com (10.13.173.176) with Microsoft SMTP Server; Wed, 29 Sep 2021' +
      ' 17:20:46 +0000',
    `Received: from innocent.example (innocent.example [${INNOCENT}]) by us-smtp-delivery-1.mimecast.com with` +
      ` ESMTPS id abc; Wed, 29 Sep 2021 17:20:45 +0000`,
  ]);
  assert.equal(origin, INNOCENT);
});

test('what a sender chose in a receiver’s field never names the client: MAIL FROM, local parts', async () => {
  // Proton writes the whole envelope sender and no client address: a sender named `client-ip=…@` framed an address.
  assert.equal(
    await originOf([
      `Authentication-Results: mailin006.protonmail.ch; spf=pass smtp.mailfrom=client-ip=${INNOCENT}@sender.example`,
      `Received: from bulk.sender.example (bulk.sender.example [${SPAMMER}]) by mailin006.protonmail.ch` +
        ` (Postfix) with ESMTPS id 4HKN for <wpx@protonmail.com>; Wed, 29 Sep 2021 17:20:46 +0000`,
      below,
    ]),
    SPAMMER,
  );
  // Gmail quotes the envelope sender's local part: four `client-ip=` there once crowded out the real client.
  const local = `"client-ip=${INNOCENT} client-ip=::2 client-ip=::3 client-ip=::4"@sender.example`;
  assert.equal(
    await originOf([
      'Received: by 2002:a05:6a10:8e0b:b0:4d1:1b5c:aa1 with SMTP id ab11csp123; Wed, 29 Sep 2021 10:20:47 -0700',
      `ARC-Authentication-Results: i=1; mx.google.com; spf=pass (google.com: domain of ${local} designates` +
        ` ${SPAMMER} as permitted sender) smtp.mailfrom=${local}`,
      `Received: from bulk.sender.example (bulk.sender.example. [${SPAMMER}]) by mx.google.com with ESMTPS id` +
        ` x1si1 for <v@gmail.com>; Wed, 29 Sep 2021 10:20:46 -0700`,
      below,
    ]),
    SPAMMER,
  );
});

test('below a hand-off from another mailbox, its owner’s gateway setting is not the recipient’s', async () => {
  // A tenant of the sender's own, its "inbound gateway" set to the sender's machine, forwarding to the victim.
  assert.equal(
    await originOf([
      'Received: from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by' +
        ' mx.victim-university.example (Postfix) with ESMTPS id 77AA for <v@victim-university.example>; Wed, 29' +
        ' Sep 2021 10:20:49 -0700',
      'Received: by 2002:a05:6a10:8e0b:b0:4d1:1b5c:aa1 with SMTP id ab11csp124; Wed, 29 Sep 2021 10:20:48 -0700',
      `ARC-Authentication-Results: i=1; mx.google.com; spf=pass (google.com: domain of a@sender.example` +
        ` designates ${INNOCENT} as permitted sender) smtp.mailfrom=a@sender.example`,
      `Received: from gw.sender-tenant.example (gw.sender-tenant.example. [${SPAMMER}]) by mx.google.com with` +
        ` ESMTPS id x1si1 for <boss@sender-tenant.example>; Wed, 29 Sep 2021 10:20:46 -0700`,
      below,
    ]),
    SPAMMER,
  );
});
