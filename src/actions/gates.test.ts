/**
 * The gates before anything leaves, on both engines: a case whose campaign mixes legitimate mail
 * in or mixes categories waits for an analyst instead of being referred; historical reports never
 * open a case, never trigger a referral and never reach an ISP; an origin whose reports are
 * legitimate mail is never named to its ISP; alerts carry the time the origin sent the spam; a
 * referral's state is its delivery's.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { closeContext, createContext } from '../app/context.ts';
import { createLogger } from '../core/logger.ts';
import { nowIso } from '../core/ids.ts';
import type { DialectName } from '../db/dialect.ts';
import { autoRefer, processReport } from './actions-jobs.ts';
import { ACTIONS_NEXT } from '../app/pipeline.ts';
import { createAuthority } from './cases/authorities.ts';
import { caseHistory, getCase } from './cases/cases.ts';
import { listReferrals, referCase } from './referrals/referrals.ts';
import { registerOperator } from './isp/operators.ts';
import { runIspDigests } from './isp/isp-digests.ts';
import { drainOutbox } from './outbox/delivery.ts';
import { closeTransports } from './outbox/transports.ts';
import { startSmtpSink } from './test-sinks.ts';
import { analysisFor, campaignRow, spamMessage } from './test-factories.ts';

async function fixture(t: TestContext, dialect: DialectName) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-gates-'));
  const policyFile = path.join(dir, 'policy.json');
  fs.writeFileSync(
    policyFile,
    JSON.stringify({
      cases: {
        rules: [{ name: 'CAMPAIGN_VOLUME', kind: 'campaign-volume', minReports: 3, windowDays: 7 }],
        autoRefer: true,
        referDelayMinutes: 0,
      },
      routing: { routes: [{ categories: ['*'], competence: 'cybercrime' }] },
      isp: { minReports: 3, minSignals: 1 },
    }),
  );
  const tdb = await createTestDatabase(t, dialect, {
    actionsPolicyFile: policyFile,
    outboxFrom: 'abuse-desk@spamdesk.example',
  });
  if (!tdb) return null;
  const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
  await createAuthority(tdb.db, {
    name: 'Cybercrime unit',
    country: 'FR',
    competence: 'cybercrime',
    contactKind: 'email',
    contact: 'referrals@police.example',
  });
  let n = 0;
  /** A campaign row as the campaigns area leaves it. */
  const campaign = async (id: string, category: string, purity: number, legitimateShare: number) => {
    await tdb.db
      .insertInto('campaigns')
      .values(campaignRow({ id, category, purity, legitimateShare, lastSeenAt: nowIso() }))
      .execute();
  };
  const report = async (o: {
    campaignId: string;
    ip?: string;
    historical?: boolean;
    category?: string;
    authenticated?: boolean;
    sentAt?: Date;
  }) => {
    n++;
    const ip = o.ip ?? `192.0.2.${n}`;
    const raw = spamMessage({ n, ip, to: 'lea.martin@victim.example', sentAt: o.sentAt });
    const stored = await ctx.writer.submitOne({
      raw,
      channel: o.historical ? 'import' : 'api',
      historical: o.historical,
    });
    if (o.category) {
      await tdb.db
        .insertInto('classifications')
        .values({
          sha256: stored.sha256,
          category: o.category,
          confidence: 0.9,
          reasons: '[]',
          model_version: 't',
          classified_at: nowIso(),
        })
        .execute();
    }
    const a = await analysisFor(raw, {
      ip,
      asn: 64500,
      rdns: `dyn-${n}.pool.broadband.example`,
      abuse: ['abuse@broadband.example'],
      authenticated: o.authenticated,
    });
    return {
      stored,
      outcome: await processReport(
        ctx,
        { reportId: stored.id, sha256: stored.sha256, campaignId: o.campaignId },
        a,
        ACTIONS_NEXT,
      ),
    };
  };
  return {
    tdb,
    ctx,
    campaign,
    report,
    async close() {
      await closeContext(ctx, { keepDb: true });
      await tdb.drop();
    },
  };
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] a campaign that mixes legitimate mail in waits for an analyst: no automatic referral, the reasons \
in its history`, async (t) => {
    const f = await fixture(t, dialect);
    if (!f) return;
    try {
      await f.campaign('camp-mixed', 'phishing', 0.9, 0.1);
      let caseId: string | undefined;
      for (let i = 0; i < 3; i++) caseId = (await f.report({ campaignId: 'camp-mixed' })).outcome.opened[0] ?? caseId;
      assert.ok(caseId, 'the volume rule opens a case');
      assert.deepEqual(await autoRefer(f.ctx, caseId), [], 'nothing is referred');
      const c = await getCase(f.tdb.db, caseId);
      assert.equal(c.state, 'needs_review');
      const held = (await caseHistory(f.tdb.db, caseId)).find((e) => e.kind === 'held');
      assert.ok(held, 'the hold is in the history');
      assert.match(JSON.stringify(held.detail), /10 % of campaign camp-mixed's messages are classified legitimate/);
      assert.match(JSON.stringify(held.detail), /mixes categories/);
      assert.equal(
        (await f.tdb.db.selectFrom('action_outbox').select('id').execute()).length,
        0,
        'nothing queued for the police',
      );
      // A report joining later does not release it; an analyst refers it by hand.
      await f.report({ campaignId: 'camp-mixed' });
      assert.equal((await getCase(f.tdb.db, caseId)).state, 'needs_review');
      const authority = await f.tdb.db.selectFrom('action_authorities').select('id').executeTakeFirstOrThrow();
      await referCase(f.ctx, caseId, authority.id, 'analyst:ada');
      assert.equal((await getCase(f.tdb.db, caseId)).state, 'referred');
    } finally {
      await f.close();
    }
  });

  test(`[${dialect}] a pure abusive campaign is referred automatically; one of mixed categories waits`, async (t) => {
    const f = await fixture(t, dialect);
    if (!f) return;
    try {
      await f.campaign('camp-pure', 'phishing', 1, 0);
      await f.campaign('camp-blend', 'phishing', 0.96, 0);
      let pure: string | undefined;
      let blend: string | undefined;
      for (let i = 0; i < 3; i++) {
        pure = (await f.report({ campaignId: 'camp-pure' })).outcome.opened[0] ?? pure;
        blend = (await f.report({ campaignId: 'camp-blend' })).outcome.opened[0] ?? blend;
      }
      assert.ok(pure && blend);
      assert.equal((await autoRefer(f.ctx, pure)).length, 1);
      assert.equal((await autoRefer(f.ctx, blend)).length, 0);
      assert.equal((await getCase(f.tdb.db, blend)).state, 'needs_review');
    } finally {
      await f.close();
    }
  });

  test(`[${dialect}] historical reports open no case, count towards no rule and reach no ISP; live reports open the \
case, which is referred with the archive as evidence`, async (t) => {
    const f = await fixture(t, dialect);
    if (!f) return;
    try {
      await registerOperator(f.tdb.db, {
        name: 'Example Broadband',
        abuseAddress: 'abuse@broadband.example',
        format: 'xarf',
        asns: [64500],
      });
      await f.campaign('camp-archive', 'phishing', 1, 0);
      for (let i = 0; i < 5; i++) {
        const r = await f.report({ campaignId: 'camp-archive', ip: '203.0.113.9', historical: true });
        assert.deepEqual(r.outcome.opened, [], 'an archive opens nothing');
      }
      const digest = await runIspDigests(f.tdb.db, f.tdb.config, f.ctx.logger, new Date(Date.now() + 1000));
      assert.equal(digest.digests.length, 0, 'no ISP alert from historical reports');
      // Only live reports count towards the volume rule: the third one opens the case.
      const opened = [];
      for (let i = 0; i < 3; i++) opened.push(...(await f.report({ campaignId: 'camp-archive' })).outcome.opened);
      assert.equal(opened.length, 1);
      const caseId = opened[0];
      const members = await f.tdb.db
        .selectFrom('action_case_reports')
        .select('report_id')
        .where('case_id', '=', caseId)
        .execute();
      assert.equal(members.length, 8, 'the case carries the archive as evidence');
      assert.equal((await autoRefer(f.ctx, caseId)).length, 1);
    } finally {
      await f.close();
    }
  });

  test(`[${dialect}] an ISP is never told about a mail server whose reports are legitimate or authenticated; alerts \
carry when the origin sent the spam`, async (t) => {
    const f = await fixture(t, dialect);
    if (!f) return;
    try {
      await registerOperator(f.tdb.db, {
        name: 'Example Broadband',
        abuseAddress: 'abuse@broadband.example',
        format: 'xarf',
        asns: [64500],
      });
      await f.campaign('camp-airline', 'legitimate', 1, 1);
      await f.campaign('camp-bot', 'phishing', 1, 0);
      // An airline's server: three reports, classified legitimate (someone reported a newsletter).
      // (Public unicast addresses: a documentation range is reserved, and nothing is ever alerted about one.)
      for (let i = 0; i < 3; i++)
        await f.report({ campaignId: 'camp-airline', ip: '81.58.100.20', category: 'legitimate' });
      // A server that signs its mail (aligned DKIM): not an infected machine either.
      for (let i = 0; i < 3; i++) await f.report({ campaignId: 'camp-bot', ip: '81.58.100.21', authenticated: true });
      // An infected machine that sent three phishing mails two and three hours ago.
      const sent = [3, 2, 2].map((h) => new Date(Math.floor(Date.now() / 1000) * 1000 - h * 3_600_000));
      for (const s of sent) await f.report({ campaignId: 'camp-bot', ip: '81.56.113.50', sentAt: s });
      // Spam an origin sent a month ago: its dynamic address has changed hands since.
      for (let i = 0; i < 3; i++)
        await f.report({ campaignId: 'camp-bot', ip: '81.56.113.51', sentAt: new Date(Date.now() - 30 * 86_400_000) });
      const run = await runIspDigests(f.tdb.db, f.tdb.config, f.ctx.logger, new Date(Date.now() + 1000));
      const alerts = await f.tdb.db.selectFrom('action_isp_alerts').selectAll().execute();
      assert.deepEqual(
        alerts.map((a) => a.ip),
        ['81.56.113.50'],
      );
      assert.equal(
        alerts[0].first_seen,
        sent[0].toISOString(),
        'the time the origin sent it, not the time it was reported',
      );
      assert.match(
        run.skipped.find((s) => s.ip === '81.58.100.20')?.reason ?? '',
        /legitimate mail or sent with aligned SPF\/DKIM/,
      );
      assert.match(
        run.skipped.find((s) => s.ip === '81.58.100.21')?.reason ?? '',
        /legitimate mail or sent with aligned SPF\/DKIM/,
      );
      assert.match(
        run.skipped.find((s) => s.ip === '81.56.113.51')?.reason ?? '',
        /0 of its 3 reports are recent spam/,
      );
    } finally {
      await f.close();
    }
  });
}

test(
  '[sqlite] a referral shows queued until its mail is delivered, then sent; dead when the relay refuses it for ' +
    'good',
  async (t) => {
    const f = await fixture(t, 'sqlite');
    if (!f) return;
    const sink = await startSmtpSink();
    try {
      await f.campaign('camp-ok', 'phishing', 1, 0);
      let caseId: string | undefined;
      for (let i = 0; i < 3; i++) caseId = (await f.report({ campaignId: 'camp-ok' })).outcome.opened[0] ?? caseId;
      assert.ok(caseId);
      await autoRefer(f.ctx, caseId);
      assert.deepEqual(
        (await listReferrals(f.tdb.db, { caseId })).map((r) => r.state),
        ['queued'],
      );
      await drainOutbox({ db: f.tdb.db, logger: f.ctx.logger, relayUrl: sink.url, retryBaseMs: 1, leaseMs: 60_000 });
      const [sent] = await listReferrals(f.tdb.db, { caseId });
      assert.equal(sent.state, 'sent');
      assert.ok(sent.delivery.sentAt);
      // A second authority whose address the relay rejects permanently (SMTP 550).
      const a2 = await createAuthority(f.tdb.db, {
        name: 'Regulator',
        country: 'FR',
        competence: 'cybercrime',
        contactKind: 'email',
        contact: 'reject-me@police.example',
      });
      sink.rejectRecipients.add('reject-me@police.example');
      await referCase(f.ctx, caseId, a2.id, 'analyst:ada');
      await drainOutbox({ db: f.tdb.db, logger: f.ctx.logger, relayUrl: sink.url, retryBaseMs: 1, leaseMs: 60_000 });
      const states = new Map((await listReferrals(f.tdb.db, { caseId })).map((r) => [r.authority_name, r.state]));
      assert.equal(states.get('Cybercrime unit'), 'sent');
      assert.equal(states.get('Regulator'), 'dead');
    } finally {
      await sink.close();
      await closeTransports();
      await f.close();
    }
  },
);
