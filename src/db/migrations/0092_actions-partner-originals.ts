/**
 * Actions area: a partner platform receives redacted copies only, unless it was registered with
 * originals and a recorded legal basis (`legal_basis`). Partners registered before this migration
 * with the old default (`original-and-redacted`, no legal basis) are moved to `redacted-only`.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('action_authorities').addColumn('legal_basis', 'text').execute();
  await sql`update action_authorities set evidence_mode = 'redacted-only' where contact_kind = 'partner' and \
legal_basis is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('action_authorities').dropColumn('legal_basis').execute();
}
