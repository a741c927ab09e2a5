/**
 * First sign-in with a generated password: until the account chooses its own, every page sends it
 * to the password page and every other request (the API with the session cookie included) is
 * refused; its API tokens keep working; the new password must differ and be typed twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../db/test-databases.ts';
import { accountsDb, createAccount, resetPassword } from '../db/accounts.ts';
import { createToken } from '../db/tokens.ts';
import { listAudit } from '../evidence/audit.ts';
import { anonymousCsrf, createTestApp, postForm } from './test-helpers.ts';
import type { FastifyInstance } from 'fastify';

/** Signs in through the form; returns the session cookie, the CSRF token and where it was sent. */
async function signIn(app: FastifyInstance, email: string, password: string) {
  const anon = anonymousCsrf();
  const res = await postForm(app, '/login', { _csrf: anon.csrf, email, password }, anon.cookie);
  assert.equal(res.statusCode, 303, res.body);
  const set = res.cookies.find((c) => c.name === 'sd_session');
  assert.ok(set, 'a session cookie');
  const cookie = `sd_session=${set.value}`;
  const page = await app.inject({ method: 'GET', url: '/account/password', headers: { cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  return { cookie, csrf, location: String(res.headers.location) };
}

for (const dialect of DIALECTS) {
  test(`${dialect}: a generated password must be replaced before anything else; tokens are unaffected`, async (t) => {
    const h = await createTestApp(t, dialect);
    if (!h) return;
    const { app, ctx } = h;
    const { db } = ctx;
    const { id, generatedPassword } = await createAccount(db, { email: 'first@example.org', role: 'admin' });
    assert.ok(generatedPassword);
    const token = await createToken(db, { role: 'admin', name: 'script', userId: id });

    const s = await signIn(app, 'first@example.org', generatedPassword);
    assert.equal(s.location, '/account/password', 'signing in lands on the password page');
    for (const url of ['/workbench', '/admin', '/account', '/admin/users', '/stats']) {
      const res = await app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
      assert.equal(res.statusCode, 303, url);
      assert.equal(res.headers.location, '/account/password', url);
    }
    const api = await app.inject({ method: 'GET', url: '/api/v1/actions/cases', headers: { cookie: s.cookie } });
    assert.equal(api.statusCode, 403);
    assert.equal(api.json().details.passwordChange, true);
    const post = await postForm(
      app,
      '/admin/users',
      { _csrf: s.csrf, email: 'x@example.org', role: 'analyst' },
      s.cookie,
    );
    assert.equal(post.statusCode, 403, 'no state change either');
    assert.equal(
      (await db.selectFrom('users').select('id').where('email', '=', 'x@example.org').executeTakeFirst()) ?? null,
      null,
    );
    // The API token of the same account is not a session: it keeps working.
    const byToken = await app.inject({
      method: 'GET',
      url: '/api/v1/actions/cases',
      headers: { authorization: `Bearer ${token.secret}` },
    });
    assert.equal(byToken.statusCode, 200, byToken.body);

    const page = await app.inject({ method: 'GET', url: '/account/password', headers: { cookie: s.cookie } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /choose your own now/);
    const change = (fields: Record<string, string>) =>
      postForm(app, '/account/password', { _csrf: s.csrf, current: generatedPassword, ...fields }, s.cookie);
    assert.equal((await change({ password: generatedPassword, confirm: generatedPassword })).statusCode, 400);
    const mismatch = await change({ password: 'a brand new passphrase', confirm: 'another passphrase!!' });
    assert.equal(mismatch.statusCode, 400);
    assert.match(mismatch.body, /differ/);
    assert.equal((await change({ password: 'short', confirm: 'short' })).statusCode, 400);
    const wrong = await postForm(
      app,
      '/account/password',
      {
        _csrf: s.csrf,
        current: 'not the password',
        password: 'a brand new passphrase',
        confirm: 'a brand new passphrase',
      },
      s.cookie,
    );
    assert.equal(wrong.statusCode, 400);
    const ok = await change({ password: 'a brand new passphrase', confirm: 'a brand new passphrase' });
    assert.equal(ok.statusCode, 303, ok.body);
    assert.equal(ok.headers.location, '/workbench');
    const after = await app.inject({ method: 'GET', url: '/workbench', headers: { cookie: s.cookie } });
    assert.equal(after.statusCode, 200);
    const row = await accountsDb(db)
      .selectFrom('users')
      .select('must_change_password')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.equal(row.must_change_password, 0);
    await new Promise((r) => setTimeout(r, 50));
    const audit = await listAudit(db, { limit: 20 });
    assert.ok(audit.some((a) => a.action === 'account.password-change' && a.subject === `user:${id}`));

    // A reset by an admin puts the account back behind the password page and ends its sessions.
    const again = await resetPassword(db, id);
    const old = await app.inject({ method: 'GET', url: '/workbench', headers: { cookie: s.cookie } });
    assert.equal(old.statusCode, 303);
    assert.match(String(old.headers.location), /^\/login/, 'the old session ended');
    const s2 = await signIn(app, 'first@example.org', again);
    assert.equal(s2.location, '/account/password');
  });
}
