/**
 * How the reporter's identity is kept out of what leaves (DESIGN.md "Privacy and law"), on top of
 * the one redaction function of the evidence area (`src/evidence/redact.ts`).
 *
 * - The reporter's own wrapper (their forward, their note, their account) never leaves at all.
 * - Every outbound artefact (ISP digests, ARF to senders, X-ARF, case summaries, HTML reports,
 *   webhook bodies) carries only redacted copies: every identity the platform knows for the
 *   reporters of those messages (reported-from address, account e-mail and name, forwarder's
 *   display name, phone number) and the message's own recipient fields are removed, in headers,
 *   encoded words and decoded bodies.
 * - An evidence package for an authority carries, besides the redacted copies, the byte-exact
 *   original as the reporter received it (authority evidence mode `original-and-redacted`, the
 *   default): that is the evidence, its hash is the one recorded at intake, and a competent
 *   authority is entitled to it. Mode `redacted-only` withholds the original and keeps its hash.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { redactReporter, redactText as redactEvidenceText, reporterIdentityOf, type ReporterIdentity } from '../evidence/redact.ts';

export type { ReporterIdentity };

/** The merged identity of the reporters of these reports. */
export async function identitiesOfReports(db: Kysely<Database>, reportIds: string[]): Promise<ReporterIdentity> {
  const merged: ReporterIdentity = { addresses: [], names: [], numbers: [] };
  for (let i = 0; i < reportIds.length; i += 500) {
    const rows = await db
      .selectFrom('reports as r')
      .leftJoin('users as u', 'u.id', 'r.reporter_user_id')
      .select(['r.reporter_address', 'r.context', 'u.email', 'u.name'])
      .where('r.id', 'in', reportIds.slice(i, i + 500))
      .execute();
    for (const r of rows) {
      const id = reporterIdentityOf(r, r.email ? { email: r.email, name: r.name } : null);
      merged.addresses.push(...id.addresses);
      merged.names.push(...id.names);
      merged.numbers.push(...id.numbers);
    }
  }
  return { addresses: [...new Set(merged.addresses)], names: [...new Set(merged.names)], numbers: [...new Set(merged.numbers)] };
}

/** A redacted copy of a message (the stored evidence is never touched). */
export function redactMessage(raw: Buffer, identity: ReporterIdentity): Buffer {
  return redactReporter(raw, identity).raw;
}

/** A redacted copy of a text taken from a message (subject, trace-back step). */
export function redactText(text: string, identity: ReporterIdentity): string {
  return redactEvidenceText(text, identity);
}
