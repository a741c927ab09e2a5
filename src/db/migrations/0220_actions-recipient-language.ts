/**
 * The language of what Spamdesk writes to each registry entry (issue 18, item 6): referral mails to
 * an authority, ISP digests to a network operator, complaint feedback to a sender. `language` is
 * `en` or `fr`; null means the instance region's language (`core/languages.ts`), so existing
 * entries keep getting what a new one with no choice would get.
 */
import type { Kysely } from 'kysely';

const TABLES = ['action_authorities', 'action_operators', 'action_senders'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const t of TABLES) await db.schema.alterTable(t).addColumn('language', 'varchar(8)').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of TABLES) await db.schema.alterTable(t).dropColumn('language').execute();
}
