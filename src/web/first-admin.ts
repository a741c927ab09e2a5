/**
 * The first administrator: created by `spamdesk admin create`, or by `serve` on a database that
 * has no administrator yet, with a one-time password printed once (only its scrypt hash is stored,
 * and the account must choose its own password at first sign-in).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { AppError } from '../core/errors.ts';
import { createAccount } from '../db/accounts.ts';

/** Address of the administrator created on a fresh database (change it from the account page). */
export const FIRST_ADMIN_EMAIL = 'admin@spamdesk.local';

export async function hasAdmin(db: Kysely<Database>): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Creates the first administrator when there is none. Returns the address and one-time password,
 * or null when an administrator already exists (or another process just created it).
 */
export async function ensureFirstAdmin(db: Kysely<Database>): Promise<{ email: string; password: string } | null> {
  if (await hasAdmin(db)) return null;
  try {
    const { generatedPassword } = await createAccount(db, {
      email: FIRST_ADMIN_EMAIL,
      role: 'admin',
      name: 'Administrator',
    });
    return generatedPassword ? { email: FIRST_ADMIN_EMAIL, password: generatedPassword } : null;
  } catch (e) {
    if (e instanceof AppError && e.code === 'CONFLICT') return null;
    throw e;
  }
}

/** Start-up hook for `serve` (listed in web/area.ts). */
export async function firstAdminHook(ctx: {
  db: Kysely<Database>;
  config: { publicUrl?: string };
}): Promise<string[] | undefined> {
  const created = await ensureFirstAdmin(ctx.db);
  if (!created) return;
  return [
    '',
    '  First administrator created (this password is shown only once; you will be asked to change it):',
    `    e-mail:    ${created.email}`,
    `    password:  ${created.password}`,
    '    sign in at /login',
  ];
}
