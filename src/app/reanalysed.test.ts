/**
 * `spamdesk reanalyze` after a reporter declared their forwarder, with the hooks the command passes
 * (`reanalysed.ts`): the campaigns' stories, the reports' facts and the workbench index all move past
 * the forwarder together. Before, only the facts moved: the campaign page and the partner view went
 * on naming the forwarder as the campaign's origin, and the index (with the dashboards' and the
 * regulator's roll-ups) its network and country. Real SpamAssassin messages through the real pipeline,
 * both engines.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../db/test-databases.ts';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { readLabelled } from '../../scripts/eval/evaluate-traceback.ts';
import { intelHarness } from '../feeds/intel/test-support.ts';
import { AnalysisPool } from '../analysis/pool.ts';
import { analysisSettingsFrom } from '../analysis/settings.ts';
import { reanalyze } from '../analysis/reanalyze.ts';
import { keysOfReports, replaceDeclaredMailhosts } from '../analysis/mailhost-store.ts';
import { policyFor } from '../actions/action-policy.ts';
import { indexAll } from '../web/indexer.ts';
import { originStoryDrift } from '../campaigns/test-story.ts';
import { reanalysedCommitted, reanalysedStored, type Reanalysed } from './reanalysed.ts';

/** Both forwarded by k1.vineyard.net 204.17.195.90; A entered vineyard.net from 64.52.14.131, B from Yahoo Groups. */
const VINEYARD_A = 'spamassassin/hard_ham/00152.651a40f1c0b2ba19122eccebccbae788';
const VINEYARD_B = 'spamassassin/hard_ham/00154.c3c99795c6f5d902ce025522136f8cd3';
const FORWARDER = '204.17.195.90';
const SENDER = '64.52.14.131';

for (const dialect of DIALECTS) {
  describe(`a re-analysis moves the campaigns' stories and the index with the facts (${dialect})`, () => {
    test('after a declaration, no campaign story, fact or index row names the forwarder', async (t) => {
      if (!needsCorpus(t, 'spamassassin/hard_ham')) return;
      const h = await intelHarness(t, dialect);
      if (!h) return;
      const { db, config } = h.ctx;
      const pool = new AnalysisPool({ size: 1, settings: analysisSettingsFrom(config), heapMb: config.analysisHeapMb });
      try {
        const reporter = 'lea@trap.example.net';
        const reports = await h.report([
          { raw: readLabelled(CORPUS_DIR, VINEYARD_A), reporter },
          { raw: readLabelled(CORPUS_DIR, VINEYARD_A), reporter },
          { raw: readLabelled(CORPUS_DIR, VINEYARD_B), reporter },
        ]);
        await indexAll(db);
        const naming = async (ip: string) => ({
          story: (
            await db
              .selectFrom('campaign_facts')
              .select('campaign_id')
              .where('kind', '=', 'ip')
              .where('value', '=', ip)
              .execute()
          ).length,
          facts: (await db.selectFrom('action_report_facts').select('report_id').where('origin_ip', '=', ip).execute())
            .length,
          index: (await db.selectFrom('web_report_index').select('report_id').where('origin_ip', '=', ip).execute())
            .length,
        });
        assert.deepEqual(await naming(FORWARDER), { story: 2, facts: 3, index: 3 }, 'as first traced');
        assert.deepEqual(await originStoryDrift(db), []);

        // The intake's operator declares the forwarder's domain (a reporter's own declaration needs an
        // account or a token; these reports came by address).
        const keys = await keysOfReports(db, [reports[0]?.id ?? '']);
        const key = keys.get(reports[0]?.id ?? '')?.find((k) => k.startsWith('intake:'));
        assert.equal(key, 'intake:api');
        await replaceDeclaredMailhosts(db, key, [{ entry: 'vineyard.net', note: null }], 'test', new Date());
        const tally: Reanalysed = { restated: 0, facts: 0, indexed: 0 };
        const policy = policyFor(config);
        const s = await reanalyze(db, pool, {
          reporter: key,
          force: true,
          onStored: (trx, changes) => reanalysedStored(trx, changes, policy, tally),
          onCommitted: (analyses) => reanalysedCommitted(db, analyses, tally),
        });
        assert.equal(s.analysed, 2);
        assert.deepEqual(tally, { restated: 2, facts: 3, indexed: 3 });
        assert.deepEqual(await naming(FORWARDER), { story: 0, facts: 0, index: 0 }, 'the forwarder nowhere');
        assert.deepEqual(await naming(SENDER), { story: 1, facts: 2, index: 2 }, 'the sender of A in its place');
        assert.deepEqual(await originStoryDrift(db), [], 'each story is its members’ current origins');

        // Once more, nothing moves: the stories are not counted twice.
        const again: Reanalysed = { restated: 0, facts: 0, indexed: 0 };
        await reanalyze(db, pool, {
          reporter: key,
          force: true,
          onStored: (trx, changes) => reanalysedStored(trx, changes, policy, again),
        });
        assert.equal(again.restated, 0);
        assert.deepEqual(await originStoryDrift(db), []);
      } finally {
        await pool.close();
        await h.close();
      }
    });
  });
}
