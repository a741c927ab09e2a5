/**
 * Batched placement (`placeReports`, one transaction per batch, issue 17) decides what one report
 * at a time decided: the same stream of real corpus messages — spam, ham and phishing interleaved,
 * with reports of the same message again — placed one report per transaction and in batches of 50
 * gives the same categories, the same campaigns and the same way into each (new, lsh, link, …).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createTestContext } from '../app/test-context.ts';
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import { createClassifier } from '../analysis/classify/classify.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import { corpusMessages } from '../analysis/test-support/corpus-messages.ts';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { DIALECTS } from '../db/test-databases.ts';
import { placeReports, prepareReport, processReport, type PreparedReport } from './service.ts';

interface Item {
  raw: Buffer;
  analysis: Analysis;
}

/** Every third message of three corpora, interleaved, then 20 of them reported again later. */
async function stream(): Promise<Item[]> {
  const sources = ['spamassassin', 'nazario_phishing', 'phishing_pot'].map((s) =>
    corpusMessages(path.join(CORPUS_DIR, s), 240).filter((_, i) => i % 3 === 0),
  );
  const raws: Buffer[] = [];
  for (let i = 0; i < 80; i++) for (const s of sources) if (s[i]) raws.push(s[i].raw);
  for (let i = 0; i < 20; i++) raws.push(raws[i * 7]);
  const settings = defaultAnalysisSettings();
  const out: Item[] = [];
  for (const raw of raws) out.push({ raw, analysis: await analyse(raw, { ports: offlinePorts(), settings }) });
  return out;
}

/** Places the stream in a fresh database; returns what was decided, in a form to compare. */
async function place(t: TestContext, dialect: (typeof DIALECTS)[number], items: Item[], batch: number) {
  const h = await createTestContext(t, dialect);
  if (!h) return null;
  t.after(() => h.close());
  const at = (k: number) => new Date(Date.UTC(2026, 0, 5, 11, 0, k)).toISOString();
  const stored = await h.ctx.writer.submit(
    items.map((i, k) => ({ raw: i.raw, channel: 'api' as const, receivedAt: at(k), reporterUserId: null })),
  );
  const classifier = createClassifier();
  const decided: string[] = [];
  const handedOn: string[] = [];
  const placed = async (_db: unknown, p: { reportId: string; campaignId: string | null }) => {
    handedOn.push(p.reportId);
  };
  const job = (k: number) => ({ reportId: stored[k].id, sha256: stored[k].sha256, seenAt: at(k) });
  if (batch === 1) {
    for (let k = 0; k < items.length; k++) {
      const r = await processReport(h.ctx.db, classifier, job(k), items[k].analysis, placed);
      decided.push(`${k} ${r.verdict.category} ${r.placement.via}`);
    }
  } else {
    for (let k = 0; k < items.length; k += batch) {
      const ks = items.slice(k, k + batch).map((_, i) => k + i);
      const prepared: PreparedReport[] = [];
      for (const i of ks) prepared.push(await prepareReport(h.ctx.db, classifier, job(i), items[i].analysis));
      const placements = await placeReports(h.ctx.db, prepared, placed, classifier);
      ks.forEach((i, n) => {
        decided.push(`${i} ${prepared[n].verdict.category} ${placements[n].via}`);
      });
    }
  }
  assert.deepEqual(
    handedOn,
    stored.map((s) => s.id),
    'every report handed on once, in order',
  );
  const rows = await h.ctx.db
    .selectFrom('campaign_messages as m')
    .innerJoin('campaigns as c', 'c.id', 'm.campaign_id')
    .select(['m.sha256', 'm.campaign_id', 'c.merged_into'])
    .execute();
  const groups = new Map<string, string[]>();
  for (const r of rows) {
    const root = r.merged_into ?? r.campaign_id;
    groups.set(root, [...(groups.get(root) ?? []), r.sha256]);
  }
  const campaigns = [...groups.values()].map((g) => g.sort().join(',')).sort();
  const classified = await h.ctx.db.selectFrom('classifications').select(['sha256', 'category']).execute();
  return { decided, campaigns, classified: classified.map((c) => `${c.sha256} ${c.category}`).sort() };
}

for (const dialect of DIALECTS) {
  describe(`batched placement on ${dialect}`, () => {
    test('a stream placed in batches of 50 gives the campaigns one report at a time gives', async (t) => {
      if (!needsCorpus(t, 'nazario_phishing')) return;
      const items = await stream();
      const one = await place(t, dialect, items, 1);
      const batched = await place(t, dialect, items, 50);
      if (!one || !batched) return;
      // The comparison means something only if the stream makes campaigns of several messages.
      assert.ok(
        one.campaigns.some((c) => c.includes(',')),
        'the stream has campaigns of more than one message',
      );
      assert.ok(items.length > 200, `${items.length} reports`);
      assert.deepEqual(batched.decided, one.decided);
      assert.deepEqual(batched.campaigns, one.campaigns);
      assert.deepEqual(batched.classified, one.classified);
    });
  });
}
