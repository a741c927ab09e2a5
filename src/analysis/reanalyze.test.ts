/**
 * Re-analysis traces each message as the live job does — with its first reporter's declared and
 * learned mail hosts — so re-running the analysers never blames a forwarder the live trace looked
 * past; and `reporter` re-runs one reporter's messages after they declared their mail hosts, leaving
 * everyone else's analyses as they were. Both engines, real corpus messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../db/test-databases.ts';
import { createTestContext } from '../app/test-context.ts';
import { reporterAccounts } from './test-support/reporters.ts';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { readLabelled } from '../../scripts/eval/evaluate-traceback.ts';
import { AnalysisPool } from './pool.ts';
import { analysisSettingsFrom } from './settings.ts';
import { reanalyze } from './reanalyze.ts';
import { getLatestAnalysis } from './repository.ts';
import { replaceDeclaredMailhosts } from './mailhost-store.ts';

/** Both forwarded by k1.vineyard.net 204.17.195.90; both entered vineyard.net from 64.52.14.131. */
const VINEYARD_A = 'spamassassin/hard_ham/00152.651a40f1c0b2ba19122eccebccbae788';
const VINEYARD_B = 'spamassassin/hard_ham/00154.c3c99795c6f5d902ce025522136f8cd3';

for (const dialect of DIALECTS) {
  test(`[${dialect}] re-analysis traces with each message's reporter's mail hosts; --reporter re-runs only \
theirs`, async (t) => {
    if (!needsCorpus(t, 'spamassassin')) return;
    const h = await createTestContext(t, dialect);
    if (!h) return;
    const { db, config } = h.ctx;
    const pool = new AnalysisPool({ size: 1, settings: analysisSettingsFrom(config), heapMb: config.analysisHeapMb });
    try {
      const [lea, bob] = await reporterAccounts(db, 'lea@trap.example.net', 'bob@other.example.net');
      const [a, b] = await h.ctx.writer.submit([
        { raw: readLabelled(CORPUS_DIR, VINEYARD_A), channel: 'api', reporterUserId: lea },
        { raw: readLabelled(CORPUS_DIR, VINEYARD_B), channel: 'api', reporterUserId: bob },
      ]);
      const origin = async (sha: string) => (await getLatestAnalysis(db, sha))?.traceback.origin?.ip ?? null;

      const first = await reanalyze(db, pool);
      assert.equal(first.analysed, 2);
      assert.equal(await origin(a.sha256), '204.17.195.90');
      assert.equal(await origin(b.sha256), '204.17.195.90');

      await replaceDeclaredMailhosts(db, `user:${lea}`, [{ entry: 'vineyard.net', note: null }], 'test', new Date());
      const current = await reanalyze(db, pool, { reporter: `user:${lea}` });
      assert.deepEqual([current.total, current.analysed, current.skipped], [1, 0, 1], 'already current: not re-run');
      const bBefore = (
        await db.selectFrom('analyses').select('analysed_at').where('message_sha256', '=', b.sha256).executeTakeFirst()
      )?.analysed_at;
      const leas = await reanalyze(db, pool, { reporter: `user:${lea}`, force: true });
      assert.equal(leas.analysed, 1);
      assert.equal(await origin(a.sha256), '64.52.14.131', 'Léa’s declared forwarder is looked past');
      const bAfter = (
        await db.selectFrom('analyses').select('analysed_at').where('message_sha256', '=', b.sha256).executeTakeFirst()
      )?.analysed_at;
      assert.equal(bAfter, bBefore, 'Bob’s analysis is not touched');

      // A full forced re-run keeps each reporter's context: Léa's stays past the forwarder, Bob's does not move.
      const all = await reanalyze(db, pool, { force: true });
      assert.equal(all.analysed, 2);
      assert.equal(await origin(a.sha256), '64.52.14.131');
      assert.equal(await origin(b.sha256), '204.17.195.90');

      await assert.rejects(reanalyze(db, pool, { reporter: 'someone' }), /not a reporter key/);
    } finally {
      await pool.close();
      await h.close();
    }
  });
}
