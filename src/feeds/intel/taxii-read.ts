/**
 * Reads of the TAXII 2.1 server over `intel_objects` (OASIS TAXII 2.1 §5.3–5.8): pages of objects,
 * of manifest records and of versions, filtered by `added_after`, `match[id]`, `match[type]`,
 * `match[version]` and `match[spec_version]`.
 *
 * Paging: the first request fixes a snapshot (the collection's last seq); `next` carries the
 * snapshot and the last seq served. Later pages read only versions added up to the snapshot and,
 * for "the latest version", the latest as of the snapshot — so walking every page yields each
 * object exactly once even while new objects and new versions arrive; those are served by the
 * next poll (`added_after` the last `X-TAXII-Date-Added-Last`).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { IntelObjectRow } from '../../db/intel-tables.ts';
import { AppError } from '../../core/errors.ts';
import { microsOf, microsTimestamp } from './store.ts';

/** Largest page the server returns (TAXII 2.1 §3.4: the server may lower the client's `limit`). */
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;
/** Most values in one `match[…]` list. */
const MAX_MATCH_VALUES = 100;

export type VersionMatch = { kind: 'last' } | { kind: 'first' } | { kind: 'all' } | { kind: 'at'; versions: string[] };

export interface ObjectQuery {
  addedAfter: string | null;
  limit: number;
  ids: string[];
  types: string[];
  version: VersionMatch;
  /** False when `match[spec_version]` excludes 2.1: nothing matches. */
  specVersionOk: boolean;
  /** From `next`. */
  cursor: { after: number; snapshot: number } | null;
}

export interface Page {
  rows: IntelObjectRow[];
  more: boolean;
  next: string | null;
}

function list(v: unknown, name: string): string[] {
  if (v === undefined) return [];
  if (typeof v !== 'string')
    throw new AppError('BAD_REQUEST', `${name} must be given once, as a comma-separated list.`);
  const parts = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (parts.length > MAX_MATCH_VALUES)
    throw new AppError('BAD_REQUEST', `${name}: at most ${MAX_MATCH_VALUES} values.`);
  return parts;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** A TAXII timestamp normalised to microseconds (fractions beyond are cut: never earlier than asked). */
function timestamp(v: string, name: string): string {
  if (!TIMESTAMP.test(v) || !Number.isFinite(Date.parse(v)))
    throw new AppError('BAD_REQUEST', `${name} must be an RFC 3339 UTC timestamp such as 2026-01-31T12:00:00.000Z.`);
  const [head, frac = ''] = v.replace(/Z$/, '').split('.');
  return microsTimestamp(microsOf(`${head}.${frac.slice(0, 6).padEnd(6, '0')}Z`));
}

function encodeNext(after: number, snapshot: number): string {
  return Buffer.from(`${after}.${snapshot}`).toString('base64url');
}

function decodeNext(v: string): { after: number; snapshot: number } {
  const m = /^(\d{1,15})\.(\d{1,15})$/.exec(Buffer.from(v, 'base64url').toString('latin1'));
  if (!m || v.length > 64) throw new AppError('BAD_REQUEST', 'next is not a value this server gave.');
  const after = Number(m[1]);
  const snapshot = Number(m[2]);
  if (after > snapshot) throw new AppError('BAD_REQUEST', 'next is not a value this server gave.');
  return { after, snapshot };
}

/** Parses the query parameters of the objects, manifest and versions endpoints. */
export function parseObjectQuery(q: Record<string, unknown>, opts: { versionDefault: VersionMatch }): ObjectQuery {
  const limitRaw = q.limit;
  let limit = DEFAULT_PAGE;
  if (limitRaw !== undefined) {
    if (typeof limitRaw !== 'string' || !/^\d{1,9}$/.test(limitRaw) || Number(limitRaw) < 1)
      throw new AppError('BAD_REQUEST', 'limit must be a positive integer.');
    limit = Math.min(Number(limitRaw), MAX_PAGE);
  }
  const addedRaw = q.added_after;
  if (addedRaw !== undefined && typeof addedRaw !== 'string')
    throw new AppError('BAD_REQUEST', 'added_after must be given once.');
  const versions = list(q['match[version]'], 'match[version]');
  let version: VersionMatch = opts.versionDefault;
  if (versions.length > 0) {
    if (versions.includes('all')) version = { kind: 'all' };
    else if (versions.length === 1 && versions[0] === 'last') version = { kind: 'last' };
    else if (versions.length === 1 && versions[0] === 'first') version = { kind: 'first' };
    else
      version = {
        kind: 'at',
        versions: versions
          .filter((v) => v !== 'first' && v !== 'last')
          .map((v) => new Date(Date.parse(timestamp(v, 'match[version]'))).toISOString()),
      };
  }
  const nextRaw = q.next;
  if (nextRaw !== undefined && typeof nextRaw !== 'string')
    throw new AppError('BAD_REQUEST', 'next must be given once.');
  const ids = list(q['match[id]'], 'match[id]');
  for (const id of ids)
    if (!/^[a-z][a-z0-9-]*--[0-9a-f-]{36}$/i.test(id))
      throw new AppError('BAD_REQUEST', `match[id]: ${id} is not a STIX id.`);
  const types = list(q['match[type]'], 'match[type]');
  for (const t of types)
    if (!/^[a-z][a-z0-9-]{0,249}$/.test(t)) throw new AppError('BAD_REQUEST', `match[type]: ${t} is not a STIX type.`);
  const specs = list(q['match[spec_version]'], 'match[spec_version]');
  return {
    addedAfter: addedRaw === undefined ? null : timestamp(addedRaw, 'added_after'),
    limit,
    ids,
    types,
    version,
    specVersionOk: specs.length === 0 || specs.includes('2.1'),
    cursor: nextRaw === undefined ? null : decodeNext(nextRaw),
  };
}

/** The collection's last seq: the snapshot of a first page. */
export async function lastSeq(db: Kysely<Database>, collectionId: string): Promise<number> {
  const s = await db
    .selectFrom('intel_state')
    .select('last_seq')
    .where('collection_id', '=', collectionId)
    .executeTakeFirst();
  return s ? Number(s.last_seq) : 0;
}

/** One page of versions of a collection (objects, manifest) per the query. */
export async function readPage(db: Kysely<Database>, collectionId: string, q: ObjectQuery): Promise<Page> {
  if (!q.specVersionOk) return { rows: [], more: false, next: null };
  const snapshot = q.cursor ? q.cursor.snapshot : await lastSeq(db, collectionId);
  let s = db
    .selectFrom('intel_objects')
    .selectAll()
    .where('collection_id', '=', collectionId)
    .where('seq', '<=', snapshot);
  if (q.cursor) s = s.where('seq', '>', q.cursor.after);
  if (q.addedAfter) s = s.where('date_added', '>', q.addedAfter);
  if (q.ids.length > 0) s = s.where('object_id', 'in', q.ids);
  if (q.types.length > 0) s = s.where('type', 'in', q.types);
  const v = q.version;
  if (v.kind === 'last') {
    s = s.where((eb) => eb.or([eb('superseded_seq', 'is', null), eb('superseded_seq', '>', snapshot)]));
  } else if (v.kind === 'first') {
    s = s.where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('intel_objects as p')
            .select('p.seq')
            .where('p.collection_id', '=', collectionId)
            .whereRef('p.object_id', '=', 'intel_objects.object_id')
            .whereRef('p.seq', '<', 'intel_objects.seq'),
        ),
      ),
    );
  } else if (v.kind === 'at') {
    s = s.where('version', 'in', v.versions.length > 0 ? v.versions : ['']);
  }
  const rows = await s
    .orderBy('seq')
    .limit(q.limit + 1)
    .execute();
  const more = rows.length > q.limit;
  const page = more ? rows.slice(0, q.limit) : rows;
  const last = page[page.length - 1];
  return { rows: page, more, next: more && last ? encodeNext(Number(last.seq), snapshot) : null };
}

/** Whether the collection holds any version of an object. */
export async function objectExists(db: Kysely<Database>, collectionId: string, objectId: string): Promise<boolean> {
  const r = await db
    .selectFrom('intel_objects')
    .select('seq')
    .where('collection_id', '=', collectionId)
    .where('object_id', '=', objectId)
    .limit(1)
    .executeTakeFirst();
  return r !== undefined;
}
