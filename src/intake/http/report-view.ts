/**
 * How a report is presented through the API. Areas that add data about a report (analysis,
 * classification, campaign) list a {@link ReportViewPart} in their `area.ts`; the caller passes
 * them all (`app.reportViewParts`, gathered in `app/areas.ts`).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ReportViewPart } from '../../evidence/context.ts';

export interface ReportView {
  reporterUserId: string | null;
  reporterTokenId: string | null;
  /** The JSON body; reporter identity only for analysts and admins. */
  present(privileged: boolean): Record<string, unknown>;
}

export async function getReportView(
  db: Kysely<Database>,
  id: string,
  viewParts: readonly ReportViewPart[],
): Promise<ReportView | null> {
  const report = await db.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst();
  if (!report) return null;
  const message = await db
    .selectFrom('messages')
    .select(['sha256', 'kind', 'size', 'first_seen_at'])
    .where('sha256', '=', report.message_sha256)
    .executeTakeFirstOrThrow();
  const parts: Record<string, unknown> = {};
  for (const part of viewParts) {
    const v = await part.load(db, report);
    if (v !== undefined) parts[part.name] = v;
  }
  return {
    reporterUserId: report.reporter_user_id,
    reporterTokenId: report.reporter_token_id,
    present(privileged) {
      return {
        id: report.id,
        channel: report.channel,
        receivedAt: report.received_at,
        /** From an archive import: evidence only, never the trigger of an automatic action. */
        historical: Number(report.historical) === 1,
        quality: report.quality,
        note: report.note,
        context: report.context ? (JSON.parse(report.context) as unknown) : null,
        message: {
          sha256: message.sha256,
          kind: message.kind,
          size: Number(message.size),
          firstSeenAt: message.first_seen_at,
        },
        ...(privileged
          ? {
              reporter: {
                userId: report.reporter_user_id,
                tokenId: report.reporter_token_id,
                address: report.reporter_address,
                clientIp: report.client_ip,
              },
            }
          : {}),
        ...parts,
      };
    },
  };
}
