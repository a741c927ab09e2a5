/**
 * Relabelling a whole campaign on both engines, where its counts and its messages disagree: a message
 * whose stored verdict changed after it was counted, a member whose evidence retention removed (no
 * report, no verdict) — the campaign is recounted from its messages and leaves the gates' hold; and
 * two analysts relabelling the same campaign at once relabel each message once, the counts exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drainPipeline } from '../app/test-pipeline.ts';
import { DIALECTS } from '../db/test-databases.ts';
import { PARCEL_FEE_HTML as BODY } from './test-mail.ts';
import { createTestApp, sampleSpam } from '../web/test-helpers.ts';
import { relabelCampaign, relabelReport, relabelTrainingExamples } from './relabel.ts';

for (const dialect of DIALECTS)
  test(`[${dialect}] a campaign whose counts drifted from its messages is recounted by a whole-campaign relabel, \
and two at once relabel each message once`, async (t) => {
    const h = await createTestApp(t, dialect, { dnsMode: 'offline' });
    if (!h) return;
    const { ctx } = h;
    const { db } = ctx;
    await ctx.writer.submit(
      Array.from({ length: 12 }, (_, i) => ({
        raw: sampleSpam({ id: `p${i}`, subject: 'Parcel fee', html: BODY }),
        channel: 'web' as const,
      })),
    );
    await drainPipeline(ctx);
    const [campaign, ...others] = await db
      .selectFrom('campaigns')
      .selectAll()
      .where('merged_into', 'is', null)
      .execute();
    assert.ok(campaign?.category, 'one campaign with a category');
    assert.equal(others.length, 0);
    const members = await db
      .selectFrom('campaign_messages')
      .select('sha256')
      .where('campaign_id', '=', campaign.id)
      .orderBy('sha256')
      .execute();
    assert.equal(members.length, 12);
    const other = campaign.category === 'scam' ? 'phishing' : 'scam';
    // Drift: one message's stored verdict changed after it was counted (a retrained model, a re-report).
    await db
      .updateTable('classifications')
      .set({ category: other })
      .where('sha256', '=', members[0]?.sha256 as string)
      .execute();
    // A member whose evidence retention removed, still counted under another category.
    const gone = 'f'.repeat(64);
    await db
      .insertInto('campaign_messages')
      .values({
        sha256: gone,
        campaign_id: campaign.id,
        kind: 'email',
        via: 'lsh',
        similarity: 1,
        joined_at: campaign.first_seen_at,
      })
      .execute();
    await db
      .insertInto('campaign_facts')
      .values({
        campaign_id: campaign.id,
        kind: 'category',
        value: 'malware',
        count: 1,
        first_seen_at: campaign.first_seen_at,
        last_seen_at: campaign.last_seen_at,
      })
      .execute();

    const r = await relabelCampaign(db, campaign.id, campaign.category, 'user:t:analyst', { ip: '192.0.2.1' });
    assert.deepEqual(
      [r.relabelled, r.unchanged, r.withoutReport, r.change],
      [1, 11, 1, [{ from: other, messages: 1 }]],
    );
    const counts = await db
      .selectFrom('campaign_facts')
      .select(['value', 'count'])
      .where('campaign_id', '=', campaign.id)
      .where('kind', '=', 'category')
      .execute();
    assert.deepEqual(
      counts.map((c) => [c.value, Number(c.count)]),
      [[campaign.category, 12]],
      'recounted from the messages: the drifted one moved, the removed one no longer counts',
    );
    const standing = await db
      .selectFrom('campaigns')
      .selectAll()
      .where('id', '=', campaign.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      [standing.category, Number(standing.purity), Number(standing.legitimate_share)],
      [campaign.category, 1, 0],
    );

    // Two analysts at once, to the other category: each message relabelled once, the counts exact.
    const both = await Promise.all([
      relabelCampaign(db, campaign.id, other, 'user:a:analyst'),
      relabelCampaign(db, campaign.id, other, 'user:b:analyst', { includeRelabelled: true }),
    ]);
    const relabels = await db
      .selectFrom('relabels')
      .select(['message_sha256', 'category'])
      .where('category', '=', other)
      .execute();
    assert.equal(new Set(relabels.map((x) => x.message_sha256)).size, relabels.length, 'no message relabelled twice');
    assert.ok(both[0].relabelled + both[1].relabelled <= 12);
    const after = await db
      .selectFrom('campaign_facts')
      .select(['value', 'count'])
      .where('campaign_id', '=', campaign.id)
      .where('kind', '=', 'category')
      .where('count', '>', 0)
      .execute();
    const total = after.reduce((n, c) => n + Number(c.count), 0);
    assert.equal(total, 12, `the counts sum to the messages: ${JSON.stringify(after)}`);
    const audits = await db
      .selectFrom('audit_log')
      .select(['action', 'ip'])
      .where('action', '=', 'campaign.relabel')
      .execute();
    assert.equal(audits.length, 3);
    assert.ok(audits.some((a) => a.ip === '192.0.2.1'));
  });

for (const dialect of DIALECTS)
  test(`[${dialect}] a whole-campaign relabel gives the text model a few copies of the mailing, not every one, \
and a message relabelled otherwise counts apart`, async (t) => {
    const h = await createTestApp(t, dialect, { dnsMode: 'offline' });
    if (!h) return;
    const { ctx } = h;
    const { db } = ctx;
    const stored = await ctx.writer.submit([
      ...Array.from({ length: 8 }, (_, i) => ({
        raw: sampleSpam({ id: `q${i}`, subject: 'Parcel fee', html: BODY }),
        channel: 'web' as const,
      })),
      {
        raw: sampleSpam({
          id: 'lone',
          subject: 'Quarterly newsletter',
          html: '<p>Our spring catalogue is out: garden tools, seeds and planters for every balcony.</p>',
        }),
        channel: 'web' as const,
      },
    ]);
    await drainPipeline(ctx);
    const parcel = await db
      .selectFrom('campaign_messages')
      .select(['campaign_id', 'sha256'])
      .where(
        'sha256',
        'in',
        stored.slice(0, 8).map((s) => s.sha256),
      )
      .execute();
    const campaignId = parcel[0]?.campaign_id as string;
    assert.equal(parcel.length, 8);
    assert.ok(
      parcel.every((p) => p.campaign_id === campaignId),
      'the eight copies are one campaign',
    );
    const { category } = await db
      .selectFrom('campaigns')
      .select('category')
      .where('id', '=', campaignId)
      .executeTakeFirstOrThrow();
    // Both are the model's "spam": whichever the classifier did not say, so every copy is relabelled.
    const to = category === 'commercial' ? 'scam' : 'commercial';
    const whole = await relabelCampaign(db, campaignId, to, 'user:t:analyst', { includeLegitimate: true });
    assert.equal(whole.relabelled, 8);
    // One copy is an analyst's own call, another label: it is not one of the capped copies.
    const odd = stored[0] as (typeof stored)[number];
    await relabelReport(db, odd.id, 'legitimate', 'user:t:analyst');
    const lone = stored[8] as (typeof stored)[number];
    await relabelReport(db, lone.id, 'scam', 'user:t:analyst');

    const clock = new Date('2026-01-01T00:00:00Z');
    assert.equal((await relabelTrainingExamples(db, clock)).length, 9, 'under the cap, every relabel is an example');
    const stats = { capped: 0 };
    const examples = await relabelTrainingExamples(db, clock, { perCampaign: 3, stats });
    const byLabel = (label: string) => examples.filter((e) => e.label === label).map((e) => e.sha256);
    const copies = new Set(parcel.map((p) => p.sha256));
    assert.equal(byLabel('spam').filter((h) => copies.has(h)).length, 3, 'three of the seven copies relabelled spam');
    assert.deepEqual(byLabel('legitimate'), [odd.sha256], 'the copy relabelled legitimate counts apart');
    assert.deepEqual(byLabel('phishing'), []);
    assert.ok(
      examples.some((e) => e.sha256 === lone.sha256),
      'a message of another campaign keeps its example',
    );
    assert.equal(stats.capped, 4);
    const hashes = examples.map((e) => e.sha256);
    assert.deepEqual(hashes, [...hashes].sort(), 'by message hash: reproducible');
  });
