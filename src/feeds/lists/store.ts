/**
 * The listings table and the state row: applying a verdict (bumping the revision when anything a
 * feed publishes changes, in the same transaction), reading listings for the feeds and the look-up
 * page, and the singleton's lease (a row updated only by its holder or once it lapsed, so it works
 * the same on SQLite and on PostgreSQL shared by several processes).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ListingRow } from '../../db/feeds-lists-tables.ts';
import { newId, nowIso } from '../../core/ids.ts';
import type { Verdict } from './judge.ts';
import { parseEvidence } from './listing-evidence.ts';

export { parseEvidence, type ListingEvidence } from './listing-evidence.ts';

export const STATE_NAME = 'listings';

/** The state row, created on first use. */
export async function listingState(db: Kysely<Database>) {
  await db
    .insertInto('feed_state')
    .values({ name: STATE_NAME, revision: 0, changed_at: nowIso(), cursor: null, full_pass_at: null })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  return db.selectFrom('feed_state').selectAll().where('name', '=', STATE_NAME).executeTakeFirstOrThrow();
}

/** Records that what the feeds publish changed. */
export async function bumpRevision(db: Kysely<Database>, at = nowIso()): Promise<void> {
  await listingState(db);
  await db
    .updateTable('feed_state')
    .set((eb) => ({ revision: eb('revision', '+', 1), changed_at: at }))
    .where('name', '=', STATE_NAME)
    .execute();
}

/**
 * Takes or renews the singleton's lease for `ms`: true when `owner` holds it now. A holder that
 * died lets it lapse and another process takes over.
 */
export async function takeLease(db: Kysely<Database>, owner: string, ms: number, now = new Date()): Promise<boolean> {
  await listingState(db);
  const r = await db
    .updateTable('feed_state')
    .set({ lease_owner: owner, lease_until: new Date(now.getTime() + ms).toISOString() })
    .where('name', '=', STATE_NAME)
    .where((eb) =>
      eb.or([eb('lease_owner', '=', owner), eb('lease_until', 'is', null), eb('lease_until', '<', now.toISOString())]),
    )
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Gives the lease up (on stop), so another process need not wait for it to lapse. */
export async function releaseLease(db: Kysely<Database>, owner: string): Promise<void> {
  await db
    .updateTable('feed_state')
    .set({ lease_owner: null, lease_until: null })
    .where('name', '=', STATE_NAME)
    .where('lease_owner', '=', owner)
    .execute();
}

export async function findListing(
  db: Kysely<Database>,
  kind: 'ip' | 'domain',
  value: string,
): Promise<ListingRow | undefined> {
  return db
    .selectFrom('feed_listings')
    .selectAll()
    .where('kind', '=', kind)
    .where('value', '=', value)
    .executeTakeFirst();
}

/** What a feed publishes of a listed row: a change of any of these bumps the revision. */
function published(r: Pick<ListingRow, 'state' | 'list' | 'return_code' | 'category' | 'expires_at'>): string {
  return r.state === 'listed' ? [r.list, r.return_code, r.category, r.expires_at].join('|') : '';
}

/**
 * True when a verdict leaves the value's row (or its absence) as it is: not listable now, and
 * either off the lists (never listed, expired, delisted) or on them (listed or held) but not
 * excluded by the policy (it stays until the expiry it announced; `expireListings` removes it then).
 */
function leavesAsIs(row: ListingRow | undefined, v: Verdict): boolean {
  return v.outcome === 'none' && (!row || (row.state !== 'listed' && row.state !== 'held') || !v.excluded);
}

/**
 * Stores a verdict: inserts or updates the value's row (a delisted row stays delisted until a
 * verdict on reports after its delisting lists it again). Returns true when what the feeds
 * publish changed (and bumps the revision in the same transaction).
 */
export async function applyVerdict(db: Kysely<Database>, v: Verdict, now = new Date()): Promise<boolean> {
  // Most values a pass judges have nothing to record (one report of an origin never listed): they
  // open no transaction, so they take no write lock from the intake or the pipeline (SQLite: a
  // `BEGIN IMMEDIATE` and a commit each, ~1.2 per report in the e2e bench). Only the listing pass
  // lists a value (a singleton: `takeLease` above), so the row read here cannot turn into one
  // that needs a write before the pass returns; what needs a write is read again under the lock.
  if (leavesAsIs(await findListing(db, v.kind, v.value), v)) return false;
  return db.transaction().execute(async (trx) => {
    const at = now.toISOString();
    const row = await findListing(trx, v.kind, v.value);
    if (v.outcome === 'none') {
      // Nothing to record for a value never listed; a listed or held one leaves the lists now,
      // unless only too few recent reports speak against it: `expireListings` removes it at the
      // expiry the listing announced. Only what the policy now forbids leaves at once.
      if (!row || leavesAsIs(row, v)) return false;
      const evidence = { ...parseEvidence(row.evidence), reasons: v.reasons };
      await trx
        .updateTable('feed_listings')
        .set({ state: 'expired', return_code: null, evidence: JSON.stringify(evidence), updated_at: at })
        .where('id', '=', row.id)
        .execute();
      if (row.state === 'listed') await bumpRevision(trx, at);
      return row.state === 'listed';
    }
    const fields = {
      list: v.list,
      state: v.outcome,
      return_code: v.outcome === 'listed' ? v.returnCode : null,
      category: v.category,
      report_count: v.reportCount,
      campaign_count: v.campaignCount,
      signals: JSON.stringify(v.signals),
      evidence: JSON.stringify({ reportIds: v.reportIds, campaignIds: v.campaignIds, reasons: v.reasons }),
      last_seen: v.lastSeen ?? at,
      expires_at: v.expiresAt,
      updated_at: at,
    };
    if (!row) {
      await trx
        .insertInto('feed_listings')
        .values({
          id: newId(),
          kind: v.kind,
          value: v.value,
          ...fields,
          first_seen: v.firstSeen ?? at,
          listed_at: v.outcome === 'listed' ? at : null,
          delisted_at: null,
          delisted_by: null,
        })
        .execute();
    } else {
      const relisted = v.outcome === 'listed' && row.state !== 'listed';
      await trx
        .updateTable('feed_listings')
        .set({ ...fields, ...(relisted ? { listed_at: at } : {}) })
        .where('id', '=', row.id)
        .execute();
    }
    const changed =
      published(row ?? { state: '', list: '', return_code: null, category: null, expires_at: null }) !==
      published({ ...fields, state: v.outcome });
    if (changed) await bumpRevision(trx, at);
    return changed;
  });
}

/** Listed rows past their expiry leave the lists; returns how many. */
export async function expireListings(db: Kysely<Database>, now = new Date()): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const at = now.toISOString();
    const r = await trx
      .updateTable('feed_listings')
      .set({ state: 'expired', return_code: null, updated_at: at })
      .where('state', 'in', ['listed', 'held'])
      .where('expires_at', '<=', at)
      .executeTakeFirst();
    const n = Number(r.numUpdatedRows);
    if (n > 0) await bumpRevision(trx, at);
    return n;
  });
}

/** Keyset page of listed rows of one kind, in value order (the zones and plain lists read them all). */
export async function listedPage(
  db: Kysely<Database>,
  kind: 'ip' | 'domain',
  after: string | null,
  limit: number,
): Promise<ListingRow[]> {
  let q = db
    .selectFrom('feed_listings')
    .selectAll()
    .where('state', '=', 'listed')
    .where('kind', '=', kind)
    .orderBy('value')
    .limit(limit);
  if (after !== null) q = q.where('value', '>', after);
  return q.execute();
}

/** Every listed row of a kind, read by keyset pages (never one unbounded query). */
export async function* allListed(db: Kysely<Database>, kind: 'ip' | 'domain', pageSize = 5000) {
  let after: string | null = null;
  for (;;) {
    const page = await listedPage(db, kind, after, pageSize);
    for (const r of page) yield r;
    if (page.length < pageSize) return;
    after = page[page.length - 1].value;
  }
}
