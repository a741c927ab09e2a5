/**
 * Identifiers and timestamps are made in application code, never by the database (STYLE.md:
 * "SQL on two databases"), so both dialects store the same values.
 */
import { monotonicFactory } from 'ulid';
import { createHash, randomBytes } from 'node:crypto';

const nextUlid = monotonicFactory();

/** A new time-ordered id (ULID, 26 chars, sorts by creation time). */
export function newId(): string {
  return nextUlid();
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
