/**
 * The blocklist's pages: the public look-up explains a listing (list, answer, reasons, reports
 * without reporters) in English and French, takes a removal request (CSRF-checked, readable
 * errors), and the analysts' desk grants it; bad input answers a readable 4xx page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../core/ids.ts';
import { policyFor } from '../../actions/action-policy.ts';
import { runListingPass } from '../../feeds/lists/pass.ts';
import { anonymousCsrf, createTestApp, postForm, userWithSession } from '../test-helpers.ts';

const HOUR = 3_600_000;
const IP = '91.121.9.1';

test('the look-up page explains a listing and takes a removal request an analyst grants', async (t) => {
  const s = await createTestApp(t, 'sqlite');
  if (!s) return;
  const { app, ctx } = s;
  const reporterAddress = 'jane.reporter@example.net';
  const rows = Array.from({ length: 3 }, (_, i) => {
    const at = new Date(Date.now() - (i + 1) * HOUR).toISOString();
    return {
      report_id: newId(),
      message_sha256: `${i}`.padStart(64, 'b'),
      campaign_id: null,
      category: 'phishing',
      received_at: at,
      origin_ip: IP,
      origin_asn: 64500,
      origin_as_name: 'Example Broadband', // a subscriber line: only those hold infected machines
      origin_country: 'FR',
      origin_rdns: null,
      origin_abuse: JSON.stringify([reporterAddress]),
      origin_port: null,
      sender_domain: null,
      advertised_domains: '[]',
      consent_denied: 0,
      unauthenticated: 1,
      bot_signals: JSON.stringify(['no-rdns', 'unauthenticated']),
      created_at: at,
      message_category: 'phishing',
      authenticated: 0,
      historical: 0,
      arrived_at: null,
      origin_sent_at: null,
    };
  });
  await ctx.db.insertInto('action_report_facts').values(rows).execute();
  await runListingPass(ctx.db, ctx.config, policyFor(ctx.config), new Date());

  const home = await app.inject({ url: '/listings' });
  assert.equal(home.statusCode, 200);
  assert.match(home.body, /127\.0\.0\.3/);
  assert.match(home.body, /RFC 5782/);
  const bad = await app.inject({ url: '/listings?q=%3Cscript%3E' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.headers['content-type'] as string, /text\/html/);
  assert.doesNotMatch(bad.body, /<script>/);
  const go = await app.inject({ url: `/listings?q=${IP}` });
  assert.equal(go.statusCode, 303);
  assert.equal(go.headers.location, `/listings/${IP}`);

  const page = await app.inject({ url: `/listings/${IP}` });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, new RegExp(`${IP.replace(/\./g, '\\.')} is listed on the infected machines list`));
  assert.match(page.body, /127\.0\.0\.2/);
  assert.equal(page.body.match(new RegExp(rows[0].report_id, 'g'))?.length, 1);
  assert.doesNotMatch(page.body, /jane\.reporter/, 'nothing of the reporters');
  const fr = await app.inject({ url: `/listings/${IP}?lang=fr` });
  assert.match(fr.body, /est inscrit sur la liste des machines infectées/);
  assert.equal((await app.inject({ url: '/listings/not%20valid' })).statusCode, 400);

  const noCsrf = await postForm(app, `/listings/${IP}/delist`, { reason: 'Cleaned the machine.' });
  assert.equal(noCsrf.statusCode, 403);
  const visitor = anonymousCsrf();
  const short = await postForm(app, `/listings/${IP}/delist`, { _csrf: visitor.csrf, reason: 'x' }, visitor.cookie);
  assert.equal(short.statusCode, 400);
  assert.match(short.body, /at least 10 characters/);
  const sent = await postForm(
    app,
    `/listings/${IP}/delist`,
    { _csrf: visitor.csrf, reason: 'We reinstalled the infected PC.', contact: 'abuse@isp.example' },
    visitor.cookie,
  );
  assert.equal(sent.statusCode, 303);
  assert.equal(sent.headers.location, `/listings/${IP}?delist=pending`);
  assert.match((await app.inject({ url: `/listings/${IP}` })).body, /A removal request is pending/);

  const analyst = await userWithSession(ctx.db, ctx.config, 'analyst');
  assert.equal((await app.inject({ url: '/workbench/delistings' })).statusCode, 303, 'anonymous: to sign-in');
  const desk = await app.inject({ url: '/workbench/delistings', headers: { cookie: analyst.cookie } });
  assert.equal(desk.statusCode, 200);
  assert.match(desk.body, /We reinstalled the infected PC\./);
  const id = /action="\/workbench\/delistings\/([0-9A-Z]+)"/.exec(desk.body)?.[1];
  assert.ok(id);
  const granted = await postForm(
    app,
    `/workbench/delistings/${id}`,
    { _csrf: analyst.csrf, decision: 'grant', note: 'confirmed' },
    analyst.cookie,
  );
  assert.equal(granted.statusCode, 303);
  const after = await app.inject({ url: `/listings/${IP}` });
  assert.match(after.body, /is not listed\./);
  assert.match(after.body, /It was removed from the lists on/);
});
