/**
 * What the intel feeds never publish, value by value: private, reserved and documentation
 * addresses, trusted providers' relays (by address and host name), verified senders' networks and
 * domains, shared platforms and impersonated brands' domains, reserved names, this instance's own
 * domain; and what they do publish. Plus STIX pattern quoting and the deterministic UUIDv5.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse } from '../../analysis/analyse.ts';
import { advertisedUrls } from '../../analysis/advertised.ts';
import { fingerprintOf } from '../../campaigns/fingerprint.ts';
import { offlinePorts } from '../../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../../analysis/settings.ts';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { trustTableFor } from '../../analysis/stages/traceback/trust.ts';
import { parseCidr, type Cidr } from '../../analysis/stages/traceback/ip-class.ts';
import { buildExclusions } from './exclusions.ts';
import { userDirectoryOnly, type SourceValue } from './sources.ts';
import { patternLiteral, patternOf } from './stix.ts';
import { uuidV5 } from './stix-ids.ts';

function exclusions() {
  const nets = [parseCidr('198.18.0.0/15'), parseCidr('85.10.0.0/24')].filter((c): c is Cidr => c !== null);
  return buildExclusions({
    trust: trustTableFor(['mx.desk.example.org'], null),
    senders: { nets, domains: new Set(['newsletter-co.fr']) },
    instanceDomain: 'spamdesk.fr',
  });
}

test('addresses: only public ones outside trusted relays and verified senders', () => {
  const ex = exclusions();
  assert.equal(ex.ip('81.2.69.160'), null);
  assert.equal(ex.ip('2a01:4f8:1:2::5'), null);
  assert.match(String(ex.ip('10.0.0.8')), /private/);
  assert.match(String(ex.ip('192.168.1.1')), /private/);
  assert.match(String(ex.ip('127.0.0.1')), /loopback/);
  assert.match(String(ex.ip('192.0.2.7')), /documentation/);
  assert.match(String(ex.ip('fe80::1')), /link-local/);
  assert.match(String(ex.ip('209.85.220.41')), /relay of a trusted provider \(Google/);
  assert.match(String(ex.ip('85.10.0.7')), /verified sender/);
  // By the network the reports' facts give it, as the lists judge it: a shared sending platform's
  // relay, a brand's own server; the same address with no network known may be published.
  const sendgrid = { rdns: 'o1.ptr1234.sendgrid.net', asn: 11377, asName: 'SendGrid, Inc.' };
  assert.match(String(ex.ip('149.72.218.220', sendgrid)), /shared sending platform \(SendGrid/);
  assert.match(String(ex.ip('66.135.215.239', { rdns: null, asn: 11643, asName: 'eBay, Inc' })), /eBay’s own network/);
  assert.equal(ex.ip('66.135.215.239'), null);
  assert.match(String(ex.ip('not-an-ip')), /not an IP/);
});

test('host names: no platform, brand, verified sender, provider, reserved name or own domain', () => {
  const ex = exclusions();
  assert.equal(ex.host('secure-bank-verify-login.com'), null);
  assert.equal(ex.host('login.secure-bank-verify-login.com'), null);
  assert.match(String(ex.host('docs.google.com')), /platform|brand/);
  assert.match(String(ex.host('www.paypal.com')), /platform|brand/);
  assert.match(String(ex.host('news.newsletter-co.fr')), /verified sender \(newsletter-co\.fr\)/);
  assert.match(String(ex.host('shop.example')), /reserved/);
  assert.match(String(ex.host('localhost')), /reserved/);
  assert.match(String(ex.host('report.spamdesk.fr')), /own domain/);
  assert.match(String(ex.host('10.1.1.1')), /private/);
});

test('sender addresses: not at a verified sender or a reserved name', () => {
  const ex = exclusions();
  assert.equal(ex.email('scammer.payouts@gmail.com'), null);
  assert.match(String(ex.email('promo@mail.newsletter-co.fr')), /verified sender/);
  assert.match(String(ex.email('x@bank.test')), /reserved/);
  assert.match(String(ex.email('nobody')), /not an address/);
});

test('patterns quote backslashes and quotes (STIX 2.1 §9.2); ids are RFC 4122 version 5', () => {
  assert.equal(patternLiteral("it's \\ here"), "'it\\'s \\\\ here'");
  assert.equal(patternOf('ip', '2A01:4F8:0:0::5'), "[ipv6-addr:value = '2a01:4f8::5']");
  assert.equal(patternOf('email', 'a@b.com'), "[email-message:from_ref.value = 'a@b.com']");
  assert.equal(patternOf('phone', '+33600000000'), null);
  // RFC 4122 appendix B's example namespace (DNS) and a well-known UUIDv5 test vector.
  assert.equal(
    uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'),
    '2ed6657d-e927-568b-95e1-2665a8aea6a2',
  );
});

/** A corpus message (path under the corpus folder) analysed offline, as of the day the tests below were written. */
function corpusAnalysis(file: string) {
  const ports = offlinePorts(new Date('2026-12-06T00:00:00Z'));
  return analyse(fs.readFileSync(path.join(CORPUS_DIR, file)), { ports, settings: defaultAnalysisSettings() });
}

test('a real phish through bit.do and a real scam through a Telegram group: the link services are never published, \
the full links are', async (t) => {
  if (!needsCorpus(t, 'phishing_pot/email')) return;
  const ex = exclusions();
  for (const [file, service] of [
    ['phishing_pot/email/sample-69.eml', 'bit.do'],
    ['phishing_pot/email/sample-19.eml', 't.me'],
  ] as const) {
    const a = await corpusAnalysis(file);
    const links = advertisedUrls(a).filter((u) => u.registrableDomain === service);
    assert.ok(links.length > 0, `${file} advertises ${service}`);
    // The domain every link of the service shares is refused; the one link the message carries is not.
    assert.match(String(ex.host(service)), /shortener|publishing/, service);
    for (const u of links) assert.equal(ex.host(u.host, { fullUrl: true }), null, u.url);
    if (service === 'bit.do') assert.ok(links.every((u) => u.shortener));
  }
});

test('e-mail service providers\u2019 link hosts in real spam and phish are never published nor a campaign link: \
AWeber, Oracle Responsys', async (t) => {
  if (!needsCorpus(t, 'phishing_pot/email') || !needsCorpus(t, 'spamassassin/spam_2')) return;
  const ex = exclusions();
  for (const [file, esp] of [
    ['spamassassin/spam_2/00804.57b0c0216c40c2b3bb2743a8cb05f2d6', 'aweber.com'],
    ['phishing_pot/email/sample-247.eml', 'responsys.net'],
  ] as const) {
    const a = await corpusAnalysis(file);
    assert.ok(
      a.indicators.urls.some((u) => u.registrableDomain === esp),
      `${file} links ${esp}`,
    );
    assert.match(String(ex.host(esp)), /shared platform/, esp);
    assert.ok(!fingerprintOf(a).links.some((l) => l.value === esp), `${esp} is no campaign link`);
  }
});

test('a real Capital One phish made of the bank\u2019s own newsletter: capitalone.com, which every link goes to, is \
never published nor a campaign link', async (t) => {
  if (!needsCorpus(t, 'phishing_pot/email')) return;
  const a = await corpusAnalysis('phishing_pot/email/sample-1250.eml');
  assert.ok(
    advertisedUrls(a).some((u) => u.registrableDomain === 'capitalone.com'),
    'the phish advertises capitalone.com',
  );
  assert.match(String(exclusions().host('capitalone.com')), /impersonated brand/);
  assert.match(String(exclusions().host('click-notification.capitalone.com')), /impersonated brand/);
  assert.ok(!fingerprintOf(a).links.some((l) => l.value === 'capitalone.com'), 'capitalone.com is no campaign link');
});

test('a real spam advertising one user\u2019s page on an ISP\u2019s home-page server: the server\u2019s domain is \
refused, the page is the campaign link and stays publishable', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam')) return;
  const a = await corpusAnalysis('spamassassin/spam/00341.99b463b92346291f5848137f4a253966');
  const page = advertisedUrls(a).find((u) => u.registrableDomain === 'attbi.com');
  assert.ok(page, 'the spam advertises a page under attbi.com');
  assert.match(page.url, /^http:\/\/home\.attbi\.com\/~johnsonhomestor1\//);
  const links = fingerprintOf(a).links.map((l) => l.value);
  assert.ok(links.includes('home.attbi.com/~johnsonhomestor1'), links.join(', '));
  assert.ok(!links.includes('attbi.com'), 'the home-page server is no campaign link');
  const at = '2002-09-09T00:00:00Z';
  const value = (kind: SourceValue['kind'], v: string): SourceValue => ({
    kind,
    value: v,
    messages: 2,
    firstSeen: at,
    lastSeen: at,
  });
  const urls = a.indicators.urls.map((u) => value('url', u.url));
  assert.deepEqual([...userDirectoryOnly([value('domain', 'attbi.com'), ...urls])], ['attbi.com']);
  // A campaign that also links the server's own pages names the domain as before.
  assert.deepEqual([...userDirectoryOnly([...urls, value('url', 'http://www.attbi.com/offer')])], []);
  assert.equal(exclusions().host(page.host, { fullUrl: true }), null, 'the page itself may be published');
});
