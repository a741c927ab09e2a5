import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inboundGatewayWhy, spfClientsAbove } from './inbound-gateway.ts';

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
