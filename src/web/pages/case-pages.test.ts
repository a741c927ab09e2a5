/**
 * The case workbench and the authority's referral path through the real app, on both databases:
 * an analyst opens a case about a campaign (named by its label), pages, filters, annotates,
 * removes and adds reports, previews a referral (redacted: no reporter address) and sends it;
 * the authority sees only its own referral, downloads the package (audited) and closes it with a
 * note; the reporter's tracking page says so in plain words, in English and French, and shows
 * nothing of the other reporters.
 */
import { test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import assert from 'node:assert/strict';
import { DIALECTS } from '../../db/test-databases.ts';
import { newId, nowIso } from '../../core/ids.ts';
import { ACTIONS_NEXT } from '../../app/pipeline.ts';
import { processReport } from '../../actions/actions-jobs.ts';
import { analysisFor, spamMessage } from '../../actions/test-factories.ts';
import { createAuthority } from '../../actions/cases/authorities.ts';
import { openCase, setCaseState } from '../../actions/cases/cases.ts';
import { indexAll } from '../indexer.ts';
import { caseReportsPage } from '../../actions/cases/case-view.ts';
import { createTestApp, postForm, userWithSession } from '../test-helpers.ts';

const REPORTER = (n: number) => `victim${n}@reporters.example`;

for (const dialect of DIALECTS) {
  test(`[${dialect}] analyst opens, refers and closes a case; the authority answers; the reporter reads the \
outcome`, async (t) => {
    const h = await createTestApp(t, dialect);
    if (!h) return;
    const { app, ctx } = h;
    const { db, config } = ctx;
    const analyst = await userWithSession(db, config, 'analyst');
    const police = await userWithSession(db, config, 'authority');
    const other = await userWithSession(db, config, 'authority');
    const authority = await createAuthority(db, {
      name: 'Police Cyber Unit',
      country: 'FR',
      competence: 'cybercrime',
      contactKind: 'email',
      contact: 'cyber@police.example',
      userId: police.id,
    });
    await createAuthority(db, {
      name: 'Other Authority',
      country: 'FR',
      competence: 'consumer_protection',
      contactKind: 'email',
      contact: 'other@authority.example',
      userId: other.id,
    });

    // Three reports of one campaign from three reporters, and one of another campaign.
    const stored = [];
    for (const n of [1, 2, 3, 4]) {
      const raw = spamMessage({ n, ip: `203.0.113.${n}`, to: REPORTER(n), subject: 'Your parcel is waiting' });
      const s = await ctx.writer.submitOne({ raw, channel: 'api', reporterAddress: REPORTER(n) });
      const a = await analysisFor(raw, {
        ip: `203.0.113.${n}`,
        asn: 64500,
        asName: 'EXAMPLE-NET',
        country: 'NL',
        rdns: null,
        abuse: [],
        category: 'commercial',
      });
      await processReport(
        ctx,
        { reportId: s.id, sha256: s.sha256, campaignId: n < 4 ? 'camp-1' : 'camp-2' },
        a,
        ACTIONS_NEXT,
      );
      stored.push(s);
    }
    await indexAll(db);
    const now = nowIso();
    await db
      .insertInto('campaigns')
      .values({
        id: 'camp-1',
        merged_into: null,
        category: 'phishing',
        core_signature: null,
        core_kind: 'email',
        first_seen_at: now,
        last_seen_at: now,
        message_count: 3,
        report_count: 3,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await db
      .insertInto('campaign_facts')
      .values([
        {
          campaign_id: 'camp-1',
          kind: 'subject',
          value: 'Your parcel is waiting',
          count: 3,
          first_seen_at: now,
          last_seen_at: now,
        },
        {
          campaign_id: 'camp-1',
          kind: 'sender',
          value: 'Your Bank <service@secure-bank-login.example>',
          count: 3,
          first_seen_at: now,
          last_seen_at: now,
        },
      ])
      .execute();

    const get = (url: string, cookie = analyst.cookie) => app.inject({ method: 'GET', url, headers: { cookie } });

    // Open a case about the campaign: the form names it by its label.
    const form = await get('/cases/new?campaign=camp-1');
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /Your parcel is waiting/);
    const fieldsOpen = {
      targetKind: 'campaign',
      targetValue: 'camp-1',
      title: 'Parcel phishing',
      category: 'phishing',
      campaignReports: '1',
      reportIds: '',
    };
    const refused = await postForm(
      app,
      '/cases',
      { ...fieldsOpen, _csrf: 'wrong-token-wrong-token-wrong' },
      analyst.cookie,
    );
    assert.equal(refused.statusCode, 403, 'a form without its CSRF token is refused');
    const opened = await postForm(app, '/cases', { ...fieldsOpen, _csrf: analyst.csrf }, analyst.cookie);
    assert.equal(opened.statusCode, 303, opened.body);
    const caseUrl = String(opened.headers.location).split('?')[0];
    const caseId = caseUrl.split('/').pop() ?? '';
    assert.match(String(opened.headers.location), /done=opened/);
    const again = await postForm(app, '/cases', { ...fieldsOpen, _csrf: analyst.csrf }, analyst.cookie);
    assert.equal(String(again.headers.location), `${caseUrl}?done=existing`, 'no second live case for a campaign');
    const bad = await postForm(
      app,
      '/cases',
      { ...fieldsOpen, targetKind: 'planet', _csrf: analyst.csrf },
      analyst.cookie,
    );
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /Unknown target kind/);
    const badFr = await postForm(
      app,
      '/cases?lang=fr',
      { ...fieldsOpen, targetKind: 'planet', _csrf: analyst.csrf },
      analyst.cookie,
    );
    assert.match(badFr.body, /Type de cible inconnu/);

    // The case page: target by name, timeline, reports, indicators, origins, history.
    const page = await get(caseUrl);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /data-testid="case-campaign">Your parcel is waiting</);
    assert.match(page.body, /id="case-timeline"/);
    assert.match(page.body, /Reports \(3\)/);
    assert.match(page.body, /203\.0\.113\.2/);
    assert.match(page.body, /AS64500/);
    assert.match(page.body, /secure-bank-login\.example/);

    // The list: filters and the campaign's label.
    const list = await get('/cases?category=phishing');
    assert.match(list.body, /Parcel phishing/);
    assert.match(list.body, /Your parcel is waiting/);
    assert.doesNotMatch((await get('/cases?category=scam')).body, /Parcel phishing/);
    assert.doesNotMatch((await get('/cases?state=closed')).body, /Parcel phishing/);
    assert.match((await get('/cases?rule=manual&targetKind=campaign&target=camp-1')).body, /Parcel phishing/);
    assert.equal((await get('/cases?from=yesterday')).statusCode, 400);

    // Annotate; take a report out, then put it back.
    const note = await postForm(
      app,
      `${caseUrl}/annotate`,
      { _csrf: analyst.csrf, note: 'Looks like the October wave' },
      analyst.cookie,
    );
    assert.equal(note.statusCode, 303);
    const removed = await postForm(
      app,
      `${caseUrl}/reports/remove`,
      { _csrf: analyst.csrf, reportIds: stored[2].id, note: 'not ours' },
      analyst.cookie,
    );
    assert.equal(removed.statusCode, 303);
    assert.match((await get(caseUrl)).body, /Reports \(2\)/);
    const unknown = await postForm(
      app,
      `${caseUrl}/reports`,
      { _csrf: analyst.csrf, reportIds: '01ZZZZZZZZZZZZZZZZZZZZZZZZ' },
      analyst.cookie,
    );
    assert.equal(unknown.statusCode, 400);
    await postForm(app, `${caseUrl}/reports`, { _csrf: analyst.csrf, reportIds: stored[2].id }, analyst.cookie);
    const full = (await get(caseUrl)).body;
    assert.match(full, /Reports \(3\)/);
    assert.match(full, /Looks like the October wave/);
    assert.match(full, /not ours/);

    // The case's reports page by (reception, id), newest first, through every report.
    const paged: string[] = [];
    let rc: string | null = null;
    do {
      const p: Awaited<ReturnType<typeof caseReportsPage>> = await caseReportsPage(db, caseId, rc, 1);
      assert.equal(p.total, 3);
      paged.push(...p.rows.map((r) => r.report_id));
      rc = p.next;
    } while (rc);
    assert.deepEqual(
      [...paged].sort(),
      stored
        .slice(0, 3)
        .map((s) => s.id)
        .sort(),
    );
    assert.equal((await get(`${caseUrl}?cursor=${encodeURIComponent('not a cursor')}`)).statusCode, 200);

    // Refer: the preview shows what goes out, redacted of every reporter.
    const preview = await get(`${caseUrl}/refer?authority=${authority.id}`);
    assert.equal(preview.statusCode, 200, preview.body);
    assert.match(preview.body, /data-testid="refer-preview"/);
    // The authority set no language: the covering mail is in the region's (fr, the default).
    assert.match(preview.body, /vous transmet ce dossier, Police Cyber Unit/);
    for (const n of [1, 2, 3]) assert.ok(!preview.body.includes(REPORTER(n)), `preview leaks ${REPORTER(n)}`);
    const routed = await get(`${caseUrl}/refer?route=1`);
    assert.match(routed.body, /Police Cyber Unit/, 'phishing routes to the cybercrime authority');
    const sent = await postForm(
      app,
      `${caseUrl}/refer`,
      { _csrf: analyst.csrf, authorityIds: authority.id },
      analyst.cookie,
    );
    assert.equal(sent.statusCode, 303, sent.body);
    const referral = await db
      .selectFrom('action_referrals')
      .selectAll()
      .where('case_id', '=', caseId)
      .executeTakeFirstOrThrow();
    assert.ok(
      await db.selectFrom('action_outbox').select('id').where('id', '=', referral.outbox_id).executeTakeFirst(),
    );
    assert.match((await get(caseUrl)).body, /data-testid="case-state">Referred</);

    // The authority: its referrals only; another authority gets 404.
    const mine = await get('/referrals', police.cookie);
    assert.match(mine.body, new RegExp(`/referrals/${referral.id}`));
    assert.equal((await get(`/referrals/${referral.id}`, other.cookie)).statusCode, 404);
    assert.doesNotMatch((await get('/referrals', other.cookie)).body, new RegExp(referral.id));
    const redirect = await get(caseUrl, police.cookie);
    assert.equal(redirect.statusCode, 303);
    assert.equal(redirect.headers.location, `/referrals/${referral.id}`);
    const refPage = await get(`/referrals/${referral.id}`, police.cookie);
    assert.equal(refPage.statusCode, 200);
    for (const n of [1, 2, 3]) assert.ok(!refPage.body.includes(REPORTER(n)));
    const zip = await get(`/referrals/${referral.id}/package`, police.cookie);
    assert.equal(zip.statusCode, 200);
    assert.equal(zip.headers['content-type'], 'application/zip');
    assert.equal(zip.rawPayload.subarray(0, 2).toString(), 'PK');
    const audit = await db
      .selectFrom('audit_log')
      .select(['action', 'actor'])
      .where('subject', '=', `referral:${referral.id}`)
      .where('action', '=', 'referral.download')
      .execute();
    assert.ok(
      audit.some((a) => a.actor.includes(police.email)),
      'the download is audited with its actor',
    );

    // The authority closes with a note; the case closes with its last referral.
    const noCsrf = await postForm(
      app,
      `/referrals/${referral.id}/answer`,
      { answer: 'close', note: 'x' },
      police.cookie,
    );
    assert.equal(noCsrf.statusCode, 403);
    const moreWithoutNote = await postForm(
      app,
      `/referrals/${referral.id}/answer`,
      { _csrf: police.csrf, answer: 'request-more', note: '' },
      police.cookie,
    );
    assert.equal(moreWithoutNote.statusCode, 400);
    const closed = await postForm(
      app,
      `/referrals/${referral.id}/answer`,
      { _csrf: police.csrf, answer: 'close', note: `The sender was fined; thanks ${REPORTER(2)}` },
      police.cookie,
    );
    assert.equal(closed.statusCode, 303, closed.body);
    assert.match((await get(caseUrl)).body, /data-testid="case-state">Closed</);

    // The reporter's tracking page: the outcome in plain words, nobody else's address.
    const track = await app.inject({ method: 'GET', url: `/track/${stored[0].trackingToken}` });
    assert.match(track.body, /Police Cyber Unit closed the case on \d{1,2} \w+ \d{4}: The sender was fined; thanks/);
    assert.ok(!track.body.includes(REPORTER(2)), 'another reporter named in the note is redacted');
    const fr = await app.inject({ method: 'GET', url: `/track/${stored[0].trackingToken}?lang=fr` });
    assert.match(fr.body, /Police Cyber Unit a clos le dossier le \d{1,2} \S+ \d{4}\u00a0: The sender was fined/);
    const outsider = await app.inject({ method: 'GET', url: `/track/${stored[3].trackingToken}` });
    assert.doesNotMatch(outsider.body, /closed the case/, 'a report outside the case learns nothing of it');
  });

  test(`[${dialect}] the case list and its API page through everything, filtered`, async (t) => {
    const h = await createTestApp(t, dialect);
    if (!h) return;
    const { app, ctx } = h;
    const { db, config } = ctx;
    const analyst = await userWithSession(db, config, 'analyst');
    const made = new Set<string>();
    for (let i = 0; i < 130; i++) {
      const c = await openCase(db, {
        targetKind: 'sender_domain',
        targetValue: `d${i}.example`,
        title: `Case number ${i}`,
        category: i % 2 ? 'scam' : 'phishing',
        openedBy: i % 3 ? 'rule:SENDER_CONSENT' : `user:${newId()}(a@example.org):analyst`,
      });
      made.add(c.id);
    }
    // The web list: 50 a page, a next link until the last page.
    const seen = new Set<string>();
    let url: string | null = '/cases';
    let pages = 0;
    while (url) {
      const res: LightMyRequestResponse = await app.inject({ method: 'GET', url, headers: { cookie: analyst.cookie } });
      assert.equal(res.statusCode, 200);
      for (const m of res.body.matchAll(/data-case-id="([^"]+)"/g)) seen.add(m[1]);
      const next = /<a rel="next" href="([^"]+)"/.exec(res.body);
      url = next ? next[1].replace(/&amp;/g, '&') : null;
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual([...seen].sort(), [...made].sort());

    // The API: limit and cursor, filters, `next: null` at the end.
    const apiSeen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const res: LightMyRequestResponse = await app.inject({
        method: 'GET',
        url: `/api/v1/actions/cases?limit=40&category=scam${cursor ? `&cursor=${cursor}` : ''}`,
        headers: { cookie: analyst.cookie },
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as { cases: { id: string; category: string }[]; next: string | null };
      assert.ok(body.cases.every((c) => c.category === 'scam'));
      apiSeen.push(...body.cases.map((c) => c.id));
      cursor = body.next;
    }
    assert.equal(apiSeen.length, 65);
    assert.equal(new Set(apiSeen).size, 65);
    const rule = await app.inject({
      method: 'GET',
      url: '/api/v1/actions/cases?rule=SENDER_CONSENT&limit=1000',
      headers: { cookie: analyst.cookie },
    });
    assert.equal((rule.json() as { cases: unknown[] }).cases.length, 86);
    // The needs-review queue: a case the gates held, with their reasons on its page.
    const held = [...made][7];
    await setCaseState(db, held, 'needs_review', 'rule:gates', { reasons: ['campaign purity 0.62 below 1'] });
    const queue = await app.inject({ method: 'GET', url: '/cases', headers: { cookie: analyst.cookie } });
    assert.match(queue.body, /1 case\(s\) wait for review/);
    const review = await app.inject({
      method: 'GET',
      url: '/cases?state=needs_review',
      headers: { cookie: analyst.cookie },
    });
    assert.deepEqual(
      [...review.body.matchAll(/data-case-id="([^"]+)"/g)].map((m) => m[1]),
      [held],
    );
    const heldPage = await app.inject({ method: 'GET', url: `/cases/${held}`, headers: { cookie: analyst.cookie } });
    assert.match(heldPage.body, /data-testid="case-review"[\s\S]*campaign purity 0\.62 below 1/);
    const bad = await app.inject({
      method: 'GET',
      url: '/api/v1/actions/cases?state=sleeping',
      headers: { cookie: analyst.cookie },
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /state/);
  });
}
