/** IP → ASN / country over the shipped ip-location-db data, and the range table underneath. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildIpLocationData,
  deserialiseIpLocationData,
  loadIpLocationDb,
  lookupIn,
  serialiseIpLocationData,
} from './ip-location-db.ts';

const SMALL = buildIpLocationData({
  asn4: '1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."\n8.8.8.0,8.8.8.255,15169,Google LLC\n',
  asn6: '2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n',
  country4: '1.0.0.0,1.0.0.255,AU\n8.8.8.0,8.8.8.255,US\n',
  country6: '2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,US\n',
});

test('range table: inclusive bounds, gaps, quoted AS names, IPv6', () => {
  assert.deepEqual(lookupIn(SMALL, '1.0.0.0'), {
    asn: 13335,
    asName: 'Cloudflare, Inc.',
    country: 'AU',
    network: null,
  });
  assert.equal(lookupIn(SMALL, '1.0.0.255')?.asn, 13335);
  assert.equal(lookupIn(SMALL, '1.0.1.0'), null);
  assert.equal(lookupIn(SMALL, '8.8.4.4'), null);
  assert.equal(lookupIn(SMALL, '2001:4860:4860::8888')?.asn, 15169);
  assert.equal(lookupIn(SMALL, '2001:4861::1'), null);
  assert.equal(lookupIn(SMALL, 'not an ip'), null);
});

test('the binary cache round-trips and refuses another version', () => {
  const buf = serialiseIpLocationData(SMALL, 'v1');
  const back = deserialiseIpLocationData(buf, 'v1');
  assert.ok(back);
  assert.deepEqual(lookupIn(back, '8.8.8.8'), lookupIn(SMALL, '8.8.8.8'));
  assert.equal(lookupIn(back, '2001:4860::1')?.asName, 'Google LLC');
  assert.equal(deserialiseIpLocationData(buf, 'v2'), null);
  assert.equal(deserialiseIpLocationData(Buffer.from('garbage'), 'v1'), null);
});

test('the shipped data answers for well-known networks (IPv4 and IPv6)', () => {
  const d = loadIpLocationDb();
  assert.ok(d.asn4.size > 100_000 && d.asn6.size > 10_000, `rows ${d.asn4.size}/${d.asn6.size}`);
  assert.equal(lookupIn(d, '8.8.8.8')?.asn, 15169);
  assert.equal(lookupIn(d, '209.85.220.41')?.asn, 15169);
  assert.equal(lookupIn(d, '40.92.1.1')?.asn, 8075);
  assert.equal(lookupIn(d, '80.12.242.10')?.asn, 3215);
  assert.equal(lookupIn(d, '80.12.242.10')?.country, 'FR');
  assert.equal(lookupIn(d, '2a00:1450:4000::1')?.asn, 15169);
  assert.equal(lookupIn(d, '10.0.0.1'), null);
});
