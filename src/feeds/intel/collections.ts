/**
 * Collections (what each TAXII collection and MISP feed publishes, under which TLP level) and who
 * may read them. Staff (`intel:read-all`: admin, analyst) read every collection; a partner or
 * network operator reads the collections granted to its token or to its account.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/schema.ts';
import type { IntelCollection, IntelGrant } from '../../db/intel-tables.ts';
import { newId, nowIso } from '../../core/ids.ts';
import { AppError } from '../../core/errors.ts';
import { can } from '../../core/policy.ts';
import type { Principal } from '../../core/roles.ts';
import { ABUSIVE_CATEGORIES } from '../../campaigns/campaign-store.ts';
import { TLP_LEVELS, type TlpLevel, uuidV5 } from './stix-ids.ts';
import { randomUUID } from 'node:crypto';

/** Kinds of indicator a collection can publish. `phone` and `wallet` have no STIX 2.1 object: MISP only. */
export const INDICATOR_KINDS = ['ip', 'domain', 'url', 'email', 'phone', 'wallet'] as const;
export type IndicatorKind = (typeof INDICATOR_KINDS)[number];

export interface CollectionSpec {
  id: string;
  alias: string;
  title: string;
  description: string;
  tlp: TlpLevel;
  /** Empty: every abusive category. */
  categories: string[];
  kinds: IndicatorKind[];
  minReports: number;
  createdAt: string;
  updatedAt: string;
}

/** Roles a grant means something for (admin and analyst read every collection). */
const GRANTABLE_ROLES: readonly string[] = ['partner', 'network_operator'];

const ALIAS = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const CollectionInput = z
  .object({
    alias: z.string().regex(ALIAS, 'lower-case letters, digits and dashes, at most 63'),
    title: z.string().min(1).max(200),
    description: z.string().max(2000).default(''),
    tlp: z.enum(TLP_LEVELS as [TlpLevel, ...TlpLevel[]]).default('amber'),
    categories: z
      .array(z.string().refine((c) => ABUSIVE_CATEGORIES.has(c), 'not an abusive category'))
      .max(10)
      .default([]),
    kinds: z
      .array(z.enum(INDICATOR_KINDS))
      .min(1)
      .default([...INDICATOR_KINDS]),
    minReports: z.number().int().min(1).max(1_000_000).default(1),
  })
  .strict();
export type CollectionInput = z.input<typeof CollectionInput>;

export const CollectionUpdate = CollectionInput.partial().omit({ alias: true }).strict();

function parseList(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function isTlp(v: string): v is TlpLevel {
  return (TLP_LEVELS as readonly string[]).includes(v);
}

export function specOf(row: IntelCollection): CollectionSpec {
  return {
    id: row.id,
    alias: row.alias,
    title: row.title,
    description: row.description,
    // A hand-edited row with an unknown level is published at the strictest level, never looser.
    tlp: isTlp(row.tlp) ? row.tlp : 'red',
    categories: parseList(row.categories).filter((c) => ABUSIVE_CATEGORIES.has(c)),
    kinds: parseList(row.kinds).filter((k): k is IndicatorKind => (INDICATOR_KINDS as readonly string[]).includes(k)),
    minReports: Number(row.min_reports),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function zodMessage(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

export async function listCollections(db: Kysely<Database>): Promise<CollectionSpec[]> {
  const rows = await db.selectFrom('intel_collections').selectAll().orderBy('alias').execute();
  return rows.map(specOf);
}

/** A collection by id or alias. */
export async function findCollection(db: Kysely<Database>, idOrAlias: string): Promise<CollectionSpec | null> {
  if (idOrAlias.length > 64) return null;
  const row = await db
    .selectFrom('intel_collections')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', idOrAlias), eb('alias', '=', idOrAlias)]))
    .executeTakeFirst();
  return row ? specOf(row) : null;
}

export async function createCollection(db: Kysely<Database>, input: unknown): Promise<CollectionSpec> {
  const parsed = CollectionInput.safeParse(input);
  if (!parsed.success) throw new AppError('BAD_REQUEST', zodMessage(parsed.error));
  const c = parsed.data;
  if (await findCollection(db, c.alias)) throw new AppError('CONFLICT', `A collection named ${c.alias} exists.`);
  const now = nowIso();
  const id = randomUUID();
  await db
    .insertInto('intel_collections')
    .values({
      id,
      alias: c.alias,
      title: c.title,
      description: c.description,
      tlp: c.tlp,
      categories: JSON.stringify([...new Set(c.categories)].sort()),
      kinds: JSON.stringify([...new Set(c.kinds)]),
      min_reports: c.minReports,
      created_at: now,
      updated_at: now,
    })
    .execute();
  const made = await findCollection(db, id);
  if (!made) throw new Error('collection vanished after insert');
  return made;
}

export async function updateCollection(
  db: Kysely<Database>,
  idOrAlias: string,
  input: unknown,
): Promise<CollectionSpec> {
  const parsed = CollectionUpdate.safeParse(input);
  if (!parsed.success) throw new AppError('BAD_REQUEST', zodMessage(parsed.error));
  const existing = await findCollection(db, idOrAlias);
  if (!existing) throw new AppError('NOT_FOUND', 'No such collection.');
  const u = parsed.data;
  await db
    .updateTable('intel_collections')
    .set({
      ...(u.title !== undefined ? { title: u.title } : {}),
      ...(u.description !== undefined ? { description: u.description } : {}),
      ...(u.tlp !== undefined ? { tlp: u.tlp } : {}),
      ...(u.categories !== undefined ? { categories: JSON.stringify([...new Set(u.categories)].sort()) } : {}),
      ...(u.kinds !== undefined ? { kinds: JSON.stringify([...new Set(u.kinds)]) } : {}),
      ...(u.minReports !== undefined ? { min_reports: u.minReports } : {}),
      updated_at: nowIso(),
    })
    .where('id', '=', existing.id)
    .execute();
  const after = await findCollection(db, existing.id);
  if (!after) throw new Error('collection vanished after update');
  return after;
}

/** Grants read access to a token or an account; returns the existing live grant when there is one. */
export async function grantAccess(
  db: Kysely<Database>,
  collectionId: string,
  to: { tokenId?: string | null; userId?: string | null },
  actor: string,
): Promise<IntelGrant> {
  const tokenId = to.tokenId ?? null;
  const userId = to.userId ?? null;
  if ((tokenId === null) === (userId === null))
    throw new AppError('BAD_REQUEST', 'Name exactly one of tokenId or userId.');
  let role: string;
  if (tokenId !== null) {
    const t = await db
      .selectFrom('api_tokens')
      .select(['id', 'role', 'revoked_at'])
      .where('id', '=', tokenId)
      .executeTakeFirst();
    if (!t || t.revoked_at !== null) throw new AppError('NOT_FOUND', 'No such live API token.');
    role = t.role;
  } else {
    const u = await db
      .selectFrom('users')
      .select(['id', 'role'])
      .where('id', '=', userId ?? '')
      .executeTakeFirst();
    if (!u) throw new AppError('NOT_FOUND', 'No such account.');
    role = u.role;
  }
  // A grant to a role that cannot read feeds would do nothing; staff read every collection anyway.
  if (!GRANTABLE_ROLES.includes(role))
    throw new AppError('BAD_REQUEST', `A ${role} cannot be granted a collection: grant partner or network_operator.`);
  const live = await db
    .selectFrom('intel_grants')
    .selectAll()
    .where('collection_id', '=', collectionId)
    .where('revoked_at', 'is', null)
    .where(tokenId !== null ? 'token_id' : 'user_id', '=', tokenId ?? userId)
    .executeTakeFirst();
  if (live) return live;
  const row: IntelGrant = {
    id: newId(),
    collection_id: collectionId,
    token_id: tokenId,
    user_id: userId,
    granted_by: actor,
    granted_at: nowIso(),
    revoked_at: null,
  };
  await db.insertInto('intel_grants').values(row).execute();
  return row;
}

export async function revokeGrant(db: Kysely<Database>, grantId: string): Promise<IntelGrant> {
  const g = await db.selectFrom('intel_grants').selectAll().where('id', '=', grantId).executeTakeFirst();
  if (!g) throw new AppError('NOT_FOUND', 'No such grant.');
  if (g.revoked_at !== null) return g;
  const at = nowIso();
  await db.updateTable('intel_grants').set({ revoked_at: at }).where('id', '=', grantId).execute();
  return { ...g, revoked_at: at };
}

/** A page of a collection's grants (live and revoked), oldest first, after the grant id `after`. */
export async function listGrants(
  db: Kysely<Database>,
  collectionId: string,
  opts: { after?: string; limit: number },
): Promise<IntelGrant[]> {
  let q = db.selectFrom('intel_grants').selectAll().where('collection_id', '=', collectionId);
  if (opts.after) q = q.where('id', '>', opts.after);
  return q.orderBy('id').limit(opts.limit).execute();
}

/** Ids of the collections a principal may read (`all` for staff). */
export async function readableCollections(db: Kysely<Database>, p: Principal): Promise<Set<string> | 'all'> {
  if (can(p, 'intel:read-all')) return 'all';
  if (!can(p, 'intel:read') || p.kind === 'anonymous') return new Set();
  const tokenId = p.kind === 'token' ? p.tokenId : null;
  const userId = p.userId;
  if (tokenId === null && userId === null) return new Set();
  const rows = await db
    .selectFrom('intel_grants')
    .select('collection_id')
    .where('revoked_at', 'is', null)
    .where((eb) =>
      eb.or([
        ...(tokenId !== null ? [eb('token_id', '=', tokenId)] : []),
        ...(userId !== null ? [eb('user_id', '=', userId)] : []),
      ]),
    )
    .execute();
  return new Set(rows.map((r) => r.collection_id));
}

export function mayRead(readable: Set<string> | 'all', collectionId: string): boolean {
  return readable === 'all' || readable.has(collectionId);
}

/** The MISP Orgc and STIX identity of a collection's producer are the instance's; a stable UUID per instance. */
export function instanceOrgUuid(namespace: string): string {
  return uuidV5(namespace, 'organisation');
}
