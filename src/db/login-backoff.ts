/**
 * Sign-in backoff: slows a password guesser without letting anyone lock the owner out.
 *
 * Failures are counted over the last `webLockoutMinutes` for three keys — the pair (address,
 * account), the address alone (spraying many accounts) and the account alone (guessing from many
 * addresses). Once a key has reached its limit, each further try must wait after the key's last
 * failure: `webLoginBackoffSeconds` doubled per failure beyond the limit, at most
 * `webLockoutMinutes` (OWASP's authentication cheat sheet prefers such delays to hard lockouts).
 * Refused tries are not recorded, so waiting is the only way to guess again.
 *
 * The owner keeps access: failures from the attacker's address do not count against other
 * addresses, and an address this account signed in from recently is exempt from the account-wide
 * count, which only distributed guessing reaches.
 */
import ipaddr from 'ipaddr.js';
import type { Kysely } from 'kysely';
import type { Config } from '../core/config.ts';
import type { Database } from './schema.ts';

/** An address the account signed in from within this many days skips the account-wide count. */
export const KNOWN_ADDRESS_DAYS = 30;

/** Failures recorded for one key inside the window. */
interface KeyFailures {
  n: number;
  last: string | null;
}

export interface BackoffKeys {
  /** Normalised account address, as stored in `web_login_attempts.email`. */
  email: string;
  ip: string | null;
}

function waitMs(f: KeyFailures, limit: number, config: Config, now: Date): number {
  if (f.n < limit || !f.last) return 0;
  const capMs = config.webLockoutMinutes * 60_000;
  // 2^30 already exceeds any cap; the exponent is bounded so the number stays finite.
  const delay = Math.min(config.webLoginBackoffSeconds * 1000 * 2 ** Math.min(f.n - limit, 30), capMs);
  return Math.max(0, Date.parse(f.last) + delay - now.getTime());
}

/**
 * Seconds the caller must wait before this sign-in may be checked (0: go ahead). Looks at the
 * pair, the address and the account, and returns the longest wait.
 */
export async function loginWaitSeconds(
  db: Kysely<Database>,
  config: Config,
  keys: BackoffKeys,
  now = new Date(),
): Promise<number> {
  const windowStart = new Date(now.getTime() - config.webLockoutMinutes * 60_000).toISOString();
  const failures = async (where: { email?: string; ip?: string }, sinceSuccess: boolean): Promise<KeyFailures> => {
    let since = windowStart;
    if (sinceSuccess) {
      // A success on the key ends the attempts before it (the owner got in).
      let s = db
        .selectFrom('web_login_attempts')
        .select((eb) => eb.fn.max('at').as('at'))
        .where('ok', '=', 1)
        .where('at', '>', windowStart);
      if (where.email !== undefined) s = s.where('email', '=', where.email);
      if (where.ip !== undefined) s = s.where('ip', '=', where.ip);
      const row = await s.executeTakeFirst();
      if (row?.at && String(row.at) > since) since = String(row.at);
    }
    let q = db
      .selectFrom('web_login_attempts')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('at').as('last')])
      .where('ok', '=', 0)
      .where('at', '>', since);
    if (where.email !== undefined) q = q.where('email', '=', where.email);
    if (where.ip !== undefined) q = q.where('ip', '=', where.ip);
    const row = await q.executeTakeFirst();
    return { n: Number(row?.n ?? 0), last: row?.last ? String(row.last) : null };
  };

  let wait = 0;
  if (keys.ip) {
    wait = Math.max(
      wait,
      waitMs(await failures({ email: keys.email, ip: keys.ip }, true), config.webLoginMaxFailures, config, now),
    );
    // No reset on success here: a sprayer holding one valid account must not clear its count.
    wait = Math.max(
      wait,
      waitMs(await failures({ ip: keys.ip }, false), config.webLoginAddressMaxFailures, config, now),
    );
  }
  if (!(await isKnownAddress(db, keys, now))) {
    wait = Math.max(
      wait,
      waitMs(await failures({ email: keys.email }, true), config.webLoginAccountMaxFailures, config, now),
    );
  }
  return Math.ceil(wait / 1000);
}

/** True when the account signed in from this address within {@link KNOWN_ADDRESS_DAYS}. */
async function isKnownAddress(db: Kysely<Database>, keys: BackoffKeys, now: Date): Promise<boolean> {
  if (!keys.ip) return false;
  const since = new Date(now.getTime() - KNOWN_ADDRESS_DAYS * 86_400_000).toISOString();
  const row = await db
    .selectFrom('web_login_attempts')
    .select('id')
    .where('email', '=', keys.email)
    .where('ip', '=', keys.ip)
    .where('ok', '=', 1)
    .where('at', '>', since)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The address key sign-in failures are counted under: an IPv4 address as it is (an IPv4-mapped
 * IPv6 address as its IPv4 form), an IPv6 address as its /64 (`2001:db8:1:2::/64`). One
 * subscriber usually holds a whole /64 and picks a new address in it at will (RFC 8981), so
 * counting per exact IPv6 address would let an attacker try without end. Anything else is kept as
 * given (cut to the column width).
 */
export function loginAddressKey(ip: string | null): string | null {
  if (ip === null) return null;
  if (!ipaddr.isValid(ip)) return ip.slice(0, 64);
  const a = ipaddr.parse(ip);
  if (a.kind() === 'ipv4') return a.toString();
  const v6 = a as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  const parts = v6.parts.slice(0, 4).concat([0, 0, 0, 0]);
  return `${new ipaddr.IPv6(parts).toString()}/64`;
}
