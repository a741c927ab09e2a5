/**
 * Accounts and sessions: users with scrypt passwords, sign-in slowed by an exponential backoff per
 * address and per account (login-backoff.ts), sessions whose cookie secret is stored only as a SHA-256 hash.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../core/config.ts';
import type { Database } from './schema.ts';
import type { UsersTable } from './tables.ts';
import type { WebUserColumns } from './web-tables.ts';
import { newId, nowIso, randomSecret, sha256Hex } from '../core/ids.ts';
import { isRole, type Role } from '../core/roles.ts';
import { isUniqueViolation } from './dialect.ts';
import { AppError } from '../core/errors.ts';
import { loginAddressKey, loginWaitSeconds } from './login-backoff.ts';
import { forgetCachedTokens } from './tokens.ts';
import {
  MAX_PASSWORD_CHARS,
  MIN_PASSWORD_CHARS,
  generatePassword,
  hashPassword,
  verifyPassword,
} from '../core/passwords.ts';

/** `users` with the columns 0005_web adds. */
export type AccountsDb = Kysely<Database & { users: UsersTable & WebUserColumns }>;
export function accountsDb(db: Kysely<Database>): AccountsDb {
  return db.withTables<{ users: UsersTable & WebUserColumns }>();
}

export interface Account {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  locale: string | null;
  authorityId: string | null;
  networks: number[];
  mustChangePassword: boolean;
}

const EMAIL_RE = /^[^\s@<>()[\]\\,;:"]{1,64}@[^\s@<>()[\]\\,;:"]{1,255}\.[^\s@<>()[\]\\,;:".]{2,63}$/;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function isValidEmail(email: string): boolean {
  return email.length <= 320 && EMAIL_RE.test(email);
}

function parseNetworks(v: string | null): number[] {
  if (!v) return [];
  try {
    const arr: unknown = JSON.parse(v);
    return Array.isArray(arr) ? arr.filter((n): n is number => Number.isInteger(n)) : [];
  } catch {
    return [];
  }
}

export async function loadAccount(db: Kysely<Database>, userId: string): Promise<Account | null> {
  const u = await accountsDb(db)
    .selectFrom('users')
    .selectAll()
    .where('id', '=', userId)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  if (!u || !isRole(u.role)) return null;
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    locale: u.locale,
    authorityId: u.authority_id,
    networks: parseNetworks(u.networks),
    mustChangePassword: u.must_change_password === 1,
  };
}

export interface NewAccount {
  email: string;
  role: Role;
  name?: string | null;
  /** Omitted: a one-time password is generated and returned; the user must change it. */
  password?: string;
  authorityId?: string | null;
  networks?: number[];
  locale?: string | null;
}

export function checkPasswordStrength(password: string): void {
  if (password.length < MIN_PASSWORD_CHARS)
    throw new AppError('BAD_REQUEST', `The password must have at least ${MIN_PASSWORD_CHARS} characters.`);
  if (password.length > MAX_PASSWORD_CHARS)
    throw new AppError('BAD_REQUEST', `The password must have at most ${MAX_PASSWORD_CHARS} characters.`);
}

/** Creates an account; CONFLICT when the address is taken. Returns the generated password if any. */
export async function createAccount(
  db: Kysely<Database>,
  a: NewAccount,
): Promise<{ id: string; generatedPassword: string | null }> {
  const email = normaliseEmail(a.email);
  if (!isValidEmail(email)) throw new AppError('BAD_REQUEST', `"${a.email}" is not a valid e-mail address.`);
  const generated = a.password === undefined ? generatePassword() : null;
  const password = a.password ?? generated ?? '';
  checkPasswordStrength(password);
  const id = newId();
  try {
    await accountsDb(db)
      .insertInto('users')
      .values({
        id,
        email,
        name: a.name ?? null,
        role: a.role,
        password_hash: await hashPassword(password),
        created_at: nowIso(),
        disabled_at: null,
        locale: a.locale ?? null,
        failed_logins: 0,
        locked_until: null,
        last_login_at: null,
        authority_id: a.authorityId ?? null,
        networks: a.networks && a.networks.length > 0 ? JSON.stringify(a.networks) : null,
        must_change_password: generated ? 1 : 0,
      })
      .execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError('CONFLICT', `An account with the address ${email} already exists.`);
    throw e;
  }
  return { id, generatedPassword: generated };
}

export async function setPassword(db: Kysely<Database>, userId: string, password: string): Promise<void> {
  checkPasswordStrength(password);
  await accountsDb(db)
    .updateTable('users')
    .set({ password_hash: await hashPassword(password), must_change_password: 0 })
    .where('id', '=', userId)
    .execute();
}

export async function checkCurrentPassword(db: Kysely<Database>, userId: string, password: string): Promise<boolean> {
  const u = await db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirst();
  return verifyPassword(password, u?.password_hash ?? null);
}

export type LoginResult =
  | { ok: true; userId: string }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/** A hash to verify against when the account does not exist, so timing does not reveal accounts. */
let dummyHash: Promise<string> | null = null;

/**
 * Checks credentials, unless the sign-in backoff (login-backoff.ts) says this address or this
 * account must wait first: then `throttled` with the seconds to wait, and the password is not
 * looked at. Every checked try is recorded in `web_login_attempts`, which the backoff counts.
 */
export async function attemptLogin(
  db: Kysely<Database>,
  config: Config,
  emailIn: string,
  password: string,
  clientIp: string | null,
): Promise<LoginResult> {
  const email = normaliseEmail(emailIn).slice(0, 320);
  // Counted and recorded per IPv6 /64 (one subscriber's whole allocation), per IPv4 address.
  const ip = loginAddressKey(clientIp);
  const wait = await loginWaitSeconds(db, config, { email, ip });
  if (wait > 0) return { ok: false, reason: 'throttled', retryAfterSeconds: wait };
  const adb = accountsDb(db);
  const user = await adb.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  const record = (ok: boolean) =>
    db
      .insertInto('web_login_attempts')
      .values({ id: newId(), at: nowIso(), email, ip, ok: ok ? 1 : 0 })
      .execute();
  if (!user || user.disabled_at !== null) {
    dummyHash ??= hashPassword(generatePassword());
    await verifyPassword(password, await dummyHash);
    await record(false);
    return { ok: false, reason: 'invalid' };
  }
  if (!(await verifyPassword(password, user.password_hash))) {
    await record(false);
    return { ok: false, reason: 'invalid' };
  }
  await adb
    .updateTable('users')
    .set({ failed_logins: 0, locked_until: null, last_login_at: nowIso() })
    .where('id', '=', user.id)
    .execute();
  await record(true);
  return { ok: true, userId: user.id };
}

// ── sessions ────────────────────────────────────────────────────────────────────────────────

export const SESSION_COOKIE = 'sd_session';

export interface Session {
  userId: string;
  csrfToken: string;
  idHash: string;
}

/** Creates a session; returns the cookie secret (never stored) and the session. */
export async function createSession(
  db: Kysely<Database>,
  config: Config,
  userId: string,
  meta: { ip: string | null; userAgent: string | null },
): Promise<{ secret: string; session: Session }> {
  const secret = randomSecret(32);
  const idHash = sha256Hex(secret);
  const now = new Date();
  const csrfToken = randomSecret(24);
  await db
    .insertInto('web_sessions')
    .values({
      id_hash: idHash,
      user_id: userId,
      csrf_token: csrfToken,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + config.webSessionHours * 3_600_000).toISOString(),
      last_seen_at: now.toISOString(),
      ip: meta.ip,
      user_agent: meta.userAgent ? meta.userAgent.slice(0, 400) : null,
    })
    .execute();
  return { secret, session: { userId, csrfToken, idHash } };
}

/** The live session for a cookie secret; renews its expiry at most once a minute. */
export async function findSession(db: Kysely<Database>, config: Config, secret: string): Promise<Session | null> {
  if (secret.length < 20 || secret.length > 100) return null;
  const idHash = sha256Hex(secret);
  const s = await db.selectFrom('web_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
  const now = new Date();
  if (!s || s.expires_at <= now.toISOString()) return null;
  if (now.getTime() - Date.parse(s.last_seen_at) > 60_000) {
    await db
      .updateTable('web_sessions')
      .set({
        last_seen_at: now.toISOString(),
        expires_at: new Date(now.getTime() + config.webSessionHours * 3_600_000).toISOString(),
      })
      .where('id_hash', '=', idHash)
      .execute();
  }
  return { userId: s.user_id, csrfToken: s.csrf_token, idHash };
}

export async function destroySession(db: Kysely<Database>, idHash: string): Promise<void> {
  await db.deleteFrom('web_sessions').where('id_hash', '=', idHash).execute();
}

/** Ends every session of a user (password change, account disabled). */
export async function destroyUserSessions(db: Kysely<Database>, userId: string, except?: string): Promise<void> {
  let q = db.deleteFrom('web_sessions').where('user_id', '=', userId);
  if (except) q = q.where('id_hash', '!=', except);
  await q.execute();
}

// ── administration (web registry pages and `spamdesk admin`) ────────────────────────────────

/** Refuses to take away the last active administrator (nobody could manage the instance then). */
async function keepOneAdmin(db: Kysely<Database>, userId: string): Promise<void> {
  const admins = await db
    .selectFrom('users')
    .select('id')
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .limit(2)
    .execute();
  if (admins.length === 1 && admins[0].id === userId)
    throw new AppError('CONFLICT', 'This is the last active administrator: make another one first.');
}

/**
 * Gives an account a new generated password it must change at its next sign-in, and ends its
 * sessions. API tokens are left alone (revoke them separately). Returns the password, to show once.
 */
export async function resetPassword(db: Kysely<Database>, userId: string): Promise<string> {
  const password = generatePassword();
  const res = await accountsDb(db)
    .updateTable('users')
    .set({ password_hash: await hashPassword(password), must_change_password: 1, failed_logins: 0, locked_until: null })
    .where('id', '=', userId)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw new AppError('NOT_FOUND', `No account ${userId}.`);
  await destroyUserSessions(db, userId);
  return password;
}

/**
 * Changes an account's role and scope (authority id for authority accounts, AS numbers for network
 * operators); the scope fields of other roles are cleared. Its sessions end, so no page is served
 * under the old role; its tokens keep the role they were made with and are revoked.
 */
export async function setAccountRole(
  db: Kysely<Database>,
  userId: string,
  next: { role: Role; authorityId?: string | null; networks?: number[] },
): Promise<void> {
  if (next.role === 'authority' && !next.authorityId)
    throw new AppError('BAD_REQUEST', 'An authority account needs the id of its authority.');
  if (next.role === 'network_operator' && (next.networks ?? []).length === 0)
    throw new AppError('BAD_REQUEST', 'A network-operator account needs at least one AS number.');
  if (next.role !== 'admin') await keepOneAdmin(db, userId);
  const res = await accountsDb(db)
    .updateTable('users')
    .set({
      role: next.role,
      authority_id: next.role === 'authority' ? (next.authorityId ?? null) : null,
      networks: next.role === 'network_operator' ? JSON.stringify(next.networks ?? []) : null,
    })
    .where('id', '=', userId)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw new AppError('NOT_FOUND', `No account ${userId}.`);
  await destroyUserSessions(db, userId);
  await db
    .updateTable('api_tokens')
    .set({ revoked_at: nowIso() })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute();
  forgetCachedTokens();
}

/**
 * Disables an account (its sessions end and its tokens are revoked) or enables it again. Returns
 * false when it was already in that state.
 */
export async function setAccountDisabled(db: Kysely<Database>, userId: string, disabled: boolean): Promise<boolean> {
  const exists = await db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
  if (!exists) throw new AppError('NOT_FOUND', `No account ${userId}.`);
  if (disabled) await keepOneAdmin(db, userId);
  const res = await db
    .updateTable('users')
    .set({ disabled_at: disabled ? nowIso() : null })
    .where('id', '=', userId)
    .where('disabled_at', disabled ? 'is' : 'is not', null)
    .executeTakeFirst();
  if (!disabled) return Number(res.numUpdatedRows) > 0;
  await destroyUserSessions(db, userId);
  await db
    .updateTable('api_tokens')
    .set({ revoked_at: nowIso() })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute();
  forgetCachedTokens();
  return Number(res.numUpdatedRows) > 0;
}
