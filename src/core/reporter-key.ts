/**
 * The key under which the trace-back keeps the mail hosts of a reporter known only by address
 * (`src/analysis/mailhost-store.ts`): a hash, so the address itself is never copied there. Shared
 * with erasure (`src/evidence/retention.ts`), which must find that key again from the address.
 */
import crypto from 'node:crypto';

export function reporterAddressKey(address: string): string {
  return `address:${crypto.createHash('sha256').update(address.trim().toLowerCase()).digest('hex').slice(0, 40)}`;
}
