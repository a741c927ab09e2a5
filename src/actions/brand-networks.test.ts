import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brandNetwork } from './brand-networks.ts';
import { trustTableFor } from '../analysis/stages/traceback/trust.ts';
import { ipExclusion, type Exclusions } from '../feeds/lists/exclusions.ts';

test('a brand’s own AS is its network; clouds, access and transit networks carrying its name are not', () => {
  // AS names as the shipped ip-location-db data gives them for origins in the corpora.
  assert.equal(brandNetwork('eBay, Inc'), 'eBay');
  assert.equal(brandNetwork('PayPal, Inc.'), 'PayPal');
  assert.equal(brandNetwork('Apple Inc.'), 'Apple');
  assert.equal(brandNetwork('Société Générale'), 'Société Générale');
  assert.equal(brandNetwork('SOCIETE GENERALE'), 'Société Générale');
  // Their customers' machines are listed as ever.
  for (const shared of [
    'Amazon.com, Inc.',
    'Google LLC',
    'Microsoft Corporation',
    'Orange S.A.',
    'Verizon Business',
    // A brand that is an access provider: its AS carries subscribers' lines (`*.rev.gaoland.net`).
    'Societe Francaise Du Radiotelephone - SFR SA',
  ])
    assert.equal(brandNetwork(shared), null, shared);
  // A brand's name inside another word, and an unknown AS, name no brand; the whole word does.
  assert.equal(brandNetwork('Upsilon Systems'), null);
  assert.equal(brandNetwork('Chasewood Holdings'), null);
  assert.equal(brandNetwork('JPMorgan Chase & Co.'), 'Chase');
  assert.equal(brandNetwork(null), null);
});

test('an address in a brand’s network is never listed, and the reason names the brand and its AS', () => {
  const ex: Exclusions = {
    trust: trustTableFor([], null),
    senderIps: new Set(),
    senderDomains: new Set(),
    neverNetworks: [],
    neverDomains: [],
    ownDomains: [],
  };
  const why = ipExclusion('66.135.215.239', ex, 'smfcamppool10.emailebay.com', 11643, 'eBay, Inc');
  assert.match(why ?? '', /^in eBay’s own network \(AS11643 eBay, Inc\)/);
  // The same address with no AS known, and a hosting network's, may be listed.
  assert.equal(ipExclusion('66.135.215.239', ex, null, null, null), null);
  assert.equal(ipExclusion('80.96.157.86', ex, null, 9009, 'M247 Europe SRL'), null);
});
