/**
 * Every malformed request is a 4xx with a JSON reason, on every registered GET route and on both
 * databases: NUL bytes and invalid UTF-8 in query and path parameters, over-long and too many
 * parameters, bad JSON, deep JSON, wrong content types, NUL in form and JSON fields.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { DIALECTS } from '../db/test-databases.ts';
import { ROLES, type Role } from '../core/roles.ts';
import { indexAll } from './indexer.ts';
import { createSession, SESSION_COOKIE } from '../db/accounts.ts';
import { checkRequestTarget, MAX_PARAM_CHARS, MAX_QUERY_PARAMS } from './request-validation.ts';
import { anonymousCsrf, createTestApp, sampleSpam, userWithSession } from './test-helpers.ts';

/** Filter names the list, dashboard and export pages read, plus one no route reads. */
const FILTERS = [
  'q',
  'sender',
  'domain',
  'url',
  'ip',
  'campaign',
  'asn',
  'category',
  'channel',
  'from',
  'to',
  'before',
  'state',
  'next',
  'range',
  'dim',
  'lang',
  'unknown',
];

/** Query strings that must be refused, with what the reason must mention. */
const MALFORMED: [string, (name: string) => string, RegExp][] = [
  ['NUL', (n) => `${n}=a%00b`, /NUL/],
  ['invalid UTF-8', (n) => `${n}=%C3%28`, /UTF-8/],
  ['a lone continuation byte', (n) => `${n}=%80`, /UTF-8/],
  ['an encoded surrogate', (n) => `${n}=%ED%A0%80`, /UTF-8/],
  ['an over-long value', (n) => `${n}=${'a'.repeat(MAX_PARAM_CHARS + 1)}`, /long/],
  ['NUL in the name', (n) => `${n}%00=x`, /NUL/],
];

function getRoutes(app: FastifyInstance): string[] {
  const urls = new Set<string>();
  for (const r of app.routeTable) if (r.method === 'GET' && !r.url.includes('*')) urls.add(r.url);
  return [...urls].sort();
}

test('checkRequestTarget accepts ordinary URLs and names what is wrong with the others', () => {
  assert.equal(checkRequestTarget('/workbench/reports?q=caf%C3%A9+cr%C3%A8me&from=2026-11-01&before='), null);
  assert.equal(checkRequestTarget('/api/v1/reports/01ABC'), null);
  assert.match(checkRequestTarget('/x?q=%00')?.message ?? '', /NUL/);
  assert.match(checkRequestTarget('/x/%00')?.message ?? '', /NUL/);
  assert.match(checkRequestTarget('/x/%FF')?.message ?? '', /UTF-8/);
  assert.match(
    checkRequestTarget(`/x?${Array.from({ length: MAX_QUERY_PARAMS + 1 }, (_, i) => `p${i}=1`).join('&')}`)?.message ??
      '',
    /parameters/,
  );
});

for (const dialect of DIALECTS) {
  test(`malformed requests get a 4xx with a JSON reason (${dialect})`, async (t) => {
    const h = await createTestApp(t, dialect, { anonRateLimit: 100_000 });
    if (!h) return;
    const { ctx, app } = h;
    const { db, config } = ctx;
    await app.ready();
    const users = new Map<Role, string>();
    for (const role of ROLES) {
      const u = await userWithSession(
        db,
        config,
        role,
        role === 'network_operator'
          ? { networks: [64500] }
          : role === 'authority'
            ? { authorityId: 'authority-1' }
            : {},
      );
      const { secret } = await createSession(db, config, u.id, { ip: '127.0.0.1', userAgent: 'test' });
      users.set(role, `${SESSION_COOKIE}=${secret}`);
    }
    const [stored] = await ctx.writer.submit([{ raw: sampleSpam(), channel: 'web' }]);
    await indexAll(db);
    const concrete = (url: string, bad: string): string =>
      url.replace(/:(\w+)/g, (_m, name: string) => (name === 'id' ? bad || stored.id : bad || 'x'));
    const routes = getRoutes(app);
    assert.ok(routes.length > 30, `only ${routes.length} GET routes`);

    await t.test('every GET route refuses NUL, invalid UTF-8 and over-long values in any filter', async () => {
      const failures: string[] = [];
      let n = 0;
      for (const url of routes) {
        for (const [what, qs, reason] of MALFORMED) {
          for (const role of ['admin', 'network_operator'] as const) {
            const query = FILTERS.map((f) => (f === 'q' ? qs(f) : `${f}=x`)).join('&');
            // Also alone, under each filter name in turn.
            const one = qs(FILTERS[n++ % FILTERS.length]);
            for (const q of [query, one]) {
              const res = await app.inject({
                method: 'GET',
                url: `${concrete(url, '')}?${q}`,
                headers: { cookie: users.get(role) ?? '' },
              });
              const parsed = res.body.startsWith('{')
                ? (JSON.parse(res.body) as { error?: string; message?: string; title?: string; description?: string })
                : {};
              // TAXII 2.1 answers with its own error resource (title, description, http_status; §3.6.1).
              const body = url.startsWith('/taxii2/')
                ? { error: parsed.title === 'Bad request' ? 'BAD_REQUEST' : parsed.title, message: parsed.description }
                : parsed;
              if (res.statusCode !== 400 || body.error !== 'BAD_REQUEST' || !reason.test(body.message ?? '')) {
                failures.push(`${url} ${what} as ${role}: ${res.statusCode} ${res.body.slice(0, 160)}`);
              }
            }
          }
        }
      }
      assert.deepEqual(failures, [], failures.join('\n'));
    });

    await t.test('every GET route refuses NUL and invalid UTF-8 in path parameters', async () => {
      const failures: string[] = [];
      for (const url of routes.filter((u) => u.includes(':'))) {
        for (const bad of ['a%00b', '%C3%28', '%FF']) {
          const res = await app.inject({
            method: 'GET',
            url: concrete(url, bad),
            headers: { cookie: users.get('admin') ?? '' },
          });
          if (res.statusCode !== 400 || !res.body.startsWith('{'))
            failures.push(`${url} ${bad}: ${res.statusCode} ${res.body.slice(0, 160)}`);
        }
      }
      assert.deepEqual(failures, [], failures.join('\n'));
    });

    await t.test('odd but well-formed filter values never give a server error', async () => {
      const ODD = [
        '%C3%A9t%C3%A9',
        '%EF%BF%BF',
        '%F0%9F%92%A9',
        '9999-99-99',
        'AS99999999999',
        '-1',
        "'%20OR%201=1--",
        '%25',
        '%0D%0A',
        '%01%1F%7F',
        'a'.repeat(MAX_PARAM_CHARS),
      ];
      const failures: string[] = [];
      for (const url of routes) {
        for (const v of ODD) {
          for (const role of ['admin', 'network_operator', 'authority'] as const) {
            const query = FILTERS.map((f) => `${f}=${v}`).join('&');
            const res = await app.inject({
              method: 'GET',
              url: `${concrete(url, '')}?${query}`,
              headers: { cookie: users.get(role) ?? '' },
            });
            if (res.statusCode >= 500)
              failures.push(`${url} ${v.slice(0, 20)} as ${role}: ${res.statusCode} ${res.body.slice(0, 160)}`);
          }
        }
      }
      assert.deepEqual(failures, [], failures.join('\n'));
    });

    await t.test('bad bodies are refused with a JSON reason', async () => {
      const anon = anonymousCsrf();
      const cases: { what: string; url: string; type: string; payload: string | Buffer; status: number[] }[] = [
        { what: 'broken JSON', url: '/api/v1/reports', type: 'application/json', payload: '{"raw": ', status: [400] },
        {
          what: 'JSON that is not an object',
          url: '/api/v1/reports',
          type: 'application/json',
          payload: '"x"',
          status: [400],
        },
        {
          what: 'deeply nested JSON',
          url: '/api/v1/reports',
          type: 'application/json',
          payload: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
          status: [400],
        },
        {
          what: 'NUL in a JSON field',
          url: '/api/v1/sms-reports',
          type: 'application/json',
          payload: JSON.stringify({ sender: '+33612345678\u0000', text: 'hello' }),
          status: [400],
        },
        {
          what: 'NUL in a form field',
          url: '/login',
          type: 'application/x-www-form-urlencoded',
          payload: `_csrf=${anon.csrf}&email=a%00@example.org&password=x`,
          status: [400],
        },
        {
          what: 'invalid UTF-8 in a form field',
          url: '/login',
          type: 'application/x-www-form-urlencoded',
          payload: `_csrf=${anon.csrf}&email=a%C3%28@example.org&password=x`,
          status: [400],
        },
        {
          what: 'an unknown content type',
          url: '/api/v1/reports',
          type: 'text/x-unknown',
          payload: 'hello',
          status: [415],
        },
        {
          what: 'a multipart body without its boundary',
          url: '/api/v1/reports',
          type: 'multipart/form-data',
          payload: 'x',
          status: [400, 415],
        },
        {
          what: 'a truncated multipart upload',
          url: '/api/v1/reports',
          type: 'multipart/form-data; boundary=XX',
          payload: '--XX\r\nContent-Disposition: form-data; name="file"; filename="a.eml"\r\n\r\nFrom: a',
          status: [400],
        },
        {
          what: 'a lookup without a token',
          url: '/api/v1/lookup',
          type: 'text/plain',
          payload: 'x',
          status: [401, 415],
        },
      ];
      const failures: string[] = [];
      for (const c of cases) {
        const res = await app.inject({
          method: 'POST',
          url: c.url,
          headers: { 'content-type': c.type, cookie: anon.cookie },
          payload: c.payload,
        });
        let reason = '';
        try {
          reason = String((JSON.parse(res.body) as { message?: unknown }).message ?? '');
        } catch {
          reason = '';
        }
        if (!c.status.includes(res.statusCode) || reason === '')
          failures.push(`${c.what}: ${res.statusCode} ${res.body.slice(0, 160)}`);
      }
      assert.deepEqual(failures, [], failures.join('\n'));
    });
  });
}
