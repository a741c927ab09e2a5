/**
 * A re-analysis moves what the actions act on: after a reporter declared their forwarder and their
 * messages were traced again (`spamdesk reanalyze --reporter`), the facts of their reports name the
 * machine that handed the mail to the forwarder, and the listing pass delists the forwarder. Both
 * engines, real corpus messages, `reanalyze` with `refreshFacts` as its `onStored` (what the CLI's
 * `reanalyze` command passes; the command itself is not run here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../db/test-databases.ts';
import { createTestContext } from '../app/test-context.ts';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { readLabelled } from '../../scripts/eval/evaluate-traceback.ts';
import { reporterAccounts } from '../analysis/test-support/reporters.ts';
import { AnalysisPool } from '../analysis/pool.ts';
import { analysisSettingsFrom } from '../analysis/settings.ts';
import { reanalyze } from '../analysis/reanalyze.ts';
import { getLatestAnalysis } from '../analysis/repository.ts';
import { replaceDeclaredMailhosts } from '../analysis/mailhost-store.ts';
import { runListingPass } from '../feeds/lists/pass.ts';
import { findListing } from '../feeds/lists/store.ts';
import { relabelReport } from '../campaigns/relabel.ts';
import { parseActionPolicy } from './action-policy.ts';
import { factsFrom, saveFacts } from './report-facts.ts';
import { refreshFacts } from './refresh-facts.ts';

/** Both forwarded by k1.vineyard.net 204.17.195.90; A entered vineyard.net from 64.52.14.131, B from Yahoo Groups. */
const VINEYARD_A = 'spamassassin/hard_ham/00152.651a40f1c0b2ba19122eccebccbae788';
const VINEYARD_B = 'spamassassin/hard_ham/00154.c3c99795c6f5d902ce025522136f8cd3';
const FORWARDER = '204.17.195.90';
const SENDER = '64.52.14.131';

/** Lists an address on two reports of one campaign within ten years. */
const POLICY = parseActionPolicy({
  listing: { infrastructure: { enabled: true, minReports: 2, minCampaigns: 1, windowDays: 3650, expiryDays: 30 } },
});

for (const dialect of DIALECTS) {
  test(`[${dialect}] after a declaration and a re-analysis, the facts name the sender and the forwarder is \
delisted`, async (t) => {
    if (!needsCorpus(t, 'spamassassin/hard_ham')) return;
    const h = await createTestContext(t, dialect);
    if (!h) return;
    const { db, config } = h.ctx;
    const pool = new AnalysisPool({ size: 1, settings: analysisSettingsFrom(config), heapMb: config.analysisHeapMb });
    try {
      const [lea] = await reporterAccounts(db, 'lea@trap.example.net');
      const reports = await h.ctx.writer.submit([
        { raw: readLabelled(CORPUS_DIR, VINEYARD_A), channel: 'api', reporterUserId: lea },
        { raw: readLabelled(CORPUS_DIR, VINEYARD_A), channel: 'web', reporterUserId: lea },
        { raw: readLabelled(CORPUS_DIR, VINEYARD_B), channel: 'api', reporterUserId: lea },
      ]);
      await reanalyze(db, pool);
      const now = new Date();
      for (const r of reports) {
        const analysis = await getLatestAnalysis(db, r.sha256);
        const receivedAt = new Date(now.getTime() - 3_600_000).toISOString();
        const input = { reportId: r.id, sha256: r.sha256, receivedAt, campaignId: 'c1', category: 'commercial' };
        await saveFacts(db, factsFrom({ ...input, messageCategory: 'commercial', analysis: analysis ?? null }, POLICY));
      }
      const origins = async () => {
        const rows = await db.selectFrom('action_report_facts').select(['report_id', 'origin_ip']).execute();
        return reports.map((r) => rows.find((f) => f.report_id === r.id)?.origin_ip);
      };
      assert.deepEqual(await origins(), [FORWARDER, FORWARDER, FORWARDER]);
      await runListingPass(db, config, POLICY, now, { full: true });
      assert.equal((await findListing(db, 'ip', FORWARDER))?.state, 'listed', 'the forwarder, as first traced');

      // A domain the listing pass indexed from the old facts: dropped, to be indexed again from the new ones.
      const receivedAt = now.toISOString();
      await db
        .insertInto('feed_domain_reports')
        .values({ domain: 'stale.example', report_id: reports[0]?.id ?? '', received_at: receivedAt })
        .execute();
      // An analyst relabelled B since its facts were written: the rebuilt facts carry the relabel.
      await relabelReport(db, reports[2]?.id ?? '', 'scam', 'user:test:analyst');
      await replaceDeclaredMailhosts(db, `user:${lea}`, [{ entry: 'vineyard.net', note: null }], 'test', now);
      let refreshed = 0;
      const s = await reanalyze(db, pool, {
        reporter: `user:${lea}`,
        force: true,
        onStored: async (trx, changes) => {
          refreshed += await refreshFacts(
            trx,
            changes.map((c) => c.after),
            POLICY,
          );
        },
      });
      assert.equal(s.analysed, 2);
      assert.equal(refreshed, 3, 'every report of the two messages');
      assert.deepEqual(await origins(), [SENDER, SENDER, '66.218.66.65']);
      const stale = await db.selectFrom('feed_domain_reports').select('domain').where('domain', '=', 'stale.example');
      assert.equal(await stale.executeTakeFirst(), undefined, 'the old facts’ domain index is dropped');
      const relabelled = await db
        .selectFrom('action_report_facts')
        .select('message_category')
        .where('report_id', '=', reports[2]?.id ?? '')
        .executeTakeFirst();
      assert.equal(relabelled?.message_category, 'scam', 'the message’s current category, as the live job reads it');
      const kept = await db.selectFrom('action_report_facts').select(['campaign_id', 'category']).execute();
      assert.ok(
        kept.every((f) => f.campaign_id === 'c1' && f.category === 'commercial'),
        'what analysis does not decide stays',
      );
      await runListingPass(db, config, POLICY, now, { full: true });
      assert.notEqual((await findListing(db, 'ip', FORWARDER))?.state, 'listed', 'the forwarder is delisted');
      assert.equal((await findListing(db, 'ip', SENDER))?.state, 'listed', 'the sender is listed in its place');
    } finally {
      await pool.close();
      await h.close();
    }
  });
}
