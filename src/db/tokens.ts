/**
 * API tokens: shown once at creation, stored only as a SHA-256 hash, revocable.
 * Format: `sdk_` + 32 random bytes in base64url, so a leaked token is easy to grep for.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { ApiToken } from './tables.ts';
import { newId, nowIso, randomSecret, sha256Hex } from '../core/ids.ts';
import type { Role } from '../core/roles.ts';

export const TOKEN_PREFIX = 'sdk_';

export interface CreatedToken {
  id: string;
  /** The secret: print it once, never store it. */
  secret: string;
  role: Role;
  name: string | null;
}

export async function createToken(
  db: Kysely<Database>,
  opts: { role: Role; name?: string | null; userId?: string | null },
): Promise<CreatedToken> {
  const id = newId();
  const secret = TOKEN_PREFIX + randomSecret(32);
  await db
    .insertInto('api_tokens')
    .values({
      id,
      name: opts.name ?? null,
      role: opts.role,
      user_id: opts.userId ?? null,
      token_hash: sha256Hex(secret),
      created_at: nowIso(),
      revoked_at: null,
      last_used_at: null,
    })
    .execute();
  return { id, secret, role: opts.role, name: opts.name ?? null };
}

/**
 * How long a live token, once read, is trusted without reading it again: a mail filter asks
 * thousands of times a second with one token. A revocation in this process (`revokeToken`, account
 * changes) forgets every cached token at once; one made by another process (the `token revoke`
 * command against a running server) takes effect within this time.
 */
export const TOKEN_CACHE_MS = 5_000;
/** Live tokens kept at most (a server has a handful; past this the cache starts over). */
const MAX_CACHED_TOKENS = 1_000;
/** Token hash → its row and until when it is trusted. Live tokens only: a wrong secret is never kept. */
const cached = new Map<string, { row: ApiToken; until: number }>();

/** Forgets every cached token: call after revoking any (see {@link TOKEN_CACHE_MS}). */
export function forgetCachedTokens(): void {
  cached.clear();
}

/** The live token for a presented secret, or null. */
export async function findToken(db: Kysely<Database>, secret: string, now = Date.now()): Promise<ApiToken | null> {
  if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return null;
  const hash = sha256Hex(secret);
  const hit = cached.get(hash);
  if (hit && hit.until > now) return hit.row;
  const row = await db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  if (!row || row.revoked_at !== null) {
    cached.delete(hash);
    return null;
  }
  if (cached.size >= MAX_CACHED_TOKENS) cached.clear();
  cached.set(hash, { row, until: now + TOKEN_CACHE_MS });
  return row;
}

/** `last_used_at` is refreshed at most this often: a write per request would defeat group commit. */
export const TOKEN_TOUCH_INTERVAL_MS = 60_000;

/**
 * Records that a token was used, unless its `last_used_at` is already recent. Best effort: never
 * throws (a request must not fail because of this bookkeeping).
 */
export async function touchToken(
  db: Kysely<Database>,
  token: Pick<ApiToken, 'id' | 'last_used_at'>,
  now = Date.now(),
): Promise<void> {
  if (token.last_used_at !== null && now - Date.parse(token.last_used_at) < TOKEN_TOUCH_INTERVAL_MS) return;
  // The cached row is this object: the next request sees the refresh and does not write again.
  token.last_used_at = new Date(now).toISOString();
  await db
    .updateTable('api_tokens')
    .set({ last_used_at: new Date(now).toISOString() })
    .where('id', '=', token.id)
    .execute()
    .catch(() => undefined);
}

export async function revokeToken(db: Kysely<Database>, id: string): Promise<boolean> {
  const res = await db
    .updateTable('api_tokens')
    .set({ revoked_at: nowIso() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  forgetCachedTokens();
  return Number(res.numUpdatedRows) > 0;
}

export async function listTokens(db: Kysely<Database>): Promise<Omit<ApiToken, 'token_hash'>[]> {
  return db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'role', 'user_id', 'created_at', 'revoked_at', 'last_used_at'])
    .orderBy('created_at')
    .execute();
}
