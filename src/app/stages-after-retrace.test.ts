/**
 * A later stage that read a message's analysis before a retrace of it committed (another worker loop —
 * PostgreSQL's default runs one per job kind — or another process) acts on the new record, not the one
 * it read: the campaign stage places the message with the new origin in its story, the actions stage
 * writes the new origin in the report's facts. Before, both wrote what they had read after the retrace
 * had committed, and nothing brought them up to date again: the listings and the ISP alerts went on
 * naming the reporter's forwarder the retrace had just looked past. A real SpamAssassin message through
 * k1.vineyard.net (204.17.195.90), traced as first seen, then traced again once vineyard.net is known
 * as the reporting side's; both engines.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../db/test-databases.ts';
import { createTestContext } from './test-context.ts';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { readLabelled } from '../../scripts/eval/evaluate-traceback.ts';
import { AnalysisPool } from '../analysis/pool.ts';
import { analysisSettingsFrom } from '../analysis/settings.ts';
import { storeAnalysis } from '../analysis/repository.ts';
import { replaceDeclaredMailhosts } from '../analysis/mailhost-store.ts';
import { reporterContextOf } from '../analysis/reanalyze.ts';
import { createClassifier } from '../analysis/classify/classify.ts';
import { placeReports, prepareReport } from '../campaigns/service.ts';
import { processReports } from '../actions/actions-jobs.ts';
import { ACTIONS_NEXT } from './pipeline.ts';

const VINEYARD_A = 'spamassassin/hard_ham/00152.651a40f1c0b2ba19122eccebccbae788';
const FORWARDER = '204.17.195.90';
const SENDER = '64.52.14.131';

for (const dialect of DIALECTS) {
  describe(`stages that read an analysis before it was traced again (${dialect})`, () => {
    test('the campaign and actions stages act on the record stored since they read theirs', async (t) => {
      if (!needsCorpus(t, 'spamassassin/hard_ham')) return;
      const h = await createTestContext(t, dialect);
      if (!h) return;
      const { db, config } = h.ctx;
      const pool = new AnalysisPool({ size: 1, settings: analysisSettingsFrom(config), heapMb: config.analysisHeapMb });
      try {
        const raw = readLabelled(CORPUS_DIR, VINEYARD_A);
        const [report] = await h.ctx.writer.submit([{ raw, channel: 'api', reporterAddress: 'lea@trap.example.net' }]);
        const first = await pool.analyse(raw, {});
        assert.equal(first.outcome, 'ok');
        const old = first.analysis;
        assert.equal(old.enrichment.origin?.ip, FORWARDER, 'traced as first seen: the forwarder');
        await storeAnalysis(db, old, first.durationMs);

        // What each stage prepares from the record it read…
        const classifier = createClassifier();
        const seenAt = new Date().toISOString();
        const prepared = await prepareReport(
          db,
          classifier,
          { reportId: report.id, sha256: report.sha256, seenAt },
          old,
        );

        // …then the retrace commits: vineyard.net is the reporting side's, the message traced past it.
        await replaceDeclaredMailhosts(db, 'intake:api', [{ entry: 'vineyard.net', note: null }], 'test', new Date());
        const context = await reporterContextOf(db, [report.sha256]);
        await new Promise((r) => setTimeout(r, 5));
        const again = await pool.analyse(raw, context.get(report.sha256) ?? {});
        assert.equal(again.outcome, 'ok');
        assert.equal(again.analysis.enrichment.origin?.ip, SENDER, 'traced again: the sender');
        assert.ok(again.analysis.analysedAt > old.analysedAt);
        await storeAnalysis(db, again.analysis, again.durationMs);

        // The stages commit after it, with what they had read.
        const [placement] = await placeReports(db, [prepared], async () => {}, classifier);
        await processReports(
          h.ctx,
          [{ p: { reportId: report.id, sha256: report.sha256, campaignId: placement.campaignId }, analysis: old }],
          ACTIONS_NEXT,
        );
        const story = await db
          .selectFrom('campaign_facts')
          .select('value')
          .where('campaign_id', '=', placement.campaignId)
          .where('kind', '=', 'ip')
          .execute();
        const facts = await db
          .selectFrom('action_report_facts')
          .select('origin_ip')
          .where('report_id', '=', report.id)
          .executeTakeFirst();
        assert.deepEqual(
          { story: story.map((s) => s.value), facts: facts?.origin_ip },
          { story: [SENDER], facts: SENDER },
          'the campaign’s story counts the new origin, the report’s facts name it',
        );
      } finally {
        await pool.close();
        await h.close();
      }
    });
  });
}
