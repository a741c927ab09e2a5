import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIALECTS, createTestDatabase } from '../../db/test-databases.ts';
import { closeContext, createContext } from '../../app/context.ts';
import { createLogger } from '../../core/logger.ts';
import { createToken } from '../../db/tokens.ts';
import { buildApp } from '../../app/build-app.ts';
import { parseActionPolicy } from '../action-policy.ts';
import { autoRefer, processReport, updateReferrals } from '../actions-jobs.ts';
import { ACTIONS_NEXT } from '../../app/pipeline.ts';
import { answerReferral } from '../referrals/referrals.ts';
import { verifyEvidencePackage } from '../referrals/evidence-package.ts';
import { analysisFor, spamMessage } from '../test-factories.ts';
import { competencesFor, createAuthority } from './authorities.ts';
import { caseHistory } from './cases.ts';

test('routing maps categories to competences; a bad policy lists every problem', () => {
  const p = parseActionPolicy({});
  assert.deepEqual(competencesFor('phishing', p), ['cybercrime']);
  assert.deepEqual(competencesFor('consent', p), ['data_protection']);
  assert.deepEqual(competencesFor('scam', p), ['consumer_protection']);
  assert.deepEqual(competencesFor('unknown-thing', p), []);
  const star = parseActionPolicy({ routing: { routes: [{ categories: ['*'], competence: 'telecom_regulator' }] } });
  assert.deepEqual(competencesFor(null, star), ['telecom_regulator']);
  assert.throws(
    () =>
      parseActionPolicy({
        cases: { rules: [{ name: 'lower', kind: 'campaign-volume', minReports: 0, windowDays: 1 }] },
        isp: { minReports: -1 },
      }),
    (e: Error) => /UPPER_SNAKE/.test(e.message) && /minReports/.test(e.message) && /isp\.minReports/.test(e.message),
  );
});

for (const dialect of DIALECTS) {
  test(`[${dialect}] configured rules open cases (campaign volume, sender consent); analysts annotate and merge \
through the API; history is complete`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-policy-'));
    const policyFile = path.join(dir, 'policy.json');
    fs.writeFileSync(
      policyFile,
      JSON.stringify({
        cases: {
          rules: [
            { name: 'CAMPAIGN_VOLUME', kind: 'campaign-volume', minReports: 3, windowDays: 7 },
            { name: 'SENDER_CONSENT_COMPLAINTS', kind: 'sender-consent', minComplaints: 2, windowDays: 30 },
          ],
          autoRefer: false,
        },
      }),
    );
    const tdb = await createTestDatabase(t, dialect, { actionsPolicyFile: policyFile });
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
    const app = await buildApp(ctx);
    try {
      const ingest = async (n: number, campaignId: string, opts: { from?: string; consentDenied?: boolean } = {}) => {
        const raw = spamMessage({ n, ip: `203.0.113.${n}`, to: 'someone@victim.example', from: opts.from });
        const stored = await ctx.writer.submitOne({ raw, channel: 'api', reporterAddress: 'someone@victim.example' });
        const a = await analysisFor(raw, {
          ip: `203.0.113.${n}`,
          asn: 64500,
          rdns: null,
          abuse: [],
          authenticated: true,
          category: 'commercial',
        });
        const analysis = opts.consentDenied
          ? {
              ...a,
              compliance: { ...a.compliance, consent: { stated: 'not-given' as const, statement: 'never subscribed' } },
            }
          : a;
        return processReport(ctx, { reportId: stored.id, sha256: stored.sha256, campaignId }, analysis, ACTIONS_NEXT);
      };
      assert.deepEqual((await ingest(1, 'camp-1')).opened, []);
      assert.deepEqual((await ingest(2, 'camp-1')).opened, []);
      const third = await ingest(3, 'camp-1');
      assert.equal(third.opened.length, 1, 'the third report in 7 days opens a campaign case');
      const volumeCase = third.opened[0];
      const fourth = await ingest(4, 'camp-1');
      assert.deepEqual(fourth.opened, []);
      assert.deepEqual(fourth.joined, [volumeCase], 'later reports join the live case');
      const reportsIn = await tdb.db
        .selectFrom('action_case_reports')
        .select('report_id')
        .where('case_id', '=', volumeCase)
        .execute();
      assert.equal(reportsIn.length, 4, 'the case collected the earlier reports too');

      assert.deepEqual(
        (await ingest(5, 'camp-2', { from: 'promo@pushy-shop.example', consentDenied: true })).opened,
        [],
      );
      const consent = await ingest(6, 'camp-3', { from: 'offers@pushy-shop.example', consentDenied: true });
      assert.equal(consent.opened.length, 1);
      const consentCase = await tdb.db
        .selectFrom('action_cases')
        .selectAll()
        .where('id', '=', consent.opened[0])
        .executeTakeFirstOrThrow();
      assert.equal(consentCase.target_kind, 'sender_domain');
      assert.equal(consentCase.target_value, 'pushy-shop.example');
      assert.equal(consentCase.category, 'consent');
      assert.equal(consentCase.opened_by, 'rule:SENDER_CONSENT_COMPLAINTS');

      // Analysts work cases by hand.
      const analyst = await createToken(tdb.db, { role: 'analyst', name: 'ana' });
      const h = { authorization: `Bearer ${analyst.secret}` };
      const reporter = await createToken(tdb.db, { role: 'reporter', name: 'rep' });
      const denied = await app.inject({
        method: 'POST',
        url: '/api/v1/actions/cases',
        headers: { authorization: `Bearer ${reporter.secret}` },
        payload: { targetKind: 'campaign', targetValue: 'x', title: 'x' },
      });
      assert.equal(denied.statusCode, 403);
      const opened = await app.inject({
        method: 'POST',
        url: '/api/v1/actions/cases',
        headers: h,
        payload: {
          targetKind: 'advertised_domain',
          targetValue: 'secure-bank-login.example',
          title: 'Fake bank domain',
          category: 'phishing',
          reportIds: reportsIn.slice(0, 1).map((r) => r.report_id),
        },
      });
      assert.equal(opened.statusCode, 201, opened.body);
      const manual: string = opened.json().case.id;
      const badReports = await app.inject({
        method: 'POST',
        url: `/api/v1/actions/cases/${manual}/reports`,
        headers: h,
        payload: { reportIds: ['nope'] },
      });
      assert.equal(badReports.statusCode, 400);
      const note = await app.inject({
        method: 'POST',
        url: `/api/v1/actions/cases/${manual}/annotations`,
        headers: h,
        payload: { note: 'Registrar contacted.' },
      });
      assert.equal(note.statusCode, 201);
      const merge = await app.inject({
        method: 'POST',
        url: `/api/v1/actions/cases/${manual}/merge`,
        headers: h,
        payload: { caseIds: [volumeCase] },
      });
      assert.equal(merge.statusCode, 200, merge.body);
      assert.equal(merge.json().moved, 3, 'the merged case’s other reports moved over');
      const again = await app.inject({
        method: 'POST',
        url: `/api/v1/actions/cases/${manual}/merge`,
        headers: h,
        payload: { caseIds: [volumeCase] },
      });
      assert.equal(again.statusCode, 409);
      // No authority is competent yet: the referral attempt is recorded, nothing is sent.
      const refer = await app.inject({
        method: 'POST',
        url: `/api/v1/actions/cases/${manual}/referrals`,
        headers: h,
        payload: {},
      });
      assert.equal(refer.statusCode, 201);
      assert.deepEqual(refer.json().referrals, []);
      await createAuthority(tdb.db, {
        name: 'Police',
        country: 'FR',
        competence: 'cybercrime',
        contactKind: 'email',
        contact: 'cyber@police.example',
      });
      const refer2 = await app.inject({
        method: 'POST',
        url: `/api/v1/actions/cases/${manual}/referrals`,
        headers: h,
        payload: {},
      });
      assert.equal(refer2.json().referrals.length, 1);
      const view = await app.inject({ method: 'GET', url: `/api/v1/actions/cases/${manual}`, headers: h });
      assert.equal(view.json().reports.length, 4);
      assert.equal(view.json().case.state, 'referred');
      const kinds = (await caseHistory(tdb.db, manual)).map((e) => e.kind);
      assert.deepEqual(
        kinds.filter((k) => k !== 'reports-added'),
        ['opened', 'annotated', 'merged-in', 'not-routed', 'refer-requested', 'referred', 'state:referred'],
      );
      assert.deepEqual((await caseHistory(tdb.db, volumeCase)).map((e) => e.kind).slice(-1), ['merged']);
      const outbox = await app.inject({ method: 'GET', url: '/api/v1/actions/outbox?state=queued', headers: h });
      assert.equal(outbox.json().counts.queued, 1, 'the referral waits in the outbox (no relay configured)');
    } finally {
      await app.close();
      await closeContext(ctx, { keepDb: true });
      await tdb.drop();
    }
  });
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] cases follow campaign merges: counts span the merged ids, two live cases become one re-targeted \
at the survivor, no second case opens`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-policy-'));
    const policyFile = path.join(dir, 'policy.json');
    fs.writeFileSync(
      policyFile,
      JSON.stringify({
        cases: {
          rules: [{ name: 'CAMPAIGN_VOLUME', kind: 'campaign-volume', minReports: 2, windowDays: 7 }],
          autoRefer: false,
        },
      }),
    );
    const tdb = await createTestDatabase(t, dialect, { actionsPolicyFile: policyFile });
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
    try {
      const now = new Date().toISOString();
      for (const id of ['camp-a', 'camp-b', 'camp-c']) {
        await tdb.db
          .insertInto('campaigns')
          .values({
            id,
            merged_into: null,
            category: 'commercial',
            first_seen_at: now,
            last_seen_at: now,
            message_count: 1,
            report_count: 1,
            created_at: now,
            updated_at: now,
          })
          .execute();
      }
      const ingest = async (n: number, campaignId: string) => {
        const raw = spamMessage({ n, ip: `198.51.100.${n}`, to: 'someone@victim.example' });
        const stored = await ctx.writer.submitOne({ raw, channel: 'api', reporterAddress: 'someone@victim.example' });
        const analysis = await analysisFor(raw, {
          ip: `198.51.100.${n}`,
          asn: 64500,
          rdns: null,
          abuse: [],
          authenticated: true,
          category: 'commercial',
        });
        return processReport(ctx, { reportId: stored.id, sha256: stored.sha256, campaignId }, analysis, ACTIONS_NEXT);
      };
      const caseOf = (id: string) =>
        tdb.db.selectFrom('action_cases').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const reportsOf = async (id: string) =>
        (await tdb.db.selectFrom('action_case_reports').select('report_id').where('case_id', '=', id).execute()).length;

      await ingest(1, 'camp-a');
      const [caseA] = (await ingest(2, 'camp-a')).opened;
      await ingest(3, 'camp-b');
      const [caseB] = (await ingest(4, 'camp-b')).opened;
      assert.ok(caseA && caseB && caseA !== caseB, 'before the merge each campaign has its own case');

      // One report of camp-c alone opens nothing; merged into camp-b, it counts with camp-b's.
      assert.deepEqual((await ingest(5, 'camp-c')).opened, []);
      // A message bridged the campaigns: camp-a and camp-c now redirect to camp-b (the survivor).
      await tdb.db
        .updateTable('campaigns')
        .set({ merged_into: 'camp-b' })
        .where('id', 'in', ['camp-a', 'camp-c'])
        .execute();

      const next = await ingest(6, 'camp-b');
      assert.deepEqual(next.opened, [], 'no second case for the same operation');
      assert.deepEqual(next.joined, [caseA], 'the report joins the oldest live case of the family');
      const a = await caseOf(caseA);
      assert.equal(a.target_value, 'camp-b', 'the surviving case is re-targeted at the surviving campaign');
      assert.equal(a.state, 'open');
      const b = await caseOf(caseB);
      assert.equal(b.state, 'merged');
      assert.equal(b.merged_into, caseA);
      assert.equal(await reportsOf(caseA), 5, 'the case holds the reports of camp-a, camp-b and the new one');
      const kinds = (await caseHistory(tdb.db, caseA)).map((e) => e.kind);
      assert.ok(kinds.includes('merged-in') && kinds.includes('retargeted'), kinds.join(','));

      // A job that still carries a merged-away id lands in the same case.
      assert.deepEqual((await ingest(7, 'camp-a')).joined, [caseA]);
      assert.equal(await reportsOf(caseA), 6);
      assert.equal(
        (await tdb.db.selectFrom('action_cases').select('id').where('state', 'in', ['open', 'referred']).execute())
          .length,
        1,
      );
    } finally {
      await closeContext(ctx, { keepDb: true });
      await tdb.drop();
    }
  });
}

/**
 * A SQLite instance whose policy opens a case at the 2nd report of a campaign and routes every
 * category to one consumer-protection authority; `ingest(n)` reports and processes spam #n.
 */
async function referralFixture(t: TestContext, cases: Record<string, unknown>, campaignId: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-policy-'));
  const policyFile = path.join(dir, 'policy.json');
  fs.writeFileSync(
    policyFile,
    JSON.stringify({
      cases: {
        rules: [{ name: 'CAMPAIGN_VOLUME', kind: 'campaign-volume', minReports: 2, windowDays: 7 }],
        autoRefer: true,
        ...cases,
      },
      routing: { routes: [{ categories: ['*'], competence: 'consumer_protection' }] },
    }),
  );
  const tdb = await createTestDatabase(t, 'sqlite', { actionsPolicyFile: policyFile });
  if (!tdb) return null;
  const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
  await createAuthority(tdb.db, {
    name: 'DGCCRF',
    country: 'FR',
    competence: 'consumer_protection',
    contactKind: 'email',
    contact: 'referrals@consumer.example',
  });
  const ingest = async (n: number) => {
    const raw = spamMessage({ n, ip: `192.0.2.${n}`, to: 'x@victim.example' });
    const stored = await ctx.writer.submitOne({ raw, channel: 'api' });
    return processReport(
      ctx,
      { reportId: stored.id, sha256: stored.sha256, campaignId },
      await analysisFor(raw, {
        ip: `192.0.2.${n}`,
        asn: 64500,
        rdns: null,
        abuse: [],
        authenticated: true,
        category: 'commercial',
      }),
      ACTIONS_NEXT,
    );
  };
  return {
    tdb,
    ctx,
    ingest,
    async close() {
      await closeContext(ctx, { keepDb: true });
      await tdb.drop();
    },
  };
}

test(
  '[sqlite] an automatic referral waits referDelayMinutes, so the package carries the burst that arrived after ' +
    'the case opened',
  async (t) => {
    const f = await referralFixture(t, { referDelayMinutes: 10 }, 'camp-burst');
    if (!f) return;
    const { tdb, ctx, ingest } = f;
    try {
      await ingest(1);
      const before = Date.now();
      const [caseId] = (await ingest(2)).opened;
      assert.ok(caseId);
      const job = await tdb.db
        .selectFrom('jobs')
        .selectAll()
        .where('kind', '=', 'actions-refer')
        .executeTakeFirstOrThrow();
      const due = Date.parse(job.run_at) - before;
      assert.ok(due >= 9.9 * 60_000 && due <= 10.1 * 60_000, `the referral is due in 10 minutes (${due} ms)`);
      // The rest of the burst arrives meanwhile.
      for (const n of [3, 4, 5]) await ingest(n);
      // The job runs when due (here: now, by hand).
      const referred = await autoRefer(ctx, caseId);
      assert.equal(referred.length, 1);
      const ref = await tdb.db.selectFrom('action_referrals').select('package').executeTakeFirstOrThrow();
      const v = await verifyEvidencePackage(ref.package);
      assert.deepEqual(v.problems, []);
      assert.equal(v.manifest?.messages.length, 5, 'all five reports of the burst are in the package');
    } finally {
      await f.close();
    }
  },
);

test(
  '[sqlite] reports that join a referred case reach its authority in an updated package: after the burst, at most ' +
    'once per interval, never after the authority closed it',
  async (t) => {
    assert.equal(parseActionPolicy({}).cases.referUpdates, true, 'on by default with autoRefer');
    const f = await referralFixture(t, { referDelayMinutes: 10, referUpdateIntervalHours: 24 }, 'camp-upd');
    if (!f) return;
    const { tdb, ctx, ingest } = f;
    try {
      const updateJobs = () =>
        tdb.db
          .selectFrom('jobs')
          .select(['run_at', 'state'])
          .where('kind', '=', 'actions-refer-update')
          .orderBy('run_at')
          .execute();
      const packageOf = async (id: string) => {
        const ref = await tdb.db
          .selectFrom('action_referrals')
          .select('package')
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        const v = await verifyEvidencePackage(ref.package);
        assert.deepEqual(v.problems, []);
        return v.manifest?.messages.length;
      };
      await ingest(1);
      const [caseId] = (await ingest(2)).opened;
      assert.ok(caseId);
      assert.deepEqual(await updateJobs(), [], 'a report of a case not yet referred waits for the first referral');
      const [first] = await autoRefer(ctx, caseId);
      assert.equal(await packageOf(first), 2);
      const referredAt = Date.parse(
        (
          await tdb.db
            .selectFrom('action_referrals')
            .select('created_at')
            .where('id', '=', first)
            .executeTakeFirstOrThrow()
        ).created_at,
      );

      // Two more reports: one update is queued, after the burst delay; the second rides along.
      const before = Date.now();
      await ingest(3);
      await ingest(4);
      const queued = await updateJobs();
      assert.equal(queued.length, 1);
      const due = Date.parse(queued[0].run_at) - before;
      assert.ok(due >= 9.9 * 60_000 && due <= 10.1 * 60_000, `due after the burst delay (${due} ms)`);

      // When it runs, the authority got the case less than 24 h ago: nothing is sent, a retry is queued for then.
      assert.deepEqual(await updateReferrals(ctx, caseId, ACTIONS_NEXT, new Date(referredAt + 10 * 60_000)), []);
      assert.ok(
        (await updateJobs()).some((j) => j.state === 'queued' && Date.parse(j.run_at) === referredAt + 24 * 3_600_000),
        'retried when the interval has passed',
      );

      // A day later the update goes out with everything the case holds.
      const later = new Date(referredAt + 25 * 3_600_000);
      const [second] = await updateReferrals(ctx, caseId, ACTIONS_NEXT, later);
      assert.ok(second && second !== first);
      assert.equal(await packageOf(second), 4, 'the updated package carries the reports that joined');
      assert.deepEqual(await updateReferrals(ctx, caseId, ACTIONS_NEXT, later), [], 'nothing new: nothing sent');
      const history = await caseHistory(tdb.db, caseId);
      assert.ok(
        history.some((e) => e.actor === 'rule:update'),
        'the update is in the case history',
      );

      // An authority that closed its referral gets no more updates.
      await answerReferral(tdb.db, second, 'close', 'authority', 'handled');
      await ingest(5);
      assert.deepEqual(await updateReferrals(ctx, caseId, ACTIONS_NEXT, new Date(referredAt + 72 * 3_600_000)), []);
      assert.equal(
        (await tdb.db.selectFrom('action_referrals').select('id').where('case_id', '=', caseId).execute()).length,
        2,
      );
    } finally {
      await f.close();
    }
  },
);
