/** Test support: reporter accounts (no password: they report by token), one id per address given. */
import type { Kysely } from 'kysely';
import { newId, nowIso } from '../../core/ids.ts';
import type { Database } from '../../db/schema.ts';

export async function reporterAccounts(db: Kysely<Database>, ...emails: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const email of emails) {
    const id = newId();
    await db
      .insertInto('users')
      .values({ id, email, name: null, role: 'reporter', password_hash: null, created_at: nowIso(), disabled_at: null })
      .execute();
    ids.push(id);
  }
  return ids;
}
