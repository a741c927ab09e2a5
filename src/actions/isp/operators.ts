/**
 * Network operators (ISPs, hosts) and the ASNs they answer for. An operator is registered by an
 * admin (its abuse address, its preferred format, its opt-out, its user account) or found
 * automatically from the abuse-contact table the enrichment stage consults: the first time an
 * ASN with a known abuse contact needs an alert, an operator row is made for it with the policy's
 * default format, which an admin can later adjust.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/schema.ts';
import { AppError } from '../../core/errors.ts';
import { newId, nowIso } from '../../core/ids.ts';
import { APP_LANGUAGES, isAppLanguage } from '../../core/languages.ts';
import type { ActionPolicy } from '../action-policy.ts';
import type { OperatorRow } from '../../db/actions-tables.ts';

export const OperatorInput = z.object({
  name: z.string().min(1).max(200),
  abuseAddress: z.email(),
  format: z.enum(['xarf', 'arf']).default('xarf'),
  asns: z.array(z.number().int().min(0).max(4294967295)).default([]),
  optedOut: z.boolean().default(false),
  userId: z.string().max(32).nullable().default(null),
  /** Language of its digests (`en`, `fr`); null: the instance region's. */
  language: z.enum(APP_LANGUAGES).nullable().default(null),
});

export async function registerOperator(
  db: Kysely<Database>,
  input: z.input<typeof OperatorInput>,
): Promise<OperatorRow> {
  const p = OperatorInput.safeParse(input);
  if (!p.success)
    throw new AppError('BAD_REQUEST', p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const v = p.data;
  const row: OperatorRow = {
    id: newId(),
    name: v.name,
    abuse_address: v.abuseAddress,
    format: v.format,
    opted_out: v.optedOut ? 1 : 0,
    user_id: v.userId,
    created_at: nowIso(),
    language: v.language,
  };
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('action_operators').values(row).execute();
    for (const asn of v.asns) {
      const taken = await trx
        .selectFrom('action_operator_asns')
        .select('operator_id')
        .where('asn', '=', asn)
        .executeTakeFirst();
      if (taken) throw new AppError('CONFLICT', `AS${asn} already belongs to operator ${taken.operator_id}.`);
      await trx.insertInto('action_operator_asns').values({ asn, operator_id: row.id }).execute();
    }
  });
  return row;
}

export async function updateOperator(
  db: Kysely<Database>,
  id: string,
  patch: {
    format?: 'xarf' | 'arf';
    optedOut?: boolean;
    abuseAddress?: string;
    userId?: string | null;
    language?: string | null;
  },
): Promise<void> {
  const op = await db.selectFrom('action_operators').select('id').where('id', '=', id).executeTakeFirst();
  if (!op) throw new AppError('NOT_FOUND', `No operator ${id}.`);
  if (patch.abuseAddress !== undefined && !z.email().safeParse(patch.abuseAddress).success)
    throw new AppError('BAD_REQUEST', 'abuseAddress: must be an e-mail address');
  if (patch.language !== undefined && patch.language !== null && !isAppLanguage(patch.language))
    throw new AppError('BAD_REQUEST', `language: one of ${APP_LANGUAGES.join(', ')}, or null`);
  await db
    .updateTable('action_operators')
    .set({
      ...(patch.format ? { format: patch.format } : {}),
      ...(patch.optedOut !== undefined ? { opted_out: patch.optedOut ? 1 : 0 } : {}),
      ...(patch.abuseAddress ? { abuse_address: patch.abuseAddress } : {}),
      ...(patch.userId !== undefined ? { user_id: patch.userId } : {}),
      ...(patch.language !== undefined ? { language: patch.language } : {}),
    })
    .where('id', '=', id)
    .execute();
}

/** Gives an AS to an operator; CONFLICT when another operator already answers for it. */
export async function addOperatorAsn(db: Kysely<Database>, operatorId: string, asn: number): Promise<void> {
  if (!Number.isInteger(asn) || asn < 0 || asn > 4294967295) throw new AppError('BAD_REQUEST', `${asn} is not an AS.`);
  await db.transaction().execute(async (trx) => {
    const op = await trx.selectFrom('action_operators').select('id').where('id', '=', operatorId).executeTakeFirst();
    if (!op) throw new AppError('NOT_FOUND', `No operator ${operatorId}.`);
    const taken = await trx
      .selectFrom('action_operator_asns')
      .select('operator_id')
      .where('asn', '=', asn)
      .executeTakeFirst();
    if (taken?.operator_id === operatorId) return;
    if (taken) throw new AppError('CONFLICT', `AS${asn} already belongs to operator ${taken.operator_id}.`);
    await trx.insertInto('action_operator_asns').values({ asn, operator_id: operatorId }).execute();
  });
}

/** Takes an AS away from an operator; NOT_FOUND when it was not one of its own. */
export async function removeOperatorAsn(db: Kysely<Database>, operatorId: string, asn: number): Promise<void> {
  const r = await db
    .deleteFrom('action_operator_asns')
    .where('asn', '=', asn)
    .where('operator_id', '=', operatorId)
    .executeTakeFirst();
  if (Number(r.numDeletedRows) === 0)
    throw new AppError('NOT_FOUND', `AS${asn} is not one of operator ${operatorId}'s.`);
}

export async function listOperators(db: Kysely<Database>) {
  const ops = await db.selectFrom('action_operators').selectAll().orderBy('name').execute();
  const asns = await db.selectFrom('action_operator_asns').selectAll().execute();
  return ops.map((o) => ({ ...o, asns: asns.filter((a) => a.operator_id === o.id).map((a) => Number(a.asn)) }));
}

/**
 * The operator responsible for an ASN: the registered one, or one made from the abuse contacts
 * enrichment found. Null when nobody can be told (no ASN, no contact).
 */
export async function operatorForAsn(
  db: Kysely<Database>,
  asn: number | null,
  abuse: string[],
  asName: string | null,
  policy: ActionPolicy,
): Promise<OperatorRow | null> {
  if (asn !== null) {
    const row = await db
      .selectFrom('action_operator_asns as m')
      .innerJoin('action_operators as o', 'o.id', 'm.operator_id')
      .selectAll('o')
      .where('m.asn', '=', asn)
      .executeTakeFirst();
    if (row) return row;
  }
  const contact = abuse.find((a) => z.email().safeParse(a).success);
  if (!contact) return null;
  const existing = await db
    .selectFrom('action_operators')
    .selectAll()
    .where('abuse_address', '=', contact)
    .executeTakeFirst();
  const op: OperatorRow = existing ?? {
    id: newId(),
    name: asName ?? (asn !== null ? `AS${asn}` : contact),
    abuse_address: contact,
    format: policy.isp.defaultFormat,
    opted_out: 0,
    user_id: null,
    created_at: nowIso(),
    language: null,
  };
  if (!existing) await db.insertInto('action_operators').values(op).execute();
  if (asn !== null) await db.insertInto('action_operator_asns').values({ asn, operator_id: op.id }).execute();
  return op;
}
