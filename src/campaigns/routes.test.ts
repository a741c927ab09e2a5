/**
 * The look-up and story routes through `app.inject()`: authentication by API token, the
 * `lookup:query` permission per role, matching a personalised copy, never a reporter, and the
 * end-to-end job path (report → analysis → campaign-report → classification + campaign).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { buildApp } from '../app/build-app.ts';
import { createTestContext } from '../app/test-context.ts';
import { createToken } from '../db/tokens.ts';
import type { Role } from '../core/roles.ts';
import { newId, nowIso, sha256Hex } from '../core/ids.ts';
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import { createClassifier } from '../analysis/classify/classify.ts';
import { fingerprintOf } from './fingerprint.ts';
import { ingestFingerprint } from './cluster.ts';
import { processReport } from './service.ts';
import { handOn } from '../app/pipeline.ts';
import { REPORT_VIEW_PARTS } from '../app/areas.ts';
import { relabelReport, currentCategory, relabelTrainingExamples } from './relabel.ts';
import { getReportView } from '../intake/http/report-view.ts';
import { makeRecipient, personalise, seededRng, type BaseMessage } from './personalise.ts';
import { insertReportRows } from '../evidence/store-units.ts';

const BASE: BaseMessage = {
  subject: 'Your account will be suspended',
  from: 'security@bank-alerts.example',
  text:
    'We detected unusual sign-in activity on your online banking account. To avoid the suspension of your ' +
    'account, verify your identity within 24 hours by following the secure link below and confirming your card ' +
    'details. Failure to do so will result in the permanent closure of your account and the loss of your funds.',
  urls: ['https://secure-bank-verify-login.com/auth'],
};

async function setup(t: TestContext, overrides: Parameters<typeof createTestContext>[2] = {}) {
  const h = await createTestContext(t, 'sqlite', overrides);
  if (!h) return null;
  const app = await buildApp(h.ctx);
  const rng = seededRng(11);
  const stored = personalise(BASE, makeRecipient(rng), rng, 0);
  const a = await analyse(stored, { ports: offlinePorts(), settings: defaultAnalysisSettings() });
  const placed = await ingestFingerprint(h.ctx.db, fingerprintOf(a), {
    seenAt: '2026-01-05T10:00:00.000Z',
    category: 'phishing',
  });
  const tokens = new Map<Role, string>();
  for (const role of ['admin', 'analyst', 'partner', 'network_operator', 'sender', 'reporter', 'authority'] as const) {
    tokens.set(role, (await createToken(h.ctx.db, { role, name: `t-${role}` })).secret);
  }
  return {
    h,
    app,
    rng,
    campaignId: placed.campaignId,
    tokens,
    async close() {
      await app.close();
      await h.close();
    },
  };
}

describe('POST /api/v1/lookup', () => {
  test('without a token: 401; with a reporter or authority token: 403', async (t) => {
    const s = await setup(t);
    if (!s) return;
    try {
      const body = personalise(BASE, makeRecipient(s.rng), s.rng, 1);
      const anon = await s.app.inject({
        method: 'POST',
        url: '/api/v1/lookup',
        headers: { 'content-type': 'message/rfc822' },
        payload: body,
      });
      assert.equal(anon.statusCode, 401);
      for (const role of ['reporter', 'authority'] as const) {
        const r: LightMyRequestResponse = await s.app.inject({
          method: 'POST',
          url: '/api/v1/lookup',
          headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${s.tokens.get(role)}` },
          payload: body,
        });
        assert.equal(r.statusCode, 403, role);
      }
      const bad = await s.app.inject({
        method: 'POST',
        url: '/api/v1/lookup',
        headers: { 'content-type': 'message/rfc822', authorization: 'Bearer sdk_not-a-real-token' },
        payload: body,
      });
      assert.equal(bad.statusCode, 401);
    } finally {
      await s.close();
    }
  });

  test('a personalised copy matches its campaign for every permitted role, without reporter data', async (t) => {
    const s = await setup(t);
    if (!s) return;
    try {
      for (const role of ['admin', 'analyst', 'partner', 'network_operator', 'sender'] as const) {
        const body = personalise(BASE, makeRecipient(s.rng), s.rng, 2);
        const r: LightMyRequestResponse = await s.app.inject({
          method: 'POST',
          url: '/api/v1/lookup',
          headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${s.tokens.get(role)}` },
          payload: body,
        });
        assert.equal(r.statusCode, 200, `${role}: ${r.body}`);
        const json = r.json<{
          matches: { campaignId: string; similarity: number; category: string; reportCount: number }[];
        }>();
        assert.equal(json.matches[0]?.campaignId, s.campaignId);
        assert.ok(json.matches[0].similarity >= 0.5);
        assert.equal(json.matches[0].category, 'phishing');
        assert.equal(json.matches[0].reportCount, 1);
        assert.doesNotMatch(r.body, /reporter|@example\.(org|net)|clientIp/i);
      }
    } finally {
      await s.close();
    }
  });

  test('JSON base64 bodies work; an unrelated message has no match; an empty body is a 400', async (t) => {
    const s = await setup(t);
    if (!s) return;
    try {
      const auth = { authorization: `Bearer ${s.tokens.get('partner')}` };
      const other = Buffer.from(
        'From: a@b.example\r\nSubject: lunch\r\n\r\nShall we meet for lunch on Thursday at the usual place near the ' +
          'office?\r\n',
      );
      const r = await s.app.inject({
        method: 'POST',
        url: '/api/v1/lookup',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: { raw: other.toString('base64') },
      });
      assert.equal(r.statusCode, 200);
      assert.deepEqual(r.json<{ matches: unknown[] }>().matches, []);
      const empty = await s.app.inject({
        method: 'POST',
        url: '/api/v1/lookup',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: { raw: '' },
      });
      assert.equal(empty.statusCode, 400);
    } finally {
      await s.close();
    }
  });
});

/** About 10 MB of text with CR-only line endings (the issue-15 probe that froze the server for 40–58 s). */
function crOnlyMessage(): Buffer {
  const head = 'From: a@b.example\rTo: c@d.example\rSubject: padded\rContent-Type: text/plain\r\r';
  const line = 'Visit https://secure-bank-verify-login.com/auth to keep your account open today\r';
  return Buffer.from(head + line.repeat(Math.ceil((10 * 1024 * 1024) / line.length)));
}

describe('POST /api/v1/lookup under hostile input', () => {
  test(
    'a 10 MB CR-only message is analysed off the HTTP thread: other requests are answered meanwhile, and past the ' +
      'time bound it is a 422 with its reason',
    async (t) => {
      // A time bound far below what 10 MB takes anywhere, so the answer is the bound's, whatever the machine.
      // No bounded first pass (text bound above the message), so nothing can be found in time: a 422.
      const s = await setup(t, { analysisTimeoutMs: 50, analysisMaxTextBytes: 64 * 1024 * 1024 });
      if (!s) return;
      try {
        const auth = { authorization: `Bearer ${s.tokens.get('partner')}` };
        let lookupDone = false;
        const lookup = s.app
          .inject({
            method: 'POST',
            url: '/api/v1/lookup',
            headers: { ...auth, 'content-type': 'message/rfc822' },
            payload: crOnlyMessage(),
          })
          .finally(() => {
            lookupDone = true;
          });
        // Ask the server something else until the look-up is answered; at least one answer must
        // come while it runs (on the main thread the look-up held every other request back).
        let answeredMeanwhile = 0;
        while (!lookupDone) {
          const health: LightMyRequestResponse = await s.app.inject({ method: 'GET', url: '/healthz' });
          assert.equal(health.statusCode, 200);
          if (!lookupDone) answeredMeanwhile++;
          // A turn of the event loop (inject answers within microtasks), as a network client's would.
          await new Promise((resolve) => setImmediate(resolve));
        }
        assert.ok(answeredMeanwhile > 0, 'another request was answered while the look-up ran');
        const r = await lookup;
        assert.equal(r.statusCode, 422, r.body);
        const body = r.json<{ error: string; message: string }>();
        assert.equal(body.error, 'ANALYSIS_BOUND');
        assert.match(body.message, /analysis stopped after 50 ms/);
        // The pool goes on: a normal look-up after it is answered.
        const ok = await s.app.inject({
          method: 'POST',
          url: '/api/v1/lookup',
          headers: { ...auth, 'content-type': 'message/rfc822' },
          payload: Buffer.from('From: a@b.example\r\nSubject: hi\r\n\r\nShort.\r\n'),
        });
        assert.notEqual(ok.statusCode, 500);
      } finally {
        await s.close();
      }
    },
  );
});

describe('GET /api/v1/campaigns/:id', () => {
  test('analysts read the story; partners may not; unknown ids are 404', async (t) => {
    const s = await setup(t);
    if (!s) return;
    try {
      const ok = await s.app.inject({
        method: 'GET',
        url: `/api/v1/campaigns/${s.campaignId}`,
        headers: { authorization: `Bearer ${s.tokens.get('analyst')}` },
      });
      assert.equal(ok.statusCode, 200);
      const story = ok.json<{ messageCount: number; purity: number; legitimateShare: number }>();
      assert.deepEqual(
        [story.messageCount, story.purity, story.legitimateShare],
        [1, 1, 0],
        'the story says how pure the campaign is',
      );
      const no = await s.app.inject({
        method: 'GET',
        url: `/api/v1/campaigns/${s.campaignId}`,
        headers: { authorization: `Bearer ${s.tokens.get('partner')}` },
      });
      assert.equal(no.statusCode, 403);
      const missing = await s.app.inject({
        method: 'GET',
        url: '/api/v1/campaigns/01NOPE',
        headers: { authorization: `Bearer ${s.tokens.get('analyst')}` },
      });
      assert.equal(missing.statusCode, 404);
    } finally {
      await s.close();
    }
  });
});

/** A personalised phishing report stored and run through the campaign job (as the pipeline does). */
async function storedReport(h: NonNullable<Awaited<ReturnType<typeof createTestContext>>>, seed: number) {
  const rng = seededRng(seed);
  const raw = personalise(BASE, makeRecipient(rng), rng, 0);
  const stored = { id: newId(), sha256: sha256Hex(raw) };
  await h.ctx.db
    .insertInto('messages')
    .values({
      sha256: stored.sha256,
      kind: 'email',
      size: raw.length,
      codec: 'identity',
      content: raw,
      first_seen_at: nowIso(),
    })
    .execute();
  await insertReportRows(h.ctx.db, [
    {
      id: stored.id,
      message_sha256: stored.sha256,
      channel: 'api',
      received_at: nowIso(),
      reporter_user_id: null,
      reporter_token_id: null,
      reporter_address: 'victim@example.org',
      client_ip: '192.0.2.1',
      note: null,
      quality: 'full',
      dedup_key: null,
      context: null,
      tracking_token: newId(),
    },
  ]);
  const a = await analyse(raw, { ports: offlinePorts(), settings: defaultAnalysisSettings() });
  const { verdict, placement } = await processReport(
    h.ctx.db,
    createClassifier(),
    { reportId: stored.id, sha256: stored.sha256, seenAt: '2026-01-05T10:00:00.000Z' },
    a,
    handOn('actions-report'),
  );
  return { stored, verdict, placement };
}

describe('report processing and relabels', () => {
  test('a processed report shows its classification and campaign; a relabel records who and when', async (t) => {
    const h = await createTestContext(t, 'sqlite');
    if (!h) return;
    try {
      const { stored, verdict, placement } = await storedReport(h, 5);
      assert.equal(verdict.category, 'phishing');
      const next = await h.ctx.db.selectFrom('jobs').select(['payload']).where('kind', '=', 'actions-report').execute();
      assert.deepEqual(JSON.parse(next[0].payload), {
        reportId: stored.id,
        sha256: stored.sha256,
        campaignId: placement.campaignId,
      });
      let view = (await getReportView(h.ctx.db, stored.id, REPORT_VIEW_PARTS))?.present(true);
      assert.ok(view);
      assert.equal((view.classification as { category: string }).category, 'phishing');
      assert.equal((view.campaign as { id: string }).id, placement.campaignId);

      const r = await relabelReport(h.ctx.db, stored.id, 'scam', 'user:u1(alice@example.org):analyst');
      assert.equal(r.previousCategory, 'phishing');
      assert.equal(await currentCategory(h.ctx.db, stored.sha256), 'scam');
      view = (await getReportView(h.ctx.db, stored.id, REPORT_VIEW_PARTS))?.present(true);
      const c = view?.classification as {
        category: string;
        relabel: { by: string; at: string };
        automatic: { category: string };
      };
      assert.equal(c.category, 'scam');
      assert.equal(c.relabel.by, 'user:u1(alice@example.org):analyst');
      assert.equal(c.automatic.category, 'phishing');
      // The campaign's standing follows the analyst: its only message is now a scam.
      const camp = await h.ctx.db
        .selectFrom('campaigns')
        .select(['category', 'purity', 'legitimate_share'])
        .where('id', '=', placement.campaignId)
        .executeTakeFirstOrThrow();
      assert.deepEqual([camp.category, Number(camp.purity), Number(camp.legitimate_share)], ['scam', 1, 0]);
      await relabelReport(h.ctx.db, stored.id, 'legitimate', 'user:u1(alice@example.org):analyst');
      const after = await h.ctx.db
        .selectFrom('campaigns')
        .select(['category', 'legitimate_share'])
        .where('id', '=', placement.campaignId)
        .executeTakeFirstOrThrow();
      assert.deepEqual([after.category, Number(after.legitimate_share)], ['legitimate', 1]);
      await assert.rejects(relabelReport(h.ctx.db, stored.id, 'spammy', 'x'), /Unknown category/);
      await assert.rejects(relabelReport(h.ctx.db, 'nope', 'scam', 'x'), /No such report/);
    } finally {
      await h.close();
    }
  });
});

describe('POST /api/v1/reports/:id/relabel', () => {
  test(
    'an analyst relabels over the API; the relabel names the token and becomes training data for `npm run ' + 'train`',
    async (t) => {
      const s = await setup(t);
      if (!s) return;
      try {
        const { stored } = await storedReport(s.h, 8);
        const post = (role: Role | null, body: unknown, id = stored.id) =>
          s.app.inject({
            method: 'POST',
            url: `/api/v1/reports/${id}/relabel`,
            headers: role ? { authorization: `Bearer ${s.tokens.get(role)}` } : {},
            payload: body as object,
          });
        assert.equal((await post(null, { category: 'scam' })).statusCode, 401);
        assert.equal((await post('partner', { category: 'scam' })).statusCode, 403);
        assert.equal((await post('reporter', { category: 'scam' })).statusCode, 403);
        assert.equal((await post('analyst', { category: 'spammy' })).statusCode, 400);
        assert.equal((await post('analyst', { category: 'scam' }, 'no-such-report')).statusCode, 404);

        const first = await post('analyst', { category: 'legitimate' });
        assert.equal(first.statusCode, 200, first.body);
        const r = first.json() as { category: string; previousCategory: string; actor: string; sha256: string };
        assert.equal(r.category, 'legitimate');
        assert.equal(r.previousCategory, 'phishing');
        assert.match(r.actor, /^token:.*\(t-analyst\):analyst$/);
        assert.equal(await currentCategory(s.h.ctx.db, stored.sha256), 'legitimate');
        const audit = await s.h.ctx.db
          .selectFrom('audit_log')
          .select(['action', 'actor'])
          .where('action', '=', 'report.relabel')
          .execute();
        assert.equal(audit.length, 1);

        let examples = await relabelTrainingExamples(s.h.ctx.db, new Date('2026-01-01T00:00:00Z'));
        assert.deepEqual(
          examples.map((e) => [e.sha256, e.label]),
          [[stored.sha256, 'legitimate']],
        );
        assert.equal(examples[0].analysis.sha256, stored.sha256);
        // The latest relabel wins; a relabel to `other` (no model class) is no training example.
        assert.equal((await post('admin', { category: 'scam' })).statusCode, 200);
        examples = await relabelTrainingExamples(s.h.ctx.db, new Date('2026-01-01T00:00:00Z'));
        assert.deepEqual(
          examples.map((e) => e.label),
          ['spam'],
        );
        assert.equal((await post('analyst', { category: 'other' })).statusCode, 200);
        assert.deepEqual(await relabelTrainingExamples(s.h.ctx.db, new Date('2026-01-01T00:00:00Z')), []);
      } finally {
        await s.close();
      }
    },
  );
});
