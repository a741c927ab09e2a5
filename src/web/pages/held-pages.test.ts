/**
 * The held campaigns in the workbench, through the whole pipeline on both engines: three reports of one spam make a
 * sound campaign (nothing held); an analyst relabels one of them, the campaign now mixes categories
 * and the queue, its API and the campaign page say it is held and why (in English and French);
 * the whole campaign relabelled from its page (only the odd message changes), it leaves the queue;
 * relabelled again by API, every message changes, then none. Staff only; forms CSRF-checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drainPipeline } from '../../app/test-pipeline.ts';
import { DIALECTS } from '../../db/test-databases.ts';
import { createTestApp, sampleSpam, userWithSession } from '../test-helpers.ts';
import { englishCatalogueIn, readableText } from '../test-french.ts';

const BODY =
  '<html><body><p>Congratulations! Your e-mail address was drawn in our international promotion and you have ' +
  'won a cash award of 850,000 euros. To release the funds, send your full name, home address, telephone number ' +
  'and a copy of your passport to our claims agent within seven days, otherwise the award returns to the ' +
  'treasury. Visit <a href="https://award-release-office.example/claim">the claims office</a> now.</p></body></html>';

for (const dialect of DIALECTS)
  test(`[${dialect}] an analyst sees a campaign the gates hold, why, and sees it leave the queue once \
relabelled`, async (t) => {
    const h = await createTestApp(t, dialect, { dnsMode: 'offline' });
    if (!h) return;
    const { app, ctx } = h;
    const { db, config } = ctx;
    await app.ready();
    const analyst = await userWithSession(db, config, 'analyst');
    const reporter = await userWithSession(db, config, 'reporter');
    const stored = await ctx.writer.submit(
      ['a1', 'b2', 'c3'].map((id) => ({ raw: sampleSpam({ id, subject: 'Your award', html: BODY }), channel: 'web' })),
    );
    await drainPipeline(ctx);
    const campaigns = await db.selectFrom('campaigns').selectAll().where('merged_into', 'is', null).execute();
    assert.equal(campaigns.length, 1, 'the three copies make one campaign');
    const campaign = campaigns[0];
    assert.ok(campaign?.category, 'the campaign has a category');
    assert.equal(Number(campaign.purity), 1);

    const get = (url: string, cookie = analyst.cookie) => app.inject({ url, headers: { cookie } });
    const empty = await get('/workbench/held');
    assert.equal(empty.statusCode, 200);
    assert.match(empty.body, /No campaign is held\./);
    assert.doesNotMatch((await get('/workbench')).body, /data-testid="dash-held"/);
    assert.equal((await get('/api/v1/actions/held-campaigns')).json().total, 0);

    const reportIds = stored.map((s) => s.id);
    const other = campaign.category === 'phishing' ? 'scam' : 'phishing';
    const relabel = (id: string, category: string) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/reports/${id}/relabel`,
        headers: { cookie: analyst.cookie, 'content-type': 'application/json' },
        payload: JSON.stringify({ category }),
      });
    const first = await relabel(reportIds[0] as string, other);
    assert.equal(first.statusCode, 200, first.body);

    const page = await get('/workbench/held');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, new RegExp(`data-campaign-id="${campaign.id}"`));
    assert.match(page.body, /it mixes categories: its majority category, [^,]+, counts 66\.6\s?% of its messages/);
    assert.match(page.body, /1 held/);
    assert.match(
      (await get('/workbench')).body,
      /data-testid="dash-held"[^>]*><a href="\/workbench\/held">1 campaign\(s\) held/,
    );
    const api = (await get('/api/v1/actions/held-campaigns')).json();
    assert.equal(api.total, 1);
    assert.equal(api.campaigns[0].id, campaign.id);
    assert.deepEqual(
      api.campaigns[0].categories.map((c: { category: string }) => c.category),
      [campaign.category, other],
    );
    assert.equal(api.campaigns[0].reasons[0].kind, 'mixed');
    const detail = await get(`/workbench/campaigns/${campaign.id}`);
    assert.match(detail.body, /data-testid="campaign-held"/);
    assert.match(detail.body, /The gates hold this campaign/);
    const fr = await get('/workbench/held?lang=fr');
    assert.match(fr.body, /elle mêle des catégories/);
    assert.match(fr.body, /66,6\s?%/);
    for (const french of [
      fr,
      await get(`/workbench/campaigns/${campaign.id}?lang=fr`),
      await get('/workbench?lang=fr'),
    ]) {
      const { texts, untranslated } = readableText(french.body);
      assert.deepEqual([...englishCatalogueIn(texts), ...untranslated], [], 'no English on the French pages');
      assert.match(french.body, /retenue/);
    }
    // A size filter the page does not offer falls back to every size; at least five messages hides this one.
    assert.match((await get('/workbench/held?min=5')).body, /No campaign is held\./);
    assert.match((await get('/workbench/held?min=x%3Cscript%3E')).body, /1 held/);

    // Not for reporters.
    assert.equal((await get('/workbench/held', reporter.cookie)).statusCode, 403);
    assert.equal((await get('/api/v1/actions/held-campaigns', reporter.cookie)).statusCode, 403);
    assert.equal((await app.inject({ url: '/api/v1/actions/held-campaigns?limit=0' })).statusCode, 401);
    assert.equal((await get('/api/v1/actions/held-campaigns?limit=5000')).statusCode, 400);

    // The analyst decides the campaign is one thing: the whole campaign relabelled from its page.
    assert.match(detail.body, /data-testid="campaign-relabel-submit"/);
    const form = (category: string, extra: Record<string, string> = {}, cookie = analyst.cookie, csrf = analyst.csrf) =>
      app.inject({
        method: 'POST',
        url: `/workbench/campaigns/${campaign.id}/relabel`,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrf, category, ...extra }).toString(),
      });
    assert.equal((await form(campaign.category, {}, analyst.cookie, 'wrong')).statusCode, 403, 'CSRF checked');
    assert.equal((await form(campaign.category, {}, reporter.cookie, reporter.csrf)).statusCode, 403);
    assert.equal((await form('')).statusCode, 303, 'a POST without confirm is sent to the preview');
    // The campaign page asks with a GET form (no token in the URL), the preview is a read-only GET.
    assert.match(detail.body, new RegExp(`<form method="get" action="/workbench/campaigns/${campaign.id}/relabel"`));
    const ask = (category: string, extra: Record<string, string> = {}, cookie = analyst.cookie) =>
      get(`/workbench/campaigns/${campaign.id}/relabel?${new URLSearchParams({ category, ...extra })}`, cookie);
    assert.equal((await ask('')).statusCode, 400, 'no category chosen');
    assert.equal((await ask(campaign.category, {}, reporter.cookie)).statusCode, 403);
    // First what would change. The odd message is an analyst's own relabel: kept unless ticked.
    const posted = await form(campaign.category);
    assert.equal(posted.statusCode, 303, posted.body);
    assert.equal(posted.headers.location, `/workbench/campaigns/${campaign.id}/relabel?category=${campaign.category}`);
    const kept = await get(posted.headers.location as string);
    assert.equal(kept.statusCode, 200, kept.body);
    assert.match(kept.body, /Nothing to relabel\./);
    assert.match(kept.body, /1 relabelled by an analyst/);
    const preview = await ask(campaign.category, { relabelled: '1' });
    assert.equal(preview.statusCode, 200, preview.body);
    assert.match(preview.body, /1 message\(s\) will be relabelled/);
    assert.match(preview.body, /data-testid="campaign-relabel-confirm"/);
    // The language switch of the preview shows the same preview in French (it was a POST answer: a 404).
    const switchTo = /<a lang="fr" hreflang="fr" href="([^"]+)"/.exec(preview.body)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(switchTo?.includes(`category=${campaign.category}`) && switchTo.includes('relabelled=1'), switchTo);
    const french = await get(switchTo as string);
    assert.equal(french.statusCode, 200, french.body);
    assert.match(french.body, /<html lang="fr">/);
    assert.match(french.body, /data-testid="campaign-relabel-confirm"/);
    assert.match((await get('/workbench/held')).body, /1 held/, 'the preview changes nothing');
    const whole = await form(campaign.category, { relabelled: '1', confirm: '1' });
    assert.equal(whole.statusCode, 303, whole.body);
    assert.equal(whole.headers.location, `/workbench/campaigns/${campaign.id}?relabelled=1`, 'only the odd message');
    const after = await get(whole.headers.location as string);
    assert.match(after.body, /1 message\(s\) relabelled\./);
    assert.doesNotMatch(after.body, /data-testid="campaign-held"/);
    assert.match((await get('/workbench/held')).body, /No campaign is held\./);
    const audited = await db.selectFrom('audit_log').select(['action', 'subject', 'ip']).execute();
    assert.ok(audited.some((a) => a.action === 'campaign.relabel' && a.subject === `campaign:${campaign.id}` && a.ip));
    assert.match((await ask(campaign.category, { relabelled: '1' })).body, /Nothing to relabel\./);

    // By API, to another category: the message an analyst relabelled is kept unless asked for.
    const api2 = (body: Record<string, unknown>) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/campaigns/${campaign.id}/relabel`,
        headers: { cookie: analyst.cookie, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    const dry = (await api2({ category: other, dryRun: true })).json();
    assert.deepEqual(
      [dry.change, dry.keptRelabelled, dry.relabelled],
      [[{ from: campaign.category, messages: 2 }], 1, 0],
    );
    const all = await api2({ category: other, includeRelabelled: true });
    assert.equal(all.statusCode, 200, all.body);
    assert.deepEqual([all.json().relabelled, all.json().unchanged], [3, 0]);
    const again = await api2({ category: other });
    assert.deepEqual([again.json().relabelled, again.json().unchanged], [0, 3]);
    const standing = await db
      .selectFrom('campaigns')
      .selectAll()
      .where('id', '=', campaign.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual([standing.category, Number(standing.purity)], [other, 1]);
    assert.equal((await api2({ category: 'nonsense' })).statusCode, 400);
    const missing = await app.inject({
      method: 'POST',
      url: '/api/v1/campaigns/01NOSUCHCAMPAIGN/relabel',
      headers: { cookie: analyst.cookie, 'content-type': 'application/json' },
      payload: JSON.stringify({ category: other }),
    });
    assert.equal(missing.statusCode, 404);
  });
