/**
 * Identifiers and timestamps are made in application code, never by the database (STYLE.md:
 * "SQL on two databases"), so both dialects store the same values.
 */
import { decodeTime, monotonicFactory } from 'ulid';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';

/** Random bytes drawn from the system CSPRNG in blocks and handed out one at a time. */
const POOL = new Uint8Array(4096);
let poolAt = POOL.length;

/**
 * The ULID's random source: a uniform fraction in [0, 1) from one CSPRNG byte, as the `ulid` package's
 * own source gives, but from a pooled block: the package's own calls `getRandomValues` once per
 * character, 16 calls per id (0.6–4.4 % of the pipeline's threads in the issue 17 profile).
 */
export function pooledRandomFraction(): number {
  if (poolAt >= POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  return POOL[poolAt++] / 256;
}

const nextUlid = monotonicFactory(pooledRandomFraction);

/** A new time-ordered id (ULID, 26 chars, sorts by creation time). */
export function newId(): string {
  return nextUlid();
}

/**
 * When an id (a ULID) was made: a report's intake time. Never later than `notAfter` (another node's
 * clock may run ahead: its reports must not wait for it); `notAfter` itself for an id that is not a
 * ULID.
 */
export function idTime(id: string, notAfter: number = Date.now()): Date {
  try {
    return new Date(Math.min(notAfter, decodeTime(id)));
  } catch {
    return new Date(notAfter);
  }
}

/** Current time as an ISO 8601 UTC string with milliseconds: the storage format of every timestamp. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** Lower-case hex SHA-256. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A URL-safe random secret of `bytes` bytes of entropy. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export const SHA256_RE = /^[0-9a-f]{64}$/;
