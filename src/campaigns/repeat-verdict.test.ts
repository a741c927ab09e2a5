/**
 * A message reported again whose verdict changed since it was counted — its record traced again after
 * its reporter's mail hosts were learned (`withLatestAnalyses`), a retrained model — moves its unit in
 * its campaign's category counts, so the standing the actions gates read (majority, purity) is the
 * messages' own, not the first verdicts'. An analyst's relabel outranks the new verdict and moves nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestContext } from '../app/test-context.ts';
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import { createClassifier } from '../analysis/classify/classify.ts';
import type { Category } from '../analysis/classify/categories.ts';
import { DIALECTS } from '../db/test-databases.ts';
import { PARCEL_FEE_HTML as BODY } from './test-mail.ts';
import { sampleSpam } from '../web/test-helpers.ts';
import { placeReports, prepareReport } from './service.ts';
import { relabelReport } from './relabel.ts';

for (const dialect of DIALECTS)
  test(`[${dialect}] a message reported again with another verdict moves its unit in its campaign's counts, \
and back; a relabelled one does not move`, async (t) => {
    const h = await createTestContext(t, dialect);
    if (!h) return;
    t.after(() => h.close());
    const { db } = h.ctx;
    const raws = ['r1', 'r2', 'r3'].map((id) => sampleSpam({ id, subject: 'Parcel fee', html: BODY }));
    const settings = defaultAnalysisSettings();
    const analyses = await Promise.all(raws.map((raw) => analyse(raw, { ports: offlinePorts(), settings })));
    const classifier = createClassifier();
    const at = (k: number) => new Date(Date.UTC(2026, 0, 5, 11, 0, k)).toISOString();
    let k = 0;
    /** Reports message `i` once more and places it, its verdict's category `category` when given. */
    const report = async (i: number, category?: Category) => {
      const receivedAt = at(k++);
      const [s] = await h.ctx.writer.submit([{ raw: raws[i] as Buffer, channel: 'api', receivedAt }]);
      const prepared = await prepareReport(
        db,
        classifier,
        { reportId: s.id, sha256: s.sha256, seenAt: receivedAt },
        analyses[i] as (typeof analyses)[number],
      );
      if (category) prepared.verdict = { ...prepared.verdict, category };
      const [placement] = await placeReports(db, [prepared], async () => {}, classifier);
      return { report: s, placement };
    };
    const first = [];
    for (const i of [0, 1, 2]) first.push(await report(i));
    const campaignId = first[0]?.placement?.campaignId as string;
    assert.ok(
      first.every((f) => f.placement?.campaignId === campaignId),
      'the three make one campaign',
    );
    const counts = async () =>
      Object.fromEntries(
        (
          await db
            .selectFrom('campaign_facts')
            .select(['value', 'count'])
            .where('campaign_id', '=', campaignId)
            .where('kind', '=', 'category')
            .where('count', '>', 0)
            .execute()
        ).map((c) => [c.value, Number(c.count)]),
      );
    const standing = async () =>
      await db
        .selectFrom('campaigns')
        .select(['category', 'purity'])
        .where('id', '=', campaignId)
        .executeTakeFirstOrThrow();
    const original = (await standing()).category as Category;
    assert.deepEqual(await counts(), { [original]: 3 });
    const other: Category = original === 'scam' ? 'phishing' : 'scam';

    // Message 1 again; its record traced again gives another verdict: the campaign counts it there now.
    const again = await report(0, other);
    assert.equal(again.placement?.via, 'repeat');
    assert.deepEqual(await counts(), { [original]: 2, [other]: 1 });
    assert.equal(Number((await standing()).purity).toFixed(2), '0.67', 'the gates see a mixed campaign');
    // And again with the first verdict: back.
    await report(0, original);
    assert.deepEqual(await counts(), { [original]: 3 });
    assert.equal(Number((await standing()).purity), 1);

    // An analyst's relabel of message 2 outranks any later verdict: reported again, nothing moves.
    await relabelReport(db, first[1]?.report.id as string, other, 'user:t:analyst');
    assert.deepEqual(await counts(), { [original]: 2, [other]: 1 });
    await report(1, original);
    assert.deepEqual(await counts(), { [original]: 2, [other]: 1 }, 'the relabel stands');
    const total = Object.values(await counts()).reduce((a, b) => a + b, 0);
    assert.equal(total, 3, 'one unit per message, however often reported');
  });
