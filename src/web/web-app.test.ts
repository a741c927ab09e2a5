/**
 * The web application through HTTP (app.inject) on both databases: public report forms with CSRF,
 * tracking links, accounts (sign-in, lockout, tokens), workbench pages, marks, audit, French.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../db/test-databases.ts';
import { findToken } from '../db/tokens.ts';
import { indexAll } from './indexer.ts';
import { SESSION_COOKIE } from '../db/accounts.ts';
import {
  TEST_PASSWORD,
  anonymousCsrf,
  createTestApp,
  multipart,
  postForm,
  sampleSpam,
  userWithSession,
} from './test-helpers.ts';

function cookieFrom(res: { headers: Record<string, unknown> }, name: string): string | null {
  const raw = res.headers['set-cookie'];
  const list = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? [raw] : [];
  for (const c of list) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(c);
    if (m) return m[1];
  }
  return null;
}

for (const dialect of DIALECTS) {
  test(`web app (${dialect})`, async (t) => {
    const h = await createTestApp(t, dialect, { webLoginMaxFailures: 3, webLoginBackoffSeconds: 600 });
    if (!h) return;
    const { ctx, app } = h;
    const { db, config } = ctx;

    await t.test('the report form refuses a post without its CSRF token', async () => {
      const { body, contentType } = multipart([['source', sampleSpam().toString()]]);
      const res = await app.inject({
        method: 'POST',
        url: '/report',
        headers: { 'content-type': contentType },
        payload: body,
      });
      assert.equal(res.statusCode, 403);
      assert.equal(await db.selectFrom('reports').select('id').executeTakeFirst(), undefined);
    });

    let trackUrl = '';
    await t.test(
      'a pasted spam and two uploaded .eml files are stored through the report writer, with tracking links',
      async () => {
        const anon = anonymousCsrf();
        const { body, contentType } = multipart(
          [
            ['_csrf', anon.csrf],
            ['source', sampleSpam({ subject: 'Pasted winner' }).toString()],
            ['consent', 'not-given'],
            ['note', 'never subscribed'],
          ],
          [
            { name: 'files', filename: 'a.eml', content: sampleSpam({ subject: 'Uploaded one' }) },
            { name: 'files', filename: 'b.eml', content: sampleSpam({ subject: 'Uploaded two' }) },
          ],
        );
        const res = await app.inject({
          method: 'POST',
          url: '/report',
          headers: { 'content-type': contentType, cookie: anon.cookie },
          payload: body,
        });
        assert.equal(res.statusCode, 201, res.body);
        const links = [...res.body.matchAll(/href="(\/track\/[A-Za-z0-9_-]+)"/g)].map((m) => m[1]);
        assert.equal(links.length, 3);
        const rows = await db.selectFrom('reports').selectAll().execute();
        assert.equal(rows.length, 3);
        assert.ok(rows.every((r) => r.channel === 'web' && r.note === 'never subscribed'));
        assert.deepEqual(JSON.parse(rows[0].context ?? '{}').consent, 'not-given');
        const jobs = await db.selectFrom('jobs').select('kind').where('kind', '=', 'analyse-report').execute();
        assert.equal(jobs.length, 3);
        trackUrl = links[0];
      },
    );

    await t.test('a paste that is not an e-mail is refused with the reason and the form kept', async () => {
      const anon = anonymousCsrf();
      const { body, contentType } = multipart([
        ['_csrf', anon.csrf],
        ['source', 'hello, this is just text'],
      ]);
      const res = await app.inject({
        method: 'POST',
        url: '/report',
        headers: { 'content-type': contentType, cookie: anon.cookie },
        payload: body,
      });
      assert.equal(res.statusCode, 400);
      assert.match(res.body, /header field/);
      assert.match(res.body, /hello, this is just text/);
    });

    await t.test('an SMS report is stored as canonical SMS evidence on the sms channel', async () => {
      const anon = anonymousCsrf();
      const res = await postForm(
        app,
        '/report/sms',
        {
          _csrf: anon.csrf,
          sender: '06 12 34 56 78',
          text: 'Your parcel is waiting: http://parcel.example/x',
          date: '2026-11-20T09:30',
        },
        anon.cookie,
      );
      assert.equal(res.statusCode, 201, res.body);
      const r = await db
        .selectFrom('reports')
        .innerJoin('messages', 'messages.sha256', 'reports.message_sha256')
        .select(['reports.channel', 'messages.kind'])
        .where('reports.channel', '=', 'sms')
        .executeTakeFirstOrThrow();
      assert.equal(r.kind, 'sms');
    });

    await t.test('the tracking page shows the report status and nothing about other reporters', async () => {
      const res = await app.inject({ method: 'GET', url: trackUrl });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /Waiting for analysis/);
      assert.doesNotMatch(res.body, /never subscribed|127\.0\.0\.1/);
      const missing = await app.inject({ method: 'GET', url: '/track/nonexistenttokennonexistenttoken' });
      assert.equal(missing.statusCode, 404);
    });

    await t.test(
      'sign-in sets an HttpOnly SameSite session cookie; wrong passwords slow that address down',
      async () => {
        const u = await userWithSession(db, config, 'analyst');
        const anon = anonymousCsrf();
        for (let i = 0; i < 3; i++) {
          const bad = await postForm(
            app,
            '/login',
            { _csrf: anon.csrf, email: u.email, password: 'wrong password!!' },
            anon.cookie,
          );
          assert.ok(bad.statusCode === 401 || bad.statusCode === 429, String(bad.statusCode));
        }
        const locked = await postForm(
          app,
          '/login',
          { _csrf: anon.csrf, email: u.email, password: TEST_PASSWORD },
          anon.cookie,
        );
        assert.equal(locked.statusCode, 429, 'the right password is refused while locked');
        const v = await userWithSession(db, config, 'analyst');
        const ok = await postForm(
          app,
          '/login',
          { _csrf: anon.csrf, email: v.email, password: TEST_PASSWORD, next: '/workbench/reports' },
          anon.cookie,
        );
        assert.equal(ok.statusCode, 303);
        assert.equal(ok.headers.location, '/workbench/reports');
        const setCookie = String(ok.headers['set-cookie']);
        assert.match(setCookie, new RegExp(`${SESSION_COOKIE}=`));
        assert.match(setCookie, /HttpOnly/i);
        assert.match(setCookie, /SameSite=Lax/i);
        const session = cookieFrom(ok, SESSION_COOKIE);
        assert.ok(session);
        const page = await app.inject({
          method: 'GET',
          url: '/workbench/reports',
          headers: { cookie: `${SESSION_COOKIE}=${session}` },
        });
        assert.equal(page.statusCode, 200);
        const offsite = await postForm(
          app,
          '/login',
          { _csrf: anon.csrf, email: v.email, password: TEST_PASSWORD, next: '//evil.example/' },
          anon.cookie,
        );
        assert.equal(offsite.headers.location, '/workbench', 'an off-site next is ignored');
      },
    );

    await t.test(
      'the workbench lists, searches, shows a report with its safe view, and audits evidence views',
      async () => {
        await indexAll(db);
        const a = await userWithSession(db, config, 'analyst');
        const list = await app.inject({ method: 'GET', url: '/workbench/reports', headers: { cookie: a.cookie } });
        assert.equal(list.statusCode, 200);
        assert.match(list.body, /Pasted winner/);
        const search = await app.inject({
          method: 'GET',
          url: '/workbench/reports?q=uploaded+two',
          headers: { cookie: a.cookie },
        });
        assert.match(search.body, /Uploaded two/);
        assert.doesNotMatch(search.body, /Pasted winner/);
        const bySender = await app.inject({
          method: 'GET',
          url: '/workbench/reports?sender=lottery.example',
          headers: { cookie: a.cookie },
        });
        assert.equal([...bySender.body.matchAll(/data-report-id=/g)].length, 3);
        const id = /data-report-id="([0-9A-Z]+)">\s*<td[^>]*>[^<]*<\/td>\s*<td[^>]*><a [^>]*>Pasted winner/.exec(
          list.body,
        )?.[1];
        assert.ok(id);
        const detail = await app.inject({
          method: 'GET',
          url: `/workbench/reports/${id}`,
          headers: { cookie: a.cookie },
        });
        assert.equal(detail.statusCode, 200);
        assert.match(
          detail.body,
          /<iframe class="safe-view" src="\/workbench\/reports\/[0-9A-Z]+\/safe-view" sandbox=""/,
        );
        const view = await app.inject({
          method: 'GET',
          url: `/workbench/reports/${id}/safe-view`,
          headers: { cookie: a.cookie },
        });
        assert.equal(view.statusCode, 200);
        assert.match(String(view.headers['content-security-policy']), /default-src 'none'; img-src data:/);
        const raw = await app.inject({
          method: 'GET',
          url: `/workbench/reports/${id}/raw`,
          headers: { cookie: a.cookie },
        });
        assert.equal(raw.statusCode, 200);
        assert.match(raw.body, /^Received: /);
        const audit = await db
          .selectFrom('audit_log')
          .select(['action', 'actor', 'ip'])
          .where('subject', '=', `report:${id}`)
          .execute();
        assert.deepEqual(audit.map((x) => x.action).sort(), [
          'evidence.view-raw',
          'evidence.view-rendered',
          'evidence.view-report',
        ]);
        assert.ok(audit.every((x) => x.actor.includes(a.email) && x.ip === '127.0.0.1'));
        const admin = await userWithSession(db, config, 'admin');
        const log = await app.inject({ method: 'GET', url: '/admin/audit', headers: { cookie: admin.cookie } });
        assert.match(log.body, /evidence\.view-raw/);
        const denied = await app.inject({ method: 'GET', url: '/admin/audit', headers: { cookie: a.cookie } });
        assert.equal(denied.statusCode, 403);
      },
    );

    await t.test('marking a false report is stored with who and when and shows in the list', async () => {
      const a = await userWithSession(db, config, 'analyst');
      const r = await db.selectFrom('reports').select('id').orderBy('id').executeTakeFirstOrThrow();
      const res = await postForm(
        app,
        `/workbench/reports/${r.id}/false-report`,
        { _csrf: a.csrf, mark: 'false-report' },
        a.cookie,
      );
      assert.equal(res.statusCode, 303);
      const mark = await db
        .selectFrom('web_report_marks')
        .selectAll()
        .where('report_id', '=', r.id)
        .executeTakeFirstOrThrow();
      assert.match(mark.actor, new RegExp(a.email));
      const idx = await db
        .selectFrom('web_report_index')
        .select('false_report')
        .where('report_id', '=', r.id)
        .executeTakeFirstOrThrow();
      assert.equal(idx.false_report, 1);
      const noCsrf = await postForm(app, `/workbench/reports/${r.id}/false-report`, { mark: 'false-report' }, a.cookie);
      assert.equal(noCsrf.statusCode, 403);
    });

    await t.test(
      'a reporter registers, sees only their own reports, and creates and revokes an API token',
      async () => {
        const anon = anonymousCsrf();
        const reg = await postForm(
          app,
          '/register',
          { _csrf: anon.csrf, email: 'Reporter@Example.org', password: 'a long enough password' },
          anon.cookie,
        );
        assert.equal(reg.statusCode, 303);
        const cookie = `${SESSION_COOKIE}=${cookieFrom(reg, SESSION_COOKIE)}`;
        const account = await app.inject({ method: 'GET', url: '/account', headers: { cookie } });
        assert.equal(account.statusCode, 200);
        assert.match(account.body, /You have not reported anything yet/);
        const csrf = /name="_csrf" value="([^"]+)"/.exec(account.body)?.[1] ?? '';
        const created = await postForm(app, '/account/tokens', { _csrf: csrf, name: 'Thunderbird' }, cookie);
        assert.equal(created.statusCode, 201);
        const secret = /data-testid="new-token">([^<]+)</.exec(created.body)?.[1] ?? '';
        const token = await findToken(db, secret);
        assert.equal(token?.role, 'reporter');
        const again = await app.inject({ method: 'GET', url: '/account', headers: { cookie } });
        assert.doesNotMatch(again.body, new RegExp(secret), 'a token is shown only once');
        const rev = await postForm(app, `/account/tokens/${token?.id}/revoke`, { _csrf: csrf }, cookie);
        assert.equal(rev.statusCode, 303);
        assert.equal(await findToken(db, secret), null);
        const workbench = await app.inject({ method: 'GET', url: '/workbench', headers: { cookie } });
        assert.equal(workbench.statusCode, 403);
      },
    );

    await t.test('the French locale renders every public page', async () => {
      for (const url of [
        '/',
        '/report',
        '/report/sms',
        '/guide',
        '/rules',
        '/protect',
        '/complain',
        '/stats',
        '/login',
      ]) {
        const res = await app.inject({ method: 'GET', url: `${url}?lang=fr` });
        assert.equal(res.statusCode, 200, url);
        assert.match(res.body, /<html lang="fr">/);
      }
      const res = await app.inject({
        method: 'GET',
        url: '/',
        headers: { 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.5' },
      });
      assert.match(res.body, /Signaler un courriel/);
    });

    await t.test('pages carry a strict Content-Security-Policy', async () => {
      const res = await app.inject({ method: 'GET', url: '/report' });
      assert.match(String(res.headers['content-security-policy']), /script-src 'self'/);
      assert.doesNotMatch(String(res.headers['content-security-policy']), /unsafe-inline/);
    });
  });
}
