/**
 * How the reporter's identity is kept out of what leaves (DESIGN.md "Privacy and law"), on top of
 * the one redaction function of the evidence area (`src/evidence/redact.ts`).
 *
 * - The reporter's own wrapper (their forward, their note, their account) never leaves at all.
 * - Every outbound artefact (ISP digests, ARF to senders, X-ARF, case summaries, HTML reports,
 *   webhook bodies, partner exchanges) carries only redacted copies and redacted text: every
 *   identity the platform knows for the reporters of those messages (reported-from address,
 *   account e-mail and name, forwarder's display name and address, phone number) and the
 *   messages' own recipients (addresses and display names) are removed, in every encoding.
 * - An evidence package for an authority carries, besides the redacted copies, the byte-exact
 *   original as the reporter received it (authority evidence mode `original-and-redacted`, the
 *   default for authorities): that is the evidence, its hash is the one recorded at intake, and a
 *   competent authority is entitled to it. Mode `redacted-only` withholds the original and keeps
 *   its hash; a partner platform always receives redacted copies only unless it was registered
 *   with originals and a recorded legal basis.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import {
  identitiesByReport as evidenceIdentities,
  mergeIdentities,
  redactReporter,
  Redactor,
  type RecipientIdentity,
  type ReporterIdentity,
} from '../evidence/redact.ts';

export type { ReporterIdentity };

/**
 * The reporter identity of each report, for what leaves: with the addresses of the reporter's own mail servers
 * (trace text and header lines name them next to the host names the redactor removes).
 */
export function identitiesByReport(
  db: Kysely<Database>,
  reportIds: readonly string[],
): Promise<Map<string, ReporterIdentity>> {
  return evidenceIdentities(db, reportIds, { mailServers: true });
}

/** The merged identity of the reporters of these reports. */
export async function identitiesOfReports(
  db: Kysely<Database>,
  reportIds: readonly string[],
): Promise<ReporterIdentity> {
  return mergeIdentities([...(await identitiesByReport(db, reportIds)).values()]);
}

/** A redactor for everything said about a case: the identities of all its reporters. */
export async function redactorForCase(
  db: Kysely<Database>,
  caseId: string,
  recipients?: RecipientIdentity,
): Promise<Redactor> {
  const ids = (
    await db.selectFrom('action_case_reports').select('report_id').where('case_id', '=', caseId).execute()
  ).map((r) => r.report_id);
  return new Redactor(await identitiesOfReports(db, ids), recipients);
}

/** A redacted copy of a message (the stored evidence is never touched). */
export function redactMessage(raw: Buffer, identity: ReporterIdentity): Buffer {
  return redactReporter(raw, identity).raw;
}
