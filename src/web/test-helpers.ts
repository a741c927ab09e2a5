/** Test factories for the web area: accounts with sessions, form posts with CSRF tokens, fixtures. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Config } from '../core/config.ts';
import type { Role } from '../core/roles.ts';
import { randomSecret } from '../core/ids.ts';
import { SESSION_COOKIE, accountsDb, createSession } from '../db/accounts.ts';
import { hashPassword } from '../core/passwords.ts';
import { newId, nowIso } from '../core/ids.ts';
import { CSRF_COOKIE } from './page.ts';
import type { TestContext } from 'node:test';
import type { DialectName } from '../db/dialect.ts';
import type { AppContext } from '../evidence/context.ts';
import { createTestContext } from '../app/test-context.ts';
import { buildApp } from '../app/build-app.ts';

/**
 * The whole HTTP app on a fresh real database of `dialect` (null when that engine is absent: the
 * test is skipped loudly); closed and dropped when the test ends.
 */
export async function createTestApp(
  t: TestContext,
  dialect: DialectName = 'sqlite',
  overrides: Parameters<typeof createTestContext>[2] = {},
  client: { acceptLanguage?: string | null } = {},
): Promise<{ ctx: AppContext; app: FastifyInstance } | null> {
  const h = await createTestContext(t, dialect, overrides);
  if (!h) return null;
  const app = await buildApp(h.ctx);
  const language = client.acceptLanguage === undefined ? 'en' : client.acceptLanguage;
  if (language !== null) speaking(app, language);
  t.after(async () => {
    await app.close();
    await h.close();
  });
  return { ctx: h.ctx, app };
}

/**
 * Makes `app.inject` send `Accept-Language: language` when a request names none, as every browser
 * does: the test instance's region is FR, and a client that names no language gets the region's
 * (page.ts), so tests that read English pages are English-speaking clients unless they say
 * otherwise. `createTestApp(…, { acceptLanguage: null })` keeps requests as written (the region
 * fallback is tested so, in french-pages.test.ts).
 */
export function speaking(app: FastifyInstance, language: string): void {
  const inject = app.inject.bind(app) as (opts?: unknown, cb?: unknown) => unknown;
  const withLanguage = (opts: unknown): unknown => {
    if (!opts || typeof opts !== 'object' || typeof opts === 'function') return opts;
    const o = opts as { headers?: Record<string, unknown> };
    const named = Object.keys(o.headers ?? {}).some((k) => k.toLowerCase() === 'accept-language');
    return named ? opts : { ...o, headers: { ...o.headers, 'accept-language': language } };
  };
  (app as unknown as { inject: (opts?: unknown, cb?: unknown) => unknown }).inject = (opts?: unknown, cb?: unknown) =>
    opts === undefined ? inject() : cb === undefined ? inject(withLanguage(opts)) : inject(withLanguage(opts), cb);
}

export interface TestUser {
  id: string;
  email: string;
  role: Role;
  /** `Cookie` header value of a live session. */
  cookie: string;
  csrf: string;
}

let cachedHash: Promise<string> | null = null;
export const TEST_PASSWORD = 'correct horse battery staple';

/** A user of the role with a live session (no sign-in round trip; the password is TEST_PASSWORD). */
export async function userWithSession(
  db: Kysely<Database>,
  config: Config,
  role: Role,
  extra: { networks?: number[]; authorityId?: string } = {},
): Promise<TestUser> {
  cachedHash ??= hashPassword(TEST_PASSWORD);
  const id = newId();
  const email = `${role}-${id.toLowerCase()}@example.org`;
  await accountsDb(db)
    .insertInto('users')
    .values({
      id,
      email,
      name: null,
      role,
      password_hash: await cachedHash,
      created_at: nowIso(),
      disabled_at: null,
      locale: null,
      failed_logins: 0,
      locked_until: null,
      last_login_at: null,
      authority_id: extra.authorityId ?? null,
      networks: extra.networks ? JSON.stringify(extra.networks) : null,
      must_change_password: 0,
    })
    .execute();
  const { secret, session } = await createSession(db, config, id, { ip: '127.0.0.1', userAgent: 'test' });
  return { id, email, role, cookie: `${SESSION_COOKIE}=${secret}`, csrf: session.csrfToken };
}

/** An anonymous visitor's double-submit CSRF cookie and token. */
export function anonymousCsrf(): { cookie: string; csrf: string } {
  const csrf = randomSecret(24);
  return { cookie: `${CSRF_COOKIE}=${csrf}`, csrf };
}

/** POSTs an urlencoded form. */
export function postForm(
  app: FastifyInstance,
  url: string,
  fields: Record<string, string>,
  cookie?: string,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    payload: new URLSearchParams(fields).toString(),
  });
}

/** A multipart body: fields in order, then files. */
export function multipart(
  fields: [string, string][],
  files: { name: string; filename: string; content: Buffer }[] = [],
): { body: Buffer; contentType: string } {
  const boundary = `----spamdesk${randomSecret(8)}`;
  const parts: Buffer[] = [];
  for (const [k, v] of fields)
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const f of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.name}"; filename="${f.filename}"\r\nContent-Type: \
message/rfc822\r\n\r\n`,
      ),
      f.content,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A small spam message. */
export function sampleSpam(opts: { subject?: string; from?: string; html?: string; id?: string } = {}): Buffer {
  const id = opts.id ?? randomSecret(6);
  const headers = [
    'Received: from mail.example.net (mail.example.net [203.0.113.7]) by mx.example.org with ESMTP id abc; Mon, 23 ' +
      'Nov 2026 10:00:00 +0000',
    `From: ${opts.from ?? 'Prize Team <winner@lottery.example>'}`,
    'To: victim@example.org',
    `Subject: ${opts.subject ?? 'You are a winner'}`,
    'Date: Mon, 23 Nov 2026 10:00:00 +0000',
    `Message-ID: <${id}@lottery.example>`,
    'MIME-Version: 1.0',
  ];
  if (opts.html) {
    return Buffer.from([...headers, 'Content-Type: text/html; charset=utf-8', '', opts.html, ''].join('\r\n'));
  }
  return Buffer.from(
    [
      ...headers,
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Claim your prize at https://claim.lottery.example/${id} now!`,
      '',
    ].join('\r\n'),
  );
}
