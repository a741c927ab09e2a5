/**
 * The current content of a collection as one STIX 2.1 bundle: the latest version of each object,
 * revoked ones left out.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

/** Objects read per query while building the bundle. */
const PAGE = 1000;

export async function currentObjects(
  db: Kysely<Database>,
  collectionId: string,
): Promise<{ body: string; count: number }> {
  const parts: string[] = [];
  let after = 0;
  for (;;) {
    const rows = await db
      .selectFrom('intel_objects')
      .select(['seq', 'json'])
      .where('collection_id', '=', collectionId)
      .where('superseded_seq', 'is', null)
      .where('revoked', '=', 0)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(PAGE)
      .execute();
    for (const r of rows) parts.push(r.json);
    const last = rows[rows.length - 1];
    if (!last || rows.length < PAGE) break;
    after = Number(last.seq);
  }
  const id = `bundle--${randomUUID()}`;
  const objects = parts.length > 0 ? `,"objects":[${parts.join(',')}]` : '';
  const body = `{"type":"bundle","id":${JSON.stringify(id)}${objects}}`;
  return { body, count: parts.length };
}
