/**
 * `/admin/mailhosts`: an admin declares an intake channel's mail hosts in the browser (no curl); a
 * refused line keeps that channel's form as typed; a reporter cannot reach it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../../db/test-databases.ts';
import { createTestApp, postForm, userWithSession } from '../test-helpers.ts';

for (const dialect of DIALECTS) {
  test(`an admin declares an intake channel's mail hosts on /admin/mailhosts; a reporter may not \
(${dialect})`, async (t) => {
    const h = await createTestApp(t, dialect);
    if (!h) return;
    const { db, config } = h.ctx;
    const admin = await userWithSession(db, config, 'admin');
    const reporter = await userWithSession(db, config, 'reporter');

    const index = await h.app.inject({ method: 'GET', url: '/admin', headers: { cookie: admin.cookie } });
    assert.match(index.body, /href="\/admin\/mailhosts"/);
    const page = await h.app.inject({ method: 'GET', url: '/admin/mailhosts', headers: { cookie: admin.cookie } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<form method="post" action="\/admin\/mailhosts\/smtp"/);
    assert.match(page.body, /<form method="post" action="\/admin\/mailhosts\/import"/);

    const refused = await postForm(
      h.app,
      '/admin/mailhosts/smtp',
      { _csrf: admin.csrf, mailhosts: 'mx.trapfeed-forwarder.net\ngmail.com' },
      admin.cookie,
    );
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, /gmail\.com: a name of Google/);
    assert.match(refused.body, /id="intake-smtp-hosts"[^>]*>mx\.trapfeed-forwarder\.net\ngmail\.com</);

    const saved = await postForm(
      h.app,
      '/admin/mailhosts/smtp',
      { _csrf: admin.csrf, mailhosts: 'mx.trapfeed-forwarder.net # the trap feed' },
      admin.cookie,
    );
    assert.equal(saved.statusCode, 200, saved.body.slice(0, 300));
    assert.deepEqual(
      await db.selectFrom('analysis_declared_mailhosts').select(['reporter_key', 'entry', 'note']).execute(),
      [{ reporter_key: 'intake:smtp', entry: '=mx.trapfeed-forwarder.net', note: 'the trap feed' }],
    );
    const audit = await db
      .selectFrom('audit_log')
      .select(['subject', 'actor'])
      .where('action', '=', 'traceback.mailhosts.declare')
      .execute();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.subject, 'intake:smtp');
    assert.match(audit[0]?.actor ?? '', new RegExp(admin.id));

    const unknown = await postForm(
      h.app,
      '/admin/mailhosts/pigeon',
      { _csrf: admin.csrf, mailhosts: '' },
      admin.cookie,
    );
    assert.equal(unknown.statusCode, 404);
    const forbidden = await h.app.inject({
      method: 'GET',
      url: '/admin/mailhosts',
      headers: { cookie: reporter.cookie },
    });
    assert.equal(forbidden.statusCode, 403);
    const forbiddenPost = await postForm(
      h.app,
      '/admin/mailhosts/smtp',
      { _csrf: reporter.csrf, mailhosts: '' },
      reporter.cookie,
    );
    assert.equal(forbiddenPost.statusCode, 403);
    assert.equal((await db.selectFrom('analysis_declared_mailhosts').selectAll().execute()).length, 1);
  });
}
