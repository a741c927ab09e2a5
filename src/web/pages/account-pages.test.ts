/**
 * Sign-in's `next`: only a same-origin path is followed; every trick a browser would turn into
 * another host, and every control character, falls back to the default page (a NUL is refused
 * with 400 before sign-in) — never a 500. The account page's declared mail hosts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../../db/test-databases.ts';
import { TEST_PASSWORD, anonymousCsrf, createTestApp, postForm, userWithSession } from '../test-helpers.ts';
import { safeNext } from './account-pages.ts';
import { drainPipeline } from '../../app/test-pipeline.ts';

/** Values of `next` as they arrive after form decoding. */
const HOSTILE = [
  '/\t/evil.example',
  '/%09/evil.example',
  '//evil.example',
  '//evil.example/path',
  '/\\evil.example',
  '/\\/evil.example',
  '\\\\evil.example',
  '/%5cevil.example',
  '/%2f/evil.example',
  'https://evil.example/',
  'javascript:alert(1)',
  'data:text/html,x',
  'evil.example',
  '/ok\r\nSet-Cookie: x=1',
  '/ok\rx',
  '/ok\nx',
  '/ok\x0bx',
  '/ok\x00x',
  '/ok%0d%0aSet-Cookie:x',
  '/\u2028/evil.example',
  '/\uff0f/evil.example',
  `/${'a'.repeat(600)}`,
  '',
];

test('safeNext keeps same-origin paths and rejects everything else', () => {
  for (const ok of ['/workbench', '/workbench/reports?q=a%20b&from=2026-11-01', '/account#tokens', '/r/%C3%A9t%C3%A9'])
    assert.equal(safeNext(ok), ok);
  for (const bad of HOSTILE) assert.equal(safeNext(bad), null, JSON.stringify(bad));
  assert.equal(safeNext(42), null);
});

for (const dialect of DIALECTS) {
  test(`sign-in never redirects off-site or fails on a hostile next (${dialect})`, async (t) => {
    const h = await createTestApp(t, dialect, { webLoginMaxFailures: 1000, webLoginAddressMaxFailures: 1000 });
    if (!h) return;
    const { db, config } = h.ctx;
    const u = await userWithSession(db, config, 'analyst');
    const anon = anonymousCsrf();
    for (const next of HOSTILE) {
      const res = await postForm(
        h.app,
        '/login',
        { _csrf: anon.csrf, email: u.email, password: TEST_PASSWORD, next },
        anon.cookie,
      );
      if (next.includes('\0')) {
        // A NUL is refused for every request before sign-in is attempted (request-validation.ts).
        assert.equal(res.statusCode, 400, `${JSON.stringify(next)}: ${res.statusCode} ${res.body.slice(0, 200)}`);
        assert.match(res.body, /"error":"BAD_REQUEST"/);
      } else {
        assert.equal(res.statusCode, 303, `${JSON.stringify(next)}: ${res.statusCode} ${res.body.slice(0, 200)}`);
        assert.equal(res.headers.location, '/workbench', JSON.stringify(next));
      }
      const page = await h.app.inject({ method: 'GET', url: `/login?next=${encodeURIComponent(next)}` });
      assert.ok(page.statusCode < 500, `GET /login ${JSON.stringify(next)}: ${page.statusCode}`);
      assert.ok(page.headers.location === undefined, 'GET /login never redirects');
      assert.doesNotMatch(
        page.body,
        /name="next"/,
        `GET /login ${JSON.stringify(next)} carries the target into the form`,
      );
    }
    const good = await postForm(
      h.app,
      '/login',
      { _csrf: anon.csrf, email: u.email, password: TEST_PASSWORD, next: '/workbench/reports?q=x' },
      anon.cookie,
    );
    assert.equal(good.headers.location, '/workbench/reports?q=x');
  });
}

for (const dialect of DIALECTS) {
  test(`a reporter declares their mail hosts on the account page; a refused line keeps the form as typed \
(${dialect})`, async (t) => {
    const h = await createTestApp(t, dialect);
    if (!h) return;
    const { db, config } = h.ctx;
    const u = await userWithSession(db, config, 'reporter');
    const page = await h.app.inject({ method: 'GET', url: '/account', headers: { cookie: u.cookie } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<textarea id="mailhosts" name="mailhosts"[^>]*><\/textarea>/);

    const refused = await postForm(
      h.app,
      '/account/mailhosts',
      { _csrf: u.csrf, mailhosts: 'vineyard.net # the gazette forward\n10.0.0.0/8\n<script>x</script>' },
      u.cookie,
    );
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, /data-testid="mailhosts-error">[^<]*10\.0\.0\.0\/8: a network wider than \/16/);
    // What was typed stays in the form, escaped; nothing was stored.
    assert.match(refused.body, /vineyard\.net # the gazette forward\n10\.0\.0\.0\/8\n&lt;script&gt;x&lt;\/script&gt;/);
    assert.doesNotMatch(refused.body, /<script>x/);
    assert.equal((await db.selectFrom('analysis_declared_mailhosts').selectAll().execute()).length, 0);

    const saved = await postForm(
      h.app,
      '/account/mailhosts',
      { _csrf: u.csrf, mailhosts: 'vineyard.net # the gazette forward\r\n\r\n204.17.195.90\r\n' },
      u.cookie,
    );
    assert.equal(saved.statusCode, 200, saved.body.slice(0, 300));
    assert.match(saved.body, /\*\.vineyard\.net {2}# the gazette forward/);
    const rows = await db
      .selectFrom('analysis_declared_mailhosts')
      .select(['reporter_key', 'entry', 'note'])
      .orderBy('entry')
      .execute();
    assert.deepEqual(rows, [
      { reporter_key: `user:${u.id}`, entry: '204.17.195.90', note: null },
      { reporter_key: `user:${u.id}`, entry: 'vineyard.net', note: 'the gazette forward' },
    ]);
    // Without the form's CSRF token nothing changes.
    const forged = await postForm(h.app, '/account/mailhosts', { mailhosts: '' }, u.cookie);
    assert.equal(forged.statusCode, 403);
    assert.equal((await db.selectFrom('analysis_declared_mailhosts').selectAll().execute()).length, 2);
  });
}

/**
 * A message through `relay` (a machine outside the reporter's side) of one of three mailings; `n` varies it; `fields`
 * are header lines added (a list manager's); `from`, the sender (by default one per mailing).
 */
function forwarded(
  relay: string,
  mailing: number,
  n: number,
  fields: string[] = [],
  from = `offers${mailing}@mailing${mailing}.example`,
): Buffer {
  const subjects = ['Your parcel is waiting', 'Claim your lottery prize now', 'Cheap watches, best prices'];
  const bodies = [
    'Your parcel is held at our depot until the customs fee is paid at https://parcel-depot-fees.example/pay today.',
    'You have won the international lottery: send your bank details to claim the prize at https://lotto.example/.',
    'Replica watches at the best prices on the web, free shipping worldwide: https://watches-cheap.example/shop now.',
  ];
  return Buffer.from(
    [
      `Received: from relay.outside.example-net.com (relay.outside.example-net.com [${relay}]) by mx.reporter-home.org \
with ESMTP id f${mailing}x${n}; Mon, 23 Nov 2026 10:0${n}:00 +0000`,
      `Received: from sender${mailing} ([61.177.${mailing}.${10 + n}]) by relay.outside.example-net.com with SMTP; \
Mon, 23 Nov 2026 10:0${n}:00 +0000`,
      `From: Offers <${from}>`,
      'To: me@reporter-home.org',
      `Subject: ${subjects[mailing]}`,
      ...fields,
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      `Message-ID: <m${mailing}.${n}.${relay}@mailing${mailing}.example>`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      `${bodies[mailing]} Reference ${mailing}-${n}.`,
      '',
    ].join('\r\n'),
  );
}

for (const dialect of DIALECTS)
  test(`the account page names the machine that most of a reporter's reports of several campaigns stop at, a \
likely forwarder of theirs, and neither a spam source of one campaign nor the server of lists they read \
(${dialect})`, async (t) => {
    const h = await createTestApp(t, dialect, { dnsMode: 'offline' });
    if (!h) return;
    const { db, config } = h.ctx;
    const u = await userWithSession(db, config, 'reporter');
    const forwarder = '85.13.150.7';
    const source = '91.200.12.9';
    const listServer = '194.125.145.45';
    const newsletter = '206.16.1.160';
    await h.ctx.writer.submit(
      [
        // Two reports each of three mailings through one machine, five of one mailing from another, and two each of
        // three lists' spam from a list server (which the trace-back rightly names: the list is its sender).
        ...[0, 1, 2].flatMap((m) => [1, 2].map((n) => forwarded(forwarder, m, n))),
        ...[1, 2, 3, 4, 5].map((n) => forwarded(source, 0, n)),
        ...[0, 1, 2].flatMap((m) =>
          [3, 4].map((n) =>
            forwarded(listServer, m, n, [`List-Id: <list${m}.lists.example.org>`, `X-BeenThere: list${m}@example.org`]),
          ),
        ),
        // And three issues, two each, of one sender's newsletter from its own mail server.
        ...[0, 1, 2].flatMap((m) =>
          [5, 6].map((n) => forwarded(newsletter, m, n, [], 'news@newsletters.cnet.example')),
        ),
      ].map((raw) => ({ raw, channel: 'web' as const, reporterUserId: u.id })),
    );
    await drainPipeline(h.ctx);
    const facts = await db.selectFrom('action_report_facts').select(['origin_ip', 'campaign_id']).execute();
    assert.equal(facts.filter((f) => f.origin_ip === forwarder).length, 6, 'the walk stops at the forwarder');
    assert.equal(new Set(facts.filter((f) => f.origin_ip === forwarder).map((f) => f.campaign_id)).size, 3);

    const page = async (lang = 'en') =>
      (await h.app.inject({ url: `/account?lang=${lang}`, headers: { cookie: u.cookie } })).body;
    const listed = /<ul data-testid="mailhosts-frequent">([\s\S]*?)<\/ul>/.exec(await page())?.[1] ?? '';
    assert.match(listed, /85\.13\.150\.7<\/code> \(<code translate="no">relay\.outside\.example-net\.com<\/code>\)/);
    assert.match(listed, /: 6 reports, 3 campaigns<\/li>/);
    assert.doesNotMatch(listed, /91\.200\.12\.9/, 'a source of one campaign is not somebody’s forwarder');
    assert.equal(facts.filter((f) => f.origin_ip === listServer).length, 6, 'the walk stops at the list server');
    assert.equal(new Set(facts.filter((f) => f.origin_ip === listServer).map((f) => f.campaign_id)).size, 3);
    assert.doesNotMatch(listed, /194\.125\.145\.45/, 'a list’s server is not a subscriber’s mail host');
    assert.equal(new Set(facts.filter((f) => f.origin_ip === newsletter).map((f) => f.campaign_id)).size, 3);
    assert.doesNotMatch(listed, /206\.16\.1\.160/, 'one sender’s mail server is not a forwarder');
    assert.match(await page('fr'), /6\u00a0signalements, 3\u00a0campagnes/);
    // Another reporter sees none of it.
    const other = await userWithSession(db, config, 'reporter');
    const theirs = await h.app.inject({ url: '/account', headers: { cookie: other.cookie } });
    assert.doesNotMatch(theirs.body, /mailhosts-frequent/);
    // Declared, it is no longer offered.
    const saved = await postForm(h.app, '/account/mailhosts', { _csrf: u.csrf, mailhosts: forwarder }, u.cookie);
    assert.equal(saved.statusCode, 200);
    assert.doesNotMatch(await page(), /mailhosts-frequent/);
  });
