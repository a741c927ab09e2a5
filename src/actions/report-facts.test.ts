/**
 * The facts a case rule reads: advertised domains are what a message sends its reader to, never a
 * host it only makes the mail client fetch (an image CDN, a tracking pixel).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { splitMbox } from '../analysis/test-support/corpus-messages.ts';
import { fingerprintOf } from '../campaigns/fingerprint.ts';
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

test(
  'an origin on the receiving side, or read from a hand resend’s original delivery, is no origin to act on: no ' +
    'facts, no campaign indicator',
  async (t) => {
    if (!needsCorpus(t, 'nazario_phishing/phishing1.mbox')) return;
    const mbox = splitMbox(fs.readFileSync(path.join(CORPUS_DIR, 'nazario_phishing/phishing1.mbox')));
    const policy = parseActionPolicy(DEFAULT_POLICY_INPUT);
    const factsOf = async (n: number, edit: (raw: Buffer) => Buffer = (raw) => raw) => {
      const raw = mbox[n];
      assert.ok(raw, `message ${n}`);
      const a = await analyse(edit(raw), {
        ports: staticPorts(),
        settings: defaultAnalysisSettings({ dnsMode: 'offline' }),
      });
      const input = { reportId: 'r', sha256: a.sha256, receivedAt: '2026-01-01T00:00:00Z', campaignId: null };
      return { a, row: factsFrom({ ...input, category: 'phishing', analysis: a }, policy), fp: fingerprintOf(a) };
    };
    const noFacts = (r: Awaited<ReturnType<typeof factsOf>>) => {
      assert.deepEqual(
        [r.row.origin_ip, r.row.origin_asn, r.row.origin_abuse, r.row.bot_signals],
        [null, null, null, '[]'],
      );
      assert.ok(!r.fp.facts.some((f) => f.kind === 'ip' || f.kind === 'asn' || f.kind === 'country'));
    };
    // #200: Beth resent the phish to Jose from naughty.monkey.org, through monkey.org's own relays. Without the
    // original delivery she kept (its X-Received fields renamed away), the origin is monkey.org's own machine.
    const inside = await factsOf(200, (raw) =>
      Buffer.from(raw.toString('latin1').replace(/^X-Received:/gim, 'X-Old:'), 'latin1'),
    );
    assert.equal(inside.a.traceback.origin?.ip, '65.23.81.140');
    assert.ok(inside.a.traceback.flags.includes('origin-inside-receiver'));
    noFacts(inside);
    // With it, the origin is the machine that handed the phish to monkey.org (traceback/resent.ts): shown, never
    // acted on.
    const resend = await factsOf(200);
    assert.equal(resend.a.traceback.origin?.ip, '63.194.169.22');
    assert.ok(resend.a.traceback.flags.includes('origin-resent-original'));
    noFacts(resend);
    // #299: handed in from outside (mail.geo.ua.edu): its origin is acted on as before.
    const outside = await factsOf(299);
    assert.equal(outside.row.origin_ip, '130.160.200.98');
    assert.ok(outside.fp.facts.some((f) => f.kind === 'ip' && f.value === '130.160.200.98'));
  },
);

test('a real spam whose pages are one user’s directory on an ISP’s home-page server: the server’s domain is no \
advertised domain (no listing, no case target), the sender’s own site is', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam_2')) return;
  const file = path.join(CORPUS_DIR, 'spamassassin/spam_2/00280.3432009813aa8a8683c72ad31ce7e0e0');
  const a = await analyse(fs.readFileSync(file), {
    ports: staticPorts(),
    settings: defaultAnalysisSettings({ dnsMode: 'offline' }),
  });
  assert.ok(
    a.indicators.urls.some((u) => u.url.startsWith('http://home.attbi.com/~johnsonhomestor1/') && u.role === 'link'),
    'it links pages under home.attbi.com/~johnsonhomestor1',
  );
  const facts = factsFrom(
    {
      reportId: 'r',
      sha256: a.sha256,
      receivedAt: '2002-09-09T00:00:00Z',
      campaignId: null,
      category: 'commercial',
      analysis: a,
    },
    parseActionPolicy(DEFAULT_POLICY_INPUT),
  );
  const advertised: string[] = JSON.parse(facts.advertised_domains ?? '[]');
  assert.ok(!advertised.includes('attbi.com'), advertised.join(', '));
  assert.ok(advertised.includes('johnsonhome2276.com'), advertised.join(', '));
});
