/** Enrichment of the origin: AS data, abuse contacts, reverse DNS through the port. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptySections, type Analysis } from '../analysis-schema.ts';
import { abuseContactLookup, parseAbuseContactsCsv } from '../ports/abuse-contacts.ts';
import { StaticZoneResolver, type Zone } from '../ports/dns-static-zone.ts';
import { buildIpLocationData, ipLocationDbAsnLookup } from '../ports/ip-location-db.ts';
import { defaultAnalysisSettings } from '../settings.ts';
import type { AnalysisPorts, StageInput } from '../stage.ts';
import { enrichStage, reverseName } from './enrich.ts';

const DATA = buildIpLocationData({
  asn4: '198.51.100.0,198.51.100.255,64500,Example Transit\n',
  asn6: '2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64501,Example Six\n',
  country4: '198.51.100.0,198.51.100.255,FR\n',
  country6: '2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,DE\n',
});

function ports(zone: Zone, csv = ''): AnalysisPorts {
  return {
    dns: new StaticZoneResolver(zone),
    asn: ipLocationDbAsnLookup(DATA),
    abuse: abuseContactLookup(parseAbuseContactsCsv(csv)),
    clock: { now: () => new Date(0) },
  };
}

function inputWith(origin: Analysis['traceback']['origin'], rdns: string | null = null): StageInput {
  const sections = emptySections();
  const hop = {
    index: 0,
    raw: '',
    fromHelo: null,
    fromRdns: rdns,
    fromIp: origin?.ip ?? null,
    byHost: 'mx.example.org',
    protocol: 'ESMTP',
    tls: false,
    id: null,
    for: null,
    date: null,
    parsed: true,
    trusted: true,
    notes: [],
  };
  const analysis: Analysis = {
    sha256: '0'.repeat(64),
    analyserVersion: 'test',
    kind: 'email',
    analysedAt: new Date(0).toISOString(),
    ...sections,
    traceback: { hops: [hop], origin, steps: [], flags: [] },
    findings: [],
    stages: [],
    error: null,
  };
  return {
    message: {
      kind: 'email',
      raw: new Uint8Array(),
      sha256: '0'.repeat(64),
      email: null,
      sms: null,
      nested: [],
      decodeProblems: [],
    },
    analysis,
    reporter: null,
  };
}

const ctx = (p: AnalysisPorts) => ({ params: { ptrLookup: true }, ports: p, settings: defaultAnalysisSettings() });

test('reverse names for IPv4 and IPv6 (RFC 1035 §3.5, RFC 3596 §2.5)', () => {
  assert.equal(reverseName('198.51.100.7'), '7.100.51.198.in-addr.arpa');
  assert.equal(reverseName('2001:db8::1'), `1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.ip6.arpa`);
});

test('origin gets AS, country, PTR name from the zone and the operator’s abuse contact', async () => {
  const out = await enrichStage.run(
    inputWith({ ip: '198.51.100.7', hopIndex: 0, ipVersion: 4, reason: '' }),
    ctx(ports({ '7.100.51.198.in-addr.arpa': { PTR: ['host7.example.net.'] } }, 'AS64500,abuse@transit.example')),
  );
  assert.deepEqual(out.result?.enrichment?.origin, {
    ip: '198.51.100.7',
    asn: 64500,
    asName: 'Example Transit',
    country: 'FR',
    rdns: 'host7.example.net',
    abuseContacts: [{ address: 'abuse@transit.example', source: 'operator-table:AS64500' }],
  });
  assert.deepEqual(out.findings ?? [], []);
});

test('the name the receiver recorded wins over a fresh lookup; IPv6 is looked up too', async () => {
  const p = ports({});
  const out = await enrichStage.run(
    inputWith({ ip: '2001:db8::5', hopIndex: 0, ipVersion: 6, reason: '' }, 'recorded.example.net'),
    ctx(p),
  );
  assert.equal(out.result?.enrichment?.origin?.rdns, 'recorded.example.net');
  assert.equal(out.result?.enrichment?.origin?.asn, 64501);
  assert.equal(
    p.dns instanceof StaticZoneResolver ? p.dns.count : -1,
    0,
    'no PTR query when the receiver recorded a name',
  );
  assert.deepEqual(
    (out.findings ?? []).map((f) => f.code),
    ['ORIGIN_NO_ABUSE_CONTACT'],
  );
});

test('no PTR → ORIGIN_NO_RDNS; a failing resolver → DNS_TEMPFAIL, not a throw', async () => {
  const none = await enrichStage.run(
    inputWith({ ip: '198.51.100.8', hopIndex: 0, ipVersion: 4, reason: '' }),
    ctx(ports({})),
  );
  assert.ok((none.findings ?? []).some((f) => f.code === 'ORIGIN_NO_RDNS'));
  const fail = await enrichStage.run(
    inputWith({ ip: '198.51.100.9', hopIndex: 0, ipVersion: 4, reason: '' }),
    ctx(ports({ '9.100.51.198.in-addr.arpa': { PTR: 'SERVFAIL' } })),
  );
  assert.ok((fail.findings ?? []).some((f) => f.code === 'DNS_TEMPFAIL'));
  assert.equal(fail.result?.enrichment?.origin?.rdns, null);
});

test('no origin: nothing to enrich', async () => {
  const out = await enrichStage.run(inputWith(null), ctx(ports({})));
  assert.equal(out.result?.enrichment?.origin, null);
});
