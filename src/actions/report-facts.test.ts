/**
 * The facts a case rule reads: advertised domains are what a message sends its reader to, never a
 * host it only makes the mail client fetch (an image CDN, a tracking pixel).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../analysis/analyse.ts';
import { staticPorts } from '../analysis/ports/index.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import { DEFAULT_POLICY_INPUT, parseActionPolicy } from './action-policy.ts';
import { factsFrom } from './report-facts.ts';

const RAW = Buffer.from(
  [
    'From: "Shop" <deals@shop.example>',
    'To: someone@example.org',
    'Subject: Deals',
    'Message-ID: <2@shop.example>',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<a href="https://buy.shop.example/now">Buy</a><img src="https://images.cdn-host.example/banner.png"><div ' +
      'style="background:url(https://px.tracker.example/o.gif)"></div>',
  ].join('\r\n'),
);

test('advertised domains come from links, not from resources', async () => {
  const a = await analyse(RAW, { ports: staticPorts(), settings: defaultAnalysisSettings({ dnsMode: 'offline' }) });
  assert.ok(a.indicators.urls.some((u) => u.host === 'images.cdn-host.example' && u.role === 'resource'));
  const facts = factsFrom(
    {
      reportId: 'r',
      sha256: a.sha256,
      receivedAt: '2026-01-01T00:00:00Z',
      campaignId: null,
      category: null,
      analysis: a,
    },
    parseActionPolicy(DEFAULT_POLICY_INPUT),
  );
  assert.deepEqual(JSON.parse(facts.advertised_domains ?? '[]'), ['shop.example']);
});
