/**
 * The trace-back's live DNS rule (`live-dns.ts`) on real corpus chains whose receivers recorded only
 * a greeting. The DNS answers are given by a static zone (the project's test resolver): the 2002 DNS
 * of these hosts cannot be asked any more, so each test states the answers a fresh report would get
 * and the clock is set to the day after the mail arrived.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR, needsCorpus } from '../../../core/test-env.ts';
import { readLabelled } from '../../../../scripts/eval/evaluate-traceback.ts';
import { ipLocationDbAsnLookup } from '../../ports/ip-location-db.ts';
import { BudgetedResolver } from '../../ports/dns-budget.ts';
import { StaticZoneResolver, type Zone } from '../../ports/dns-static-zone.ts';
import { staticPorts } from '../../ports/index.ts';
import { traceRaw, tracebackStage } from '../traceback.ts';
import { freshEnough, LIVE_DNS_MAX_AGE_MS } from './live-dns.ts';
import { parseReceived } from './received-parser.ts';
import { TrustTable } from './trust.ts';
import { walkChain } from './walk.ts';
import { narrativeIn } from '../../narrative-texts.ts';
import type { StageContext } from '../../stage.ts';
import { defaultAnalysisSettings } from '../../settings.ts';
import type { z } from 'zod';

const asn = ipLocationDbAsnLookup();
const trust = new TrustTable([], null);

/** Road Runner: mail4.nycap.rr.com (Post.Office) ← HELO tnmx01.mgw.rr.com [24.165.200.11] ← qm01.weather.com. */
const ROAD_RUNNER = 'spamassassin/hard_ham/00185.b30a53aad9d675993a9cec62cf515f2a';
const RR_NEXT_DAY = new Date('2002-08-16T12:00:00Z');

async function trace(rel: string, zone: Zone | null, now: Date) {
  const dns = zone === null ? null : new StaticZoneResolver(zone);
  const w = await traceRaw(readLabelled(CORPUS_DIR, rel), {
    trust,
    asn,
    mailhosts: [],
    documentationIsPublic: false,
    dns,
    now,
  });
  return { w, dns, text: w.steps.join('\n') };
}

const RR_CONFIRMED: Zone = {
  '11.200.165.24.in-addr.arpa': { PTR: ['tnmx01.mgw.rr.com.'] },
  'tnmx01.mgw.rr.com': { A: ['24.165.200.11'] },
};

test(
  'fresh mail: a greeting-only hop whose reverse name resolves back into the organisation’s domain is its ' + 'relay',
  async (t) => {
    if (!needsCorpus(t, 'spamassassin')) return;
    const { w, text } = await trace(ROAD_RUNNER, RR_CONFIRMED, RR_NEXT_DAY);
    assert.equal(w.origin?.ip, '65.212.71.36', text);
    assert.match(
      text,
      /looked up on 2002-08-16: its reverse name tnmx01\.mgw\.rr\.com resolves back to 24\.165\.200\.11/,
    );
    assert.ok(w.hops[2]?.notes.includes('live-fcrdns'));
    assert.ok(w.flags.includes('live-fcrdns@2'));
  },
);

test('a reverse name that does not resolve back, or a consumer-line name, earns nothing', async (t) => {
  if (!needsCorpus(t, 'spamassassin')) return;
  // The address's holder can write any PTR; the domain's A record must agree.
  const forged = await trace(
    ROAD_RUNNER,
    { '11.200.165.24.in-addr.arpa': { PTR: ['tnmx01.mgw.rr.com'] }, 'tnmx01.mgw.rr.com': { A: ['24.165.200.99'] } },
    RR_NEXT_DAY,
  );
  assert.equal(forged.w.origin?.ip, '24.165.200.11', forged.text);
  const line = await trace(
    ROAD_RUNNER,
    {
      '11.200.165.24.in-addr.arpa': { PTR: ['cpe-24-165-200-11.nycap.res.rr.com'] },
      'cpe-24-165-200-11.nycap.res.rr.com': { A: ['24.165.200.11'] },
    },
    RR_NEXT_DAY,
  );
  assert.equal(line.w.origin?.ip, '24.165.200.11', line.text);
});

/** @Home: femail33.sdc1.sfba.home.com (InterMail) ← HELO h12.mail.home.com [24.0.95.46] ← mx6-w.mail.home.com. */
const AT_HOME = 'spamassassin/hard_ham/00001.7c7d6921e671bbe18ebb5f893cd9bb35';

test(
  'fresh mail: an organisation whose registered domain is an access word (@Home, home.com) has relays too ' +
    '(spamassassin hard_ham/00001)',
  async (t) => {
    if (!needsCorpus(t, 'spamassassin')) return;
    const zone: Zone = {
      '46.95.0.24.in-addr.arpa': { PTR: ['h12.mail.home.com.'] },
      'h12.mail.home.com': { A: ['24.0.95.46'] },
    };
    // Until the access labels were judged below the registered domain only, `home` of home.com made
    // h12.mail.home.com (and the checked mx6-w.mail.home.com below it) a consumer-line name.
    const { w, text } = await trace(AT_HOME, zone, new Date('2002-01-03T12:00:00Z'));
    assert.equal(w.origin?.ip, '64.94.26.201', text);
    assert.match(text, /its reverse name h12\.mail\.home\.com resolves back to 24\.0\.95\.46/);
    assert.match(text, /mx6-w\.mail\.home\.com.*receiving organisation’s domain home\.com/);
    // A subscriber line of the same provider still earns nothing.
    const line = await trace(
      AT_HOME,
      {
        '46.95.0.24.in-addr.arpa': { PTR: ['cpe-24-0-95-46.dsl.home.com.'] },
        'cpe-24-0-95-46.dsl.home.com': { A: ['24.0.95.46'] },
      },
      new Date('2002-01-03T12:00:00Z'),
    );
    assert.equal(line.w.origin?.ip, '24.0.95.46', line.text);
  },
);

test(
  'a reverse name outside the organisation’s domains is never resolved: the sender’s name servers are not ' + 'asked',
  async (t) => {
    if (!needsCorpus(t, 'spamassassin')) return;
    const { w, dns } = await trace(
      ROAD_RUNNER,
      { '11.200.165.24.in-addr.arpa': { PTR: ['mx.sender.example'] }, 'mx.sender.example': { A: ['24.165.200.11'] } },
      RR_NEXT_DAY,
    );
    assert.equal(w.origin?.ip, '24.165.200.11');
    assert.equal(dns?.lookups.get('PTR 11.200.165.24.in-addr.arpa'), 1);
    assert.equal(dns?.lookups.get('A mx.sender.example'), undefined);
  },
);

test('old mail, or DNS offline, is never looked up: the live rule answers "unknown"', async (t) => {
  if (!needsCorpus(t, 'spamassassin')) return;
  const stale = await trace(ROAD_RUNNER, RR_CONFIRMED, new Date(RR_NEXT_DAY.getTime() + LIVE_DNS_MAX_AGE_MS));
  assert.equal(stale.w.origin?.ip, '24.165.200.11');
  assert.equal(stale.dns?.count, 0);
  const offline = await trace(ROAD_RUNNER, null, RR_NEXT_DAY);
  assert.equal(offline.w.origin?.ip, '24.165.200.11');
  assert.deepEqual(offline.w.questions, []);
});

test('a failed look-up is unknown, not trust; the stage reports DNS_TEMPFAIL', async (t) => {
  if (!needsCorpus(t, 'spamassassin')) return;
  const failing = await trace(ROAD_RUNNER, { '11.200.165.24.in-addr.arpa': { PTR: 'SERVFAIL' } }, RR_NEXT_DAY);
  assert.equal(failing.w.origin?.ip, '24.165.200.11', failing.text);

  const ports = staticPorts({ '11.200.165.24.in-addr.arpa': { PTR: 'TIMEOUT' } }, RR_NEXT_DAY);
  const raw = readLabelled(CORPUS_DIR, ROAD_RUNNER);
  const ctx: StageContext<z.output<typeof tracebackStage.params>> = {
    params: tracebackStage.params.parse({}),
    ports,
    settings: defaultAnalysisSettings({ dnsMode: 'live' }),
  };
  const out = await tracebackStage.run({ message: { raw } } as never, ctx);
  assert.equal(out.result?.traceback?.origin?.ip, '24.165.200.11');
  assert.ok(out.findings?.some((f) => f.code === 'DNS_TEMPFAIL'));
  // dnsMode offline: nothing is asked.
  const quiet = staticPorts(RR_CONFIRMED, RR_NEXT_DAY);
  await tracebackStage.run({ message: { raw } } as never, {
    ...ctx,
    ports: quiet,
    settings: defaultAnalysisSettings({ dnsMode: 'offline' }),
  });
  assert.equal(quiet.dns.count, 0);
});

test(
  'fresh mail: a client that is an MX host of the domain the believed hop delivered for is the organisation’s ' +
    'relay',
  async (t) => {
    if (!needsCorpus(t, 'spamassassin')) return;
    // mail4.nycap.rr.com recorded `for <cnice@nycap.rr.com>`; the address has no PTR at all.
    const zone: Zone = {
      'nycap.rr.com': { MX: [{ exchange: 'tnmx01.mgw.rr.com.', priority: 10 }] },
      'tnmx01.mgw.rr.com': { A: ['24.165.200.11'] },
    };
    const { w, text } = await trace(ROAD_RUNNER, zone, RR_NEXT_DAY);
    assert.equal(w.origin?.ip, '65.212.71.36', text);
    assert.match(
      text,
      /nycap\.rr\.com, which the believed hops delivered for, names tnmx01\.mgw\.rr\.com as its mail exchanger/,
    );
    assert.ok(w.hops[2]?.notes.includes('live-mx'));
  },
);

test(
  'fresh mail: the reporter’s own domain names the hosted gateway in front of an Exchange hub that records no ' +
    'recipient (mime_edge_cases mail_test_17, Cisco IronPort at Triara)',
  async (t) => {
    if (!needsCorpus(t, 'mime_edge_cases')) return;
    const raw = readLabelled(CORPUS_DIR, 'mime_edge_cases/spamscope_mail_parser/tests/mails/mail_test_17');
    const zone: Zone = {
      'akaancasadebolsa.com.mx': { MX: [{ exchange: 'apiron13.triara.com', priority: 10 }] },
      'apiron13.triara.com': { A: ['200.57.129.98'] },
    };
    const opts = { trust, asn, mailhosts: [], documentationIsPublic: false, now: new Date('2022-10-11T12:00:00Z') };
    // Without the reporter's domain the Exchange hop gives none: the gateway stays the origin.
    const alone = await traceRaw(raw, { ...opts, dns: new StaticZoneResolver(zone) });
    assert.equal(alone.origin?.ip, '200.57.129.98');
    const w = await traceRaw(raw, {
      ...opts,
      dns: new StaticZoneResolver(zone),
      recipientDomains: ['akaancasadebolsa.com.mx'],
    });
    assert.equal(w.origin?.ip, '152.228.133.10', w.steps.join('\n'));
    assert.match(
      w.steps.join('\n'),
      /akaancasadebolsa\.com\.mx, the reporter’s own mail domain, names apiron13\.triara\.com as its mail exchanger/,
    );
    // Another reporter's domain, whose MX is elsewhere, proves nothing.
    const other = await traceRaw(raw, {
      ...opts,
      dns: new StaticZoneResolver({ 'example.com.mx': { MX: [{ exchange: 'mx.example.com.mx', priority: 10 }] } }),
      recipientDomains: ['example.com.mx'],
    });
    assert.equal(other.origin?.ip, '200.57.129.98');
  },
);

test('the MX rule asks only about domains a believed hop delivered for, never one the sender wrote', () => {
  // The spammer's own header (below the origin) names a domain whose MX it controls.
  const lines = [
    'from mail.example.org (mail.example.org [192.0.2.10]) by mbox.example.org (Postfix) with ESMTP id 1 for ' +
      '<u@example.org>; Tue, 1 Dec 2026 10:00:02 +0000',
    'from relay (198.51.100.7) by mail.example.org with Microsoft SMTP Server id 15.0; Tue, 1 Dec 2026 10:00:01 +0000',
    'from x (203.0.113.9) by relay with SMTP id 2 for <v@evil.test>; Tue, 1 Dec 2026 10:00:00 +0000',
  ];
  const received = lines.map((l) => ({ ...parseReceived(l), raw: l }));
  const live = {
    fcrdns: new Map([['198.51.100.7', []]]),
    mx: new Map([
      ['evil.test 4', new Map([['198.51.100.7', 'relay.evil.test']])],
      ['example.org 4', new Map([['192.0.2.25', 'mx.example.org']])],
    ]),
    at: new Date('2026-12-02T00:00:00Z'),
  };
  const w = walkChain({
    received,
    trust,
    asnOf: new Map(),
    webmailHeaders: [],
    documentationIsPublic: true,
    live,
  });
  assert.equal(w.origin?.ip, '198.51.100.7', w.steps.join('\n'));
  assert.deepEqual(w.questions, []);
});

test('fresh mail under a dynamic-DNS parent: a stranger’s forward-confirmed name there earns nothing', () => {
  // A spammer who holds their server's reverse zone and registers a dyndns.org name passes the FCrDNS test.
  const walk = (name: string) => {
    const lines = [
      'from bot (unknown [198.51.100.7]) by mx.mothlight.dyndns.org (Postfix) with ESMTP id 1; ' +
        'Tue, 1 Dec 2026 10:00:02 +0000',
      'from x (203.0.113.9) by relay with SMTP id 2; Tue, 1 Dec 2026 10:00:00 +0000',
    ];
    const received = lines.map((l) => ({ ...parseReceived(l), raw: l }));
    const live = { fcrdns: new Map([['198.51.100.7', [name]]]), mx: new Map(), at: new Date('2026-12-02T00:00:00Z') };
    return walkChain({ received, trust, asnOf: new Map(), webmailHeaders: [], documentationIsPublic: true, live });
  };
  const stranger = walk('relay.stranger.dyndns.org');
  assert.equal(stranger.origin?.ip, '198.51.100.7', stranger.steps.join('\n'));
  const own = walk('relay.mothlight.dyndns.org');
  assert.equal(own.origin?.ip, '203.0.113.9', own.steps.join('\n'));
  for (const s of own.steps) assert.notEqual(narrativeIn(s, 'fr'), null, s);
});

test('a message is fresh for live look-ups only within the week after its believed top date', () => {
  const now = new Date('2026-12-02T09:00:00Z');
  assert.equal(freshEnough(['2026-12-01T09:00:00Z'], now), true);
  assert.equal(freshEnough([null, '2026-11-30T09:00:00Z'], now), true);
  assert.equal(freshEnough(['2026-11-20T09:00:00Z'], now), false);
  assert.equal(freshEnough(['2026-12-05T09:00:00Z'], now), false);
  assert.equal(freshEnough([null], now), false);
});

test('the budgeted resolver bounds one message’s live look-ups', async (t) => {
  if (!needsCorpus(t, 'spamassassin')) return;
  const inner = new StaticZoneResolver(RR_CONFIRMED);
  const dns = new BudgetedResolver(inner, 1);
  const w = await traceRaw(readLabelled(CORPUS_DIR, ROAD_RUNNER), {
    trust,
    asn,
    mailhosts: [],
    documentationIsPublic: false,
    dns,
    now: RR_NEXT_DAY,
  });
  // The PTR is answered, the A record is refused by the budget: unknown, not believed.
  assert.equal(w.origin?.ip, '24.165.200.11');
  assert.equal(inner.count, 1);
  assert.ok(dns.failures.some((f) => f.code === 'EBUDGET'));
});
