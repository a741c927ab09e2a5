/**
 * What the actions area's route files share: parsing with zod into one 400, and the row-level
 * scope of a principal (which authorities or network operators it speaks for).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { can } from '../../core/policy.ts';
import type { Principal } from '../../core/roles.ts';
import { loadAccount } from '../../db/accounts.ts';

/** The OpenAPI tag of the actions routes. */
export const ACTIONS_TAGS = ['actions'];

/** Parses a body, query or params with `schema`; every problem becomes one 400. */
export function body<T>(schema: z.ZodType<T>, value: unknown): T {
  const p = schema.safeParse(value ?? {});
  if (!p.success)
    throw new AppError(
      'BAD_REQUEST',
      p.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  return p.data;
}

/** The account behind a principal, or null for the anonymous. */
export function userIdOf(p: Principal): string | null {
  return p.kind === 'anonymous' ? null : p.userId;
}

/**
 * Authorities the caller acts for, or null for staff (all): those linked to the account here
 * (`action_authorities.user_id`) and the one the web app's account names (`users.authority_id`).
 */
export async function authorityScope(app: FastifyInstance, p: Principal): Promise<string[] | null> {
  if (can(p, 'case:manage')) return null;
  const uid = userIdOf(p);
  if (!uid) return [];
  const linked = (
    await app.ctx.db.selectFrom('action_authorities').select('id').where('user_id', '=', uid).execute()
  ).map((r) => r.id);
  const account = await loadAccount(app.ctx.db, uid);
  return [...new Set([...linked, ...(account?.authorityId ? [account.authorityId] : [])])];
}

/**
 * Operators the caller speaks for, or null for staff (all): those linked to the account here
 * (`action_operators.user_id`) and those owning the ASNs the web app's account lists.
 */
export async function operatorScope(app: FastifyInstance, p: Principal): Promise<string[] | null> {
  if (can(p, 'operator:manage') || can(p, 'case:manage')) return null;
  const uid = userIdOf(p);
  if (!uid) return [];
  const { db } = app.ctx;
  const linked = (await db.selectFrom('action_operators').select('id').where('user_id', '=', uid).execute()).map(
    (r) => r.id,
  );
  const asns = (await loadAccount(db, uid))?.networks ?? [];
  const byAsn =
    asns.length > 0
      ? (await db.selectFrom('action_operator_asns').select('operator_id').where('asn', 'in', asns).execute()).map(
          (r) => r.operator_id,
        )
      : [];
  return [...new Set([...linked, ...byAsn])];
}

/** `:id` in a path. */
export const Id = z.object({ id: z.string().min(1).max(40) });
/** `?state=&limit=&before=` of a listing. */
export const ListQuery = z.object({
  state: z.string().max(20).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  before: z.string().max(40).optional(),
});
