/**
 * The audit log: every view or download of raw evidence, who, what, when and from where.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { newId, nowIso } from '../core/ids.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  subject: string;
  ip?: string | null;
  detail?: Record<string, unknown> | null;
}

export async function writeAudit(db: Kysely<Database>, e: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({ id: newId(), at: nowIso(), actor: e.actor, action: e.action, subject: e.subject, ip: e.ip ?? null, detail: e.detail ? JSON.stringify(e.detail) : null })
    .execute();
}

export async function listAudit(db: Kysely<Database>, opts: { limit?: number; before?: string } = {}) {
  let q = db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(Math.min(opts.limit ?? 100, 1000));
  if (opts.before) q = q.where('id', '<', opts.before);
  return q.execute();
}
