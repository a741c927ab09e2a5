/**
 * The case summary keeps the hosts a message makes a mail client fetch (images, style sheets,
 * tracking pixels) apart from the links it advertises, and so the addresses a message only writes in
 * its text while its links go elsewhere; the HTML report shows each apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../../analysis/analyse.ts';
import { staticPorts } from '../../analysis/ports/index.ts';
import { defaultAnalysisSettings } from '../../analysis/settings.ts';
import { renderCaseReportHtml } from './case-report-html.ts';
import { buildCaseSummary } from './case-summary.ts';
import type { Analysis } from '../../analysis/analysis-schema.ts';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { splitMbox } from '../../analysis/test-support/corpus-messages.ts';

const RAW = Buffer.from(
  [
    'From: "Shop" <deals@shop.example>',
    'To: someone@example.org',
    'Subject: Deals',
    'Message-ID: <1@shop.example>',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><head><link rel="stylesheet" href="https://cdn.example.net/s.css"></head><body>',
    '<a href="https://buy.shop.example/now">Buy</a> <img src="https://img.example.com/banner.png"> <img ' +
      'src="logo.png" width="1" height="1">',
    '</body></html>',
  ].join('\r\n'),
);

/** The summary of a case of one report of `a`'s message. */
function summaryOf(a: Analysis) {
  return buildCaseSummary({
    case: {
      id: 'C1',
      target_kind: 'campaign',
      target_value: 'k',
      title: 'Deals',
      category: 'scam',
      state: 'open',
      merged_into: null,
      opened_by: 'rule:X',
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
    },
    authority: { name: 'A', country: 'FR', competence: 'consumer' },
    reports: [{ reportId: 'r1', sha256: a.sha256, receivedAt: '2026-01-01T00:00:00Z', channel: 'web' }],
    facts: new Map(),
    analyses: new Map([[a.sha256, a]]),
    history: [],
    generatedAt: '2026-01-02T00:00:00Z',
    instance: { org: 'o', url: 'u' },
  });
}

test('resources are counted apart from links and advertised domains, and listed apart in the report', async () => {
  const a = await analyse(RAW, { ports: staticPorts(), settings: defaultAnalysisSettings({ dnsMode: 'offline' }) });
  const summary = summaryOf(a);
  assert.deepEqual(
    summary.indicators.urls.map((u) => u.value),
    ['https://buy.shop.example/now'],
  );
  assert.deepEqual(
    summary.indicators.domains.map((u) => u.value),
    ['shop.example'],
  );
  assert.deepEqual(summary.indicators.resourceHosts.map((u) => u.value).sort(), ['cdn.example.net', 'img.example.com']);
  assert.ok(!summary.indicators.resources.some((u) => u.value.includes('logo.png')), 'a relative logo.png is no host');
  const html = renderCaseReportHtml(summary, { packageId: 'P', keyFingerprint: 'F' });
  assert.match(html, /Resources the message makes a mail client fetch/);
  assert.ok(html.indexOf('img.example.com') > html.indexOf('Resources the message makes'));
  // For a French-speaking authority: the page's own words in French, the evidence as it is.
  const fr = renderCaseReportHtml(summary, { packageId: 'P', keyFingerprint: 'F' }, 'fr');
  assert.match(fr, /<html lang="fr">/);
  assert.match(fr, /Ressources que le message fait charger/);
  assert.match(fr, /<h2>Remontée\u00a0: d’où venait le courriel<\/h2>/);
  assert.ok(fr.indexOf('img.example.com') > fr.indexOf('Ressources que le message'));
  for (const english of ['Resources the message', 'Trace-back', 'Referred to', 'Advertised domains', 'do not open'])
    assert.ok(!fr.includes(english), `no "${english}" in the French page`);
});

test('a message whose origin is the receiving side’s own machine names no origin to the authority', async () => {
  const a = await analyse(RAW, { ports: staticPorts(), settings: defaultAnalysisSettings({ dnsMode: 'offline' }) });
  const inside = {
    ...a,
    traceback: {
      ...a.traceback,
      origin: { ip: '65.23.81.140', hopIndex: 1, ipVersion: 4 as const, reason: 'written inside the receiving side' },
      flags: ['origin-inside-receiver'],
    },
  };
  const outside = { ...inside, traceback: { ...inside.traceback, flags: [] } };
  const originOf = (analysis: Analysis) => summaryOf(analysis).messages[0]?.origin;
  assert.equal(originOf(inside), null);
  assert.equal(originOf(outside), '65.23.81.140');
});

test('a phish’s list of real banks written as text is listed apart from what it advertises', async (t) => {
  if (!needsCorpus(t, 'nazario_phishing/phishing0.mbox')) return;
  const raw = splitMbox(fs.readFileSync(path.join(CORPUS_DIR, 'nazario_phishing/phishing0.mbox')))[319];
  const a = await analyse(raw, { ports: staticPorts(), settings: defaultAnalysisSettings({ dnsMode: 'offline' }) });
  const summary = summaryOf(a);
  const advertised = summary.indicators.domains.map((d) => d.value);
  assert.deepEqual(advertised, ['paypal.com']);
  assert.ok(
    summary.indicators.urls.some((u) => u.value.startsWith('http://203.117.148.20/')),
    'the phishing link',
  );
  const named = summary.indicators.mentionedDomains.map((d) => d.value);
  for (const bank of ['usbank.com', 'keybank.com', 'wellsfargo.com', '53.com']) assert.ok(named.includes(bank), bank);
  const html = renderCaseReportHtml(summary, { packageId: 'P', keyFingerprint: 'F' });
  const section = html.indexOf('Addresses the message only writes in its text');
  assert.ok(section > html.indexOf('Advertised domains'));
  assert.ok(html.indexOf('keybank.com') > section, 'the banks appear only in the section of addresses named');
  const fr = renderCaseReportHtml(summary, { packageId: 'P', keyFingerprint: 'F' }, 'fr');
  assert.ok(fr.indexOf('keybank.com') > fr.indexOf('Adresses que le message écrit seulement'));
});
