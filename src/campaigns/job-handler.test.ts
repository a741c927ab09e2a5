/**
 * The `campaign-report` job on both engines: it reads the stored Analysis, writes the
 * classification and the campaign, and enqueues `actions-report` with the campaign id.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../db/test-databases.ts';
import type { DB } from '../db/dialect.ts';
import { createTestContext } from '../app/test-context.ts';
import { newId, nowIso, sha256Hex } from '../core/ids.ts';
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import { storeAnalysis } from '../analysis/repository.ts';
import { claimJobs, enqueueJob } from '../workers/jobs.ts';
import { jobHandler } from '../app/pipeline.ts';
import { insertReportRows } from '../evidence/store-units.ts';

const CAMPAIGN_JOB = 'campaign-report';

const RAW = Buffer.from(
  'From: "Prize Office" <office@lottery-win.example>\r\nTo: you@example.org\r\nSubject: You have won\r\nDate: Mon, 5 ' +
    'Jan 2026 10:00:00 +0000\r\nMessage-ID: <w1@lottery-win.example>\r\n\r\nCongratulations! You have won the ' +
    'international lottery draw. To claim your prize of five hundred thousand euros, contact our agent with your ' +
    'name, address and bank details at https://claim-prize-office.com/form today.\r\n',
);

/** Stores a message, one report of it taken in at `receivedAt`, and its analysis, as the stages before would. */
async function storeAnalysedReport(db: DB, raw: Buffer, reportId: string, receivedAt: string): Promise<string> {
  const sha = sha256Hex(raw);
  await db
    .insertInto('messages')
    .values({ sha256: sha, kind: 'email', size: raw.length, codec: 'identity', content: raw, first_seen_at: nowIso() })
    .execute();
  await insertReportRows(db, [
    {
      id: reportId,
      message_sha256: sha,
      channel: 'api',
      received_at: receivedAt,
      reporter_user_id: null,
      reporter_token_id: null,
      reporter_address: null,
      client_ip: null,
      note: null,
      quality: 'full',
      dedup_key: null,
      context: null,
      tracking_token: newId(),
    },
  ]);
  await storeAnalysis(db, await analyse(raw, { ports: offlinePorts(), settings: defaultAnalysisSettings() }), 1);
  return sha;
}

for (const dialect of DIALECTS) {
  describe(`campaign-report job on ${dialect}`, () => {
    test('classifies, clusters and hands the report on to the actions area', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      try {
        const { db } = h.ctx;
        const reportId = newId();
        const sha = await storeAnalysedReport(db, RAW, reportId, '2026-01-05T11:00:00.000Z');
        await enqueueJob(db, CAMPAIGN_JOB, { reportId, sha256: sha });
        const jobs = await claimJobs(db, 'test', [CAMPAIGN_JOB], 10);
        assert.equal(jobs.length, 1);
        const errors = await jobHandler(CAMPAIGN_JOB).run(jobs, h.ctx);
        assert.equal(errors?.size ?? 0, 0, [...(errors?.values() ?? [])].map((e) => e.message).join('; '));
        const c = await db
          .selectFrom('classifications')
          .selectAll()
          .where('sha256', '=', sha)
          .executeTakeFirstOrThrow();
        assert.equal(c.category, 'scam');
        const member = await db
          .selectFrom('campaign_messages')
          .selectAll()
          .where('sha256', '=', sha)
          .executeTakeFirstOrThrow();
        const next = await db
          .selectFrom('jobs')
          .select(['payload'])
          .where('kind', '=', 'actions-report')
          .executeTakeFirstOrThrow();
        assert.deepEqual(JSON.parse(next.payload), { reportId, sha256: sha, campaignId: member.campaign_id });
        const campaign = await db
          .selectFrom('campaigns')
          .selectAll()
          .where('id', '=', member.campaign_id)
          .executeTakeFirstOrThrow();
        assert.equal(campaign.first_seen_at, '2026-01-05T11:00:00.000Z', 'the story is in reporting time');
      } finally {
        await h.close();
      }
    });

    test('places a batch in intake order (report ids), whatever order its jobs were claimed in', async (t) => {
      const h = await createTestContext(t, dialect);
      if (!h) return;
      try {
        const { db } = h.ctx;
        // Three copies of one scam, each with its own name: whichever is placed first founds the campaign.
        const copies = ['Alice Martin', 'Bruno Petit', 'Chloe Durand'].map((name) =>
          Buffer.from(RAW.toString().replace('Congratulations!', `Dear ${name}, congratulations!`)),
        );
        const ids = copies.map(() => newId()); // ascending: the order the reports came in
        for (const [i, raw] of copies.entries())
          await storeAnalysedReport(db, raw, ids[i], `2026-01-05T11:00:0${i}.000Z`);
        // Queued newest first, all due at the same moment: the claim gives no intake order.
        const due = new Date();
        for (const i of [2, 0, 1])
          await enqueueJob(db, CAMPAIGN_JOB, { reportId: ids[i], sha256: sha256Hex(copies[i]) }, due);
        const jobs = await claimJobs(db, 'test', [CAMPAIGN_JOB], 10);
        assert.equal(jobs.length, 3);
        const errors = await jobHandler(CAMPAIGN_JOB).run(jobs.reverse(), h.ctx);
        assert.equal(errors?.size ?? 0, 0);
        const members = await db.selectFrom('campaign_messages').select(['sha256', 'campaign_id', 'via']).execute();
        assert.equal(new Set(members.map((m) => m.campaign_id)).size, 1, 'the three copies are one campaign');
        const founder = members.find((m) => m.via === 'new');
        assert.equal(founder?.sha256, sha256Hex(copies[0]), 'founded by the report that came first');
      } finally {
        await h.close();
      }
    });
  });
}
