import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAccessName, isHostingDomain, isMailHostName, isPlaceholderDomain } from './org.ts';

test('an access word that is the registered domain names an organisation, not a subscriber line', () => {
  for (const [name, ip] of [
    ['h12.mail.home.com', '24.0.95.46'],
    ['mx6-w.mail.home.com', '24.0.95.71'],
    ['smtp.cable.co.uk', '192.0.2.25'],
    ['mx1.mobile.de', '192.0.2.26'],
    ['home.com', null],
  ] as const) {
    assert.ok(!isAccessName(name, ip), name);
  }
});

test('access labels below the registered domain still mark a line, whatever the domain is called', () => {
  for (const [name, ip] of [
    ['cpe-24-0-95-46.dsl.home.com', '24.0.95.46'],
    ['c123.pool.cable.co.uk', null],
    ['ATuileries-108-2-1-172.abo.wanadoo.fr', '217.128.152.172'],
    ['static.88-198-10-10.clients.your-server.de', '88.198.10.10'],
    ['ec2-3-4-5-6.compute-1.amazonaws.com', '3.4.5.6'],
  ] as const) {
    assert.ok(isAccessName(name, ip), name);
  }
});

test('a name under no public suffix is judged whole: it has no registered domain to set apart', () => {
  assert.ok(isAccessName('mypc.home', null));
  assert.ok(isAccessName('gw.dsl.localdomain', null));
});

test('a name that spells its address marks a line wherever the address stands, registered domain included', () => {
  for (const [name, ip] of [
    ['211-236-161-5-e-serverbank.com', '211.236.161.5'],
    ['1434930387.ip2long.net', '85.135.76.211'],
    ['cr200248273.cable.net.co', '200.24.82.73'],
    ['h200024082073.example.net', '200.24.82.73'],
    ['tps.11.168.195.in-addr.arpa', '195.168.11.19'],
  ] as const) {
    assert.ok(isAccessName(name, ip), name);
  }
  // Digits that are not this address prove nothing.
  assert.ok(!isAccessName('mail1434930388.example.net', '85.135.76.211'));
  assert.ok(!isAccessName('smtp.12345678.example.net', '85.135.76.211'));
});

test('documentation and test names (RFC 2606, RFC 6761) are placeholders, real domains are not', () => {
  for (const n of ['example.com', 'mail1.example.com', 'x.example.net', 'shop.example', 'a.b.test', 'hub.local'])
    assert.equal(isPlaceholderDomain(n), true, n);
  for (const n of ['myexample.com', 'example.co.uk', 'netscape.com', 'testing.org', 'local.fr', null])
    assert.equal(isPlaceholderDomain(n), false, String(n));
});

test('a hosting company’s naming domain for its customers is told from its own and from its customers’ domains', () => {
  // AS names as the offline data gives them for these companies' ranges.
  for (const [domain, asName] of [
    ['contaboserver.net', 'Contabo GmbH'],
    ['amazonaws.com', 'Amazon.com, Inc.'],
    ['googleusercontent.com', 'Google LLC'],
    ['stratoserver.net', 'Strato AG'],
    ['onlinehome-server.com', 'IONOS SE'],
    ['linodeusercontent.com', 'Akamai Technologies, Inc.'],
  ] as const) {
    assert.ok(isHostingDomain(domain, asName), `${domain} / ${asName}`);
  }
  for (const [domain, asName] of [
    // The hosting company's own domain, named after it alone: its own machines.
    ['contabo.com', 'Contabo GmbH'],
    ['hetzner.com', 'Hetzner Online GmbH'],
    ['yandex.net', 'Yandex.Cloud LLC'],
    ['oracle.com', 'Oracle Corporation'],
    ['hosteurope.de', 'Host Europe GmbH'],
    // Shared web hosting: the company's own machines and mail software, whoever's site they serve.
    ['your-server.de', 'Hetzner Online GmbH'],
    // A customer's own domain in the hosting network.
    ['acme-widgets.de', 'Hetzner Online GmbH'],
    // Not that company's network, or no hosting network, or none known.
    ['contaboserver.net', 'Deutsche Telekom AG'],
    ['onlinehome-server.com', 'Contabo GmbH'],
    ['picturehost.com.br', 'PICTURE INFORMATICA EIRELI'],
    ['contaboserver.net', null],
  ] as const) {
    assert.ok(!isHostingDomain(domain, asName), `${domain} / ${asName}`);
  }
});

test('a mail machine’s name is told by its labels below the registered domain', () => {
  for (const n of ['mail.your-server.de', 'forward1h.mail.yandex.net', '10.mo7.mail-out.ovh.net', 'mxback1h.x.net'])
    assert.ok(isMailHostName(n), n);
  for (const n of ['vmi222222.contaboserver.net', 'www456.your-server.de', 'mail.net', 'gator4123.hostgator.com'])
    assert.ok(!isMailHostName(n), n);
});

test('subscriber lines named by a provider’s own scheme, with no access word, are lines (corpus names)', () => {
  for (const [name, ip] of [
    ['pcp04346360pcs.pthurn01.mi.comcast.net', '68.60.103.182'],
    ['bgp01360964bgs.sandia01.nm.comcast.net', '68.35.68.128'],
    ['s0106000c41ce0f10.vc.shawcable.net', '24.80.241.24'],
    ['cc1130914-a.zwoll1.ov.home.nl', '82.74.161.205'],
    ['cp504694-a.roose1.nb.home.nl', '84.26.204.208'],
    ['a227055.upc-a.chello.nl', '62.163.227.55'],
    ['p7205-ipad208funabasi.chiba.ocn.ne.jp', '60.43.108.205'],
    ['p5052-ipbfp403gifu.gifu.ocn.ne.jp', '124.98.184.52'],
    ['p41211-adsau16honb10-acca.tokyo.ocn.ne.jp', '222.147.57.211'],
    ['1cust91.tnt15.det3.da.uu.net', '67.217.14.91'],
    ['pb72.jedwabne.sdi.tpnet.pl', '80.49.229.72'],
    // Named by a review from real mail: OCN's fibre lines, Netvigator's home lines.
    ['p1285116-ipngn200805sizuokaden.shizuoka.ocn.ne.jp', '114.171.61.116'],
    ['p912131-ipoe.ipoe.ocn.ne.jp', '153.243.13.130'],
    ['pcd589144.netvigator.com', '218.102.121.144'],
  ] as const) {
    assert.ok(isAccessName(name, ip), name);
  }
  // Relays close to a scheme: Verizon's outbound relays; a short provider label under another domain.
  for (const [name, ip] of [
    ['vms173001pub.verizon.net', '206.46.173.1'],
    ['gw.sdi.example.edu', '198.51.100.1'],
    ['tnt1.example.com', '198.51.100.9'],
  ] as const) {
    assert.ok(!isAccessName(name, ip), name);
  }
});

test('an address written as joined octets marks a line; two joined octets in a relay’s name do not', () => {
  for (const [name, ip] of [
    ['cs2427121-96.houston.rr.com', '24.27.121.96'],
    ['cs242197-43.houston.rr.com', '24.242.197.43'],
    ['c141.h061013202.is.net.tw', '61.13.202.141'],
    ['cm168005.red83-165.mundo-r.com', '83.165.168.5'],
    ['089-100-011144.ntlworld.ie', '89.100.11.144'],
    ['nz229.net219112166.thn.ne.jp', '219.112.166.229'],
    ['unregister210213225195.gliwice.msk.pl', '195.225.213.210'],
  ] as const) {
    assert.ok(isAccessName(name, ip), name);
  }
  // Relays of the corpus whose names carry digits of their address, or long serial numbers.
  for (const [name, ip] of [
    ['mail-40138.protonmail.ch', '185.70.40.138'],
    ['mx18198.ff02.com', '69.6.18.198'],
    ['mail19958.hm1481.locaweb.com.br', '191.252.199.58'],
    ['web13901.mail.yahoo.com', '216.136.175.27'],
    ['mx07-00096706.pphosted.com', '185.132.181.231'],
    ['mail-bn8nam12olkn20801.outbound.protection.outlook.com', '2a01:111:f400:fe5b::801'],
    ['sim-mail-05cb65d081f745a2b.nova.us-east-1.pmops.net', '18.208.124.1'],
    ['h12.mail.home.com', '24.0.95.46'],
    ['dh1920.example.com', '192.0.2.19'],
  ] as const) {
    assert.ok(!isAccessName(name, ip), name);
  }
});
