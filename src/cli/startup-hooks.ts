/**
 * Hooks `spamdesk serve` runs once the platform is up; each may print lines in the banner
 * (the accounts area creates the first admin on a fresh database and prints its one-time password).
 */
import type { AppContext } from '../evidence/context.ts';
import { firstAdminHook } from '../web/first-admin.ts';

export const STARTUP_HOOKS: ((ctx: AppContext) => Promise<string[] | void>)[] = [firstAdminHook];
