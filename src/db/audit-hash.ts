/**
 * The hash of one audit-log entry: SHA-256 over a canonical JSON array of its fields and the
 * previous entry's hash, so changing any field of any entry, removing one, or reordering them
 * breaks every hash after it. Stable forever: migrations and `spamdesk audit verify` use it.
 */
import { createHash } from 'node:crypto';

/** The `prev_hash` of the first entry of a chain. */
export const GENESIS_HASH = '0'.repeat(64);
export const AUDIT_HASH_FORMAT = 'spamdesk-audit/1';

export interface HashedFields {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  ip: string | null;
  detail: string | null;
  prev_hash: string;
}

export function auditEntryHash(e: HashedFields): string {
  const canonical = JSON.stringify([
    AUDIT_HASH_FORMAT,
    e.seq,
    e.at,
    e.actor,
    e.action,
    e.subject,
    e.ip,
    e.detail,
    e.prev_hash,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
