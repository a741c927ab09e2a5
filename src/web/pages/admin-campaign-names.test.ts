/**
 * Campaigns by name on the pages: the dashboard, the report list, a report and the campaign page
 * show `campaignLabel()` rather than the ULID; AS numbers come with their names; the dashboard's
 * link carries its period, and the campaign page shows that period's count beside the total.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../../db/test-databases.ts';
import { asNameOf } from '../../analysis/ports/as-names.ts';
import { indexAll } from '../indexer.ts';
import { createTestApp, sampleSpam, userWithSession } from '../test-helpers.ts';

for (const dialect of DIALECTS) {
  test(`${dialect}: campaigns are shown by their label and ASes with their names`, async (t) => {
    const h = await createTestApp(t, dialect);
    if (!h) return;
    const { app, ctx } = h;
    const { db, config } = ctx;
    const today = new Date().toISOString().slice(0, 10);
    const stored = await ctx.writer.submit(
      [0, 1, 2].map((i) => ({
        raw: sampleSpam({ subject: `Votre colis ${i}`, from: 'La Poste <suivi@colis-poste.example>' }),
        channel: 'web' as const,
        reporterUserId: null,
      })),
    );
    const id = '01JC000000000000000000000A';
    const at = new Date().toISOString();
    await db
      .insertInto('campaigns')
      .values({
        id,
        merged_into: null,
        category: 'phishing',
        core_signature: null,
        core_kind: null,
        first_seen_at: at,
        last_seen_at: at,
        message_count: 3,
        report_count: 3,
        created_at: at,
        updated_at: at,
      })
      .execute();
    await db
      .insertInto('campaign_facts')
      .values([
        {
          campaign_id: id,
          kind: 'subject',
          value: 'Votre colis est en attente',
          count: 3,
          first_seen_at: at,
          last_seen_at: at,
        },
        {
          campaign_id: id,
          kind: 'sender',
          value: 'La Poste <suivi@colis-poste.example>',
          count: 3,
          first_seen_at: at,
          last_seen_at: at,
        },
      ])
      .execute();
    for (const r of stored)
      await db
        .insertInto('campaign_messages')
        .values({ sha256: r.sha256, campaign_id: id, kind: 'email', via: 'new', similarity: 1, joined_at: at })
        .execute();
    await indexAll(db);
    await db.updateTable('web_report_index').set({ origin_asn: 3215 }).execute();
    const analyst = await userWithSession(db, config, 'analyst');
    const get = (url: string) => app.inject({ method: 'GET', url, headers: { cookie: analyst.cookie } });

    // The sender's display name names a brand of analysis/data/brands.ts: the brand is the label.
    const dash = await get('/workbench');
    assert.equal(dash.statusCode, 200);
    assert.match(
      dash.body,
      new RegExp(`href="/workbench/campaigns/${id}\\?from=[0-9-]+&amp;to=${today}"[^>]*>\\s*La Poste</a>`),
    );
    const list = await get('/workbench/reports');
    assert.match(list.body, />\s*La Poste<\/a>/);
    const name = asNameOf(3215);
    assert.ok(name);
    assert.ok(list.body.includes(`AS3215 ${name.replace(/&/g, '&amp;')}`), 'the AS with its name');
    const detail = await get(`/workbench/reports/${stored[0].id}`);
    // The campaign's size says what it counts, in the reader's language (`trd.reports`).
    assert.match(detail.body, />La Poste<\/a> \(3 reports\)/);
    const detailFr = await get(`/workbench/reports/${stored[0].id}?lang=fr`);
    assert.match(detailFr.body, />La Poste<\/a> \(3\u00a0signalements\)/);
    const page = await get(`/workbench/campaigns/${id}?from=${today}&to=${today}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1>Campaign La Poste<\/h1>/);
    assert.match(page.body, /data-testid="report-count">3 <span class="muted">\(3 of them from/);
  });
}
