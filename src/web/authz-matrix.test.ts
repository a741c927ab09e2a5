/**
 * The authorisation matrix: every route the app registers (collected by the policy gate's onRoute
 * hook, so a new route cannot escape) × every role, with the expected allow/deny. A route without a
 * rule in core/policy.ts fails the test. Expectations are written out below for the foundation and
 * web routes (what each role may see, as the README states it) and checked against the rules;
 * routes of other areas are expected to behave as their declared rule says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase } from '../db/test-databases.ts';
import { createContext, closeContext } from '../app/context.ts';
import { ROLES, type Principal, type Role } from '../core/roles.ts';
import { passesRule, routeRule } from '../core/policy.ts';
import { buildApp } from '../app/build-app.ts';
import { createSession } from '../db/accounts.ts';
import { SESSION_COOKIE } from '../db/accounts.ts';
import { indexAll } from './indexer.ts';
import { TEST_PASSWORD, multipart, sampleSpam, userWithSession, type TestUser } from './test-helpers.ts';

type Who = Role | 'anonymous';
const EVERYONE: Who[] = ['anonymous', ...ROLES];
const SIGNED_IN: Who[] = [...ROLES];
const STAFF: Who[] = ['admin', 'analyst'];

/** Who may use each route (for routes of the foundation and the web application). */
const EXPECTED: Record<string, Who[]> = {
  'GET /healthz': EVERYONE,
  'GET /metrics': EVERYONE,
  'POST /api/v1/reports': ['anonymous', 'admin', 'analyst', 'reporter', 'partner'],
  // The fixture report belongs to the reporter account.
  'GET /api/v1/reports/:id': ['admin', 'analyst', 'reporter'],
  'GET /api/v1/messages/:sha256/raw': STAFF,
  // The gateway authenticates in its handler (token in a header or query) and wants a token.
  'POST /api/v1/sms-gateway': ['admin', 'analyst', 'reporter', 'partner'],
  'GET /': EVERYONE,
  'GET /report': EVERYONE,
  'POST /report': ['anonymous', 'admin', 'analyst', 'reporter', 'partner'],
  'GET /report/sms': EVERYONE,
  'POST /report/sms': ['anonymous', 'admin', 'analyst', 'reporter', 'partner'],
  'GET /track/:token': EVERYONE,
  'GET /guide': EVERYONE,
  'GET /rules': EVERYONE,
  'GET /protect': EVERYONE,
  'GET /complain': EVERYONE,
  'GET /stats': EVERYONE,
  'GET /stats.csv': EVERYONE,
  'GET /login': EVERYONE,
  'POST /login': EVERYONE,
  'POST /logout': EVERYONE,
  'GET /register': EVERYONE,
  'POST /register': EVERYONE,
  'GET /account': SIGNED_IN,
  'POST /account/tokens': SIGNED_IN,
  'POST /account/tokens/:id/revoke': SIGNED_IN,
  'POST /account/password': SIGNED_IN,
  'GET /workbench': STAFF,
  'GET /workbench/export.csv': STAFF,
  'GET /workbench/reports': STAFF,
  'GET /workbench/reports.csv': STAFF,
  'GET /workbench/campaigns/:id': STAFF,
  'GET /workbench/reports/:id': STAFF,
  'GET /workbench/reports/:id/safe-view': STAFF,
  'GET /workbench/reports/:id/raw': STAFF,
  'GET /workbench/reports/:id/raw.eml': STAFF,
  'POST /workbench/reports/:id/relabel': STAFF,
  'POST /workbench/reports/:id/false-report': STAFF,
  'GET /workbench/dead-letters': STAFF,
  // Unknown ids: allowed roles reach the handler and get 404 / 409.
  'GET /workbench/dead-letters/:id/copy': STAFF,
  'POST /workbench/dead-letters/:id/retry': STAFF,
  'POST /workbench/dead-letters/:id/dismiss': STAFF,
  'POST /workbench/dead-letters/outbox/:id/retry': ['admin'],
  'GET /network': ['network_operator'],
  // The fixture report's origin is in the operator's network.
  'GET /network/reports/:id': ['network_operator'],
  'GET /network/alerts': ['admin', 'analyst', 'network_operator'],
  // Allowed roles reach the handler and get 404 for the unknown alert id.
  'POST /network/alerts/:id/handled': ['admin', 'analyst', 'network_operator'],
  'GET /cases': ['admin', 'analyst', 'authority'],
  'GET /admin': ['admin'],
  'GET /admin/users': ['admin'],
  'POST /admin/users': ['admin'],
  'POST /admin/users/:id/disable': ['admin'],
  'GET /admin/audit': ['admin'],
};

function principalOf(who: Who): Principal {
  return who === 'anonymous'
    ? { kind: 'anonymous' }
    : { kind: 'session', userId: 'x', role: who, email: 'x@example.org' };
}

test('authorisation matrix: every route × every role', async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite', { anonRateLimit: 10_000 });
  if (!tdb) return;
  const ctx = await createContext(tdb.config, { db: tdb.db, migrate: false });
  const app = await buildApp(ctx);
  await app.ready();
  t.after(async () => {
    await app.close();
    await closeContext(ctx, { keepDb: true });
    await tdb.drop();
  });
  const { db, config } = ctx;

  // Fixtures: one user per role (scoped roles with their scope), and a report of the reporter
  // whose origin lies in the network operator's network.
  const users = new Map<Role, TestUser>();
  for (const r of ROLES)
    users.set(
      r,
      await userWithSession(
        db,
        config,
        r,
        r === 'network_operator' ? { networks: [64500] } : r === 'authority' ? { authorityId: 'authority-1' } : {},
      ),
    );
  const loginUser = await userWithSession(db, config, 'reporter');
  const reporter = users.get('reporter');
  assert.ok(reporter);
  const [stored] = await ctx.writer.submit([{ raw: sampleSpam(), channel: 'web', reporterUserId: reporter.id }]);
  await indexAll(db);
  await db
    .updateTable('web_report_index')
    .set({ origin_asn: 64500, origin_ip: '203.0.113.7' })
    .where('report_id', '=', stored.id)
    .execute();

  const params: Record<string, string> = { id: stored.id, sha256: stored.sha256, token: stored.trackingToken };
  const concrete = (url: string): string =>
    url.replace(/:(\w+)/g, (_m, name: string) => {
      // Report routes get the fixture report; other ids an unknown one (allowed roles then see 404).
      if (name === 'id' && !/\/(reports)\/:id/.test(url)) return '01ZZZZZZZZZZZZZZZZZZZZZZZZ';
      return params[name] ?? 'x';
    });

  const routes = new Map<string, { method: string; url: string }>();
  for (const r of app.routeTable) {
    if (r.method === 'HEAD' || r.method === 'OPTIONS') continue;
    if (r.url.includes('*')) continue; // static files and documentation: prefix rules, public
    routes.set(`${r.method} ${r.url}`, r);
  }
  const missing = [...routes.keys()].filter((k) => {
    const [m, ...u] = k.split(' ');
    return routeRule(m, u.join(' ')) === undefined;
  });
  assert.deepEqual(missing, [], `routes with no rule in core/policy.ts ROUTE_RULES: ${missing.join(', ')}`);
  for (const k of Object.keys(EXPECTED)) assert.ok(routes.has(k), `expected route ${k} is not registered`);

  const failures: string[] = [];
  let n = 0;
  for (const [key, { method, url }] of routes) {
    const rule = routeRule(method, url);
    assert.ok(rule);
    const fromRule = EVERYONE.filter((w) => passesRule(principalOf(w), rule));
    const allowed = EXPECTED[key] ?? fromRule;
    const gated = !(typeof rule === 'object' && rule.gate === false);
    if (EXPECTED[key] && gated)
      assert.deepEqual(
        [...fromRule].sort(),
        [...allowed].sort(),
        `${key}: the rule in policy.ts and the expected matrix disagree`,
      );
    for (const who of EVERYONE) {
      const headers: Record<string, string> = {};
      let csrf = '';
      if (who !== 'anonymous') {
        const u = users.get(who);
        assert.ok(u);
        // A fresh session per request: a sign-out or password change cannot disturb the next one.
        const { secret, session } = await createSession(db, config, u.id, { ip: '127.0.0.1', userAgent: 'matrix' });
        headers.cookie = `${SESSION_COOKIE}=${secret}`;
        csrf = session.csrfToken;
      } else {
        csrf = 'matrix-anonymous-csrf-token-000000';
        headers.cookie = `sd_csrf=${csrf}`;
      }
      let payload: string | Buffer | undefined;
      if (method === 'POST') {
        if (url === '/report') {
          const mp = multipart([
            ['_csrf', csrf],
            ['source', sampleSpam().toString()],
          ]);
          headers['content-type'] = mp.contentType;
          payload = mp.body;
        } else if (url.startsWith('/api/')) {
          headers['content-type'] = 'application/json';
          payload = '{}';
        } else {
          headers['content-type'] = 'application/x-www-form-urlencoded';
          const fields: Record<string, string> = { _csrf: csrf };
          if (url === '/login') Object.assign(fields, { email: loginUser.email, password: TEST_PASSWORD });
          if (url === '/register')
            Object.assign(fields, { email: `matrix-${n}@example.org`, password: 'a long enough password' });
          payload = new URLSearchParams(fields).toString();
        }
      }
      n++;
      const res = await app.inject({ method: method as 'GET' | 'POST', url: concrete(url), headers, payload });
      const loc = String(res.headers.location ?? '');
      const denied =
        res.statusCode === 401 || res.statusCode === 403 || (res.statusCode === 303 && loc.startsWith('/login'));
      const expectAllowed = allowed.includes(who);
      if (expectAllowed && denied)
        failures.push(`${key} as ${who}: expected allowed, got ${res.statusCode} ${res.body.slice(0, 120)}`);
      if (!expectAllowed && !denied) failures.push(`${key} as ${who}: expected denied, got ${res.statusCode}`);
      if (res.statusCode >= 500)
        failures.push(`${key} as ${who}: server error ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
  }
  assert.deepEqual(failures, [], failures.join('\n'));
  assert.ok(n >= routes.size * EVERYONE.length);
});
