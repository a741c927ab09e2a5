/**
 * Web area: sign-in backoff counts failures per account across addresses and per address and
 * account pair (src/db/login-backoff.ts), so `web_login_attempts` needs an index led by the
 * account's address as it has one led by the client address (0005_web).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('web_login_attempts_email_idx')
    .on('web_login_attempts')
    .columns(['email', 'at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('web_login_attempts_email_idx').execute();
}
