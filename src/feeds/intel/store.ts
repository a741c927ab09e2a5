/**
 * Writes what a collection publishes, as versions: a STIX object whose content changed gets a new
 * version (same `created`, a later `modified`), one that is no longer published gets a revoked
 * version, one that did not change gets nothing; a value published again after its revocation is a new
 * object (revocation is final). Every version gets the collection's next `seq`
 * and a strictly later `date_added` (microseconds), planned from the collection's `intel_state` row
 * and written only if that row is unchanged under its lock (else planned again there), so TAXII
 * paging by seq never misses nor repeats a version. MISP events are
 * replaced whole, stamped when they change; an attribute that disappears stays as `deleted`, an
 * event whose campaign is withdrawn keeps its uuid with every attribute deleted.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { dialectOf } from '../../db/dialect.ts';
import { createHash } from 'node:crypto';
import type { Database } from '../../db/schema.ts';
import type { StixObject } from './stix.ts';
import { uuidV5 } from './stix-ids.ts';
import type { MispAttribute, MispEventDraft } from './misp.ts';

/** How long a publication waits for a lock on PostgreSQL before it fails (and is built again next time). */
export const PUBLISH_LOCK_TIMEOUT = '300s';
/**
 * On SQLite a publication writes for at most about this long (ms) per transaction. SQLite has one write
 * lock for the whole file: a first publication of 20,000 campaigns (200,002 versions) held it 4.2 s in
 * one transaction, and every report commit of the intake and every pipeline stage waited that long
 * (bench/RESULTS.md 2026-12-05). Written in parts, each ends in a state a TAXII reader may page: whole
 * versions in seq order, each with the version it supersedes marked and the state row at its last one,
 * the producer's identity and marking definitions before the objects that refer to them. What a reader
 * may see for the seconds between parts is a change half made: some objects at their new version, others
 * not yet (new objects before the ones a changed marking revokes).
 */
export const PUBLISH_PART_MS = 50;
/**
 * The pause between two parts (ms), so that writers waiting for the lock take it: SQLite's busy handler
 * sleeps 1, 2, 5, 10, 15, 20, then 25 ms between tries in a wait's first 100 ms, so a writer that began
 * waiting during a part is awake within this pause.
 */
export const PUBLISH_PAUSE_MS = 50;
/** Rows inserted per statement. */
const INSERT_BATCH = 100;
/** MISP events inserted per statement (each holds its whole event's JSON). */
const EVENT_INSERT_BATCH = 20;
/** The draft hash of a withdrawn event: nothing to compare, nothing to redo. */
const WITHDRAWN = 'withdrawn';
/** Types that are never revoked (the producer's identity, the marking definitions). */
const PERMANENT_TYPES: ReadonlySet<string> = new Set(['identity', 'marking-definition']);

export interface PublishResult {
  added: number;
  updated: number;
  revoked: number;
  mispChanged: number;
  mispWithdrawn: number;
  /**
   * Set when another build committed between two parts of this one's publication (SQLite): the parts
   * written stand, the rest is left to the next build, which plans from them.
   */
  interrupted?: true;
}

/** How a publication is written: in parts of `partMs` with `pauseMs` between (SQLite), or whole. */
export interface PublishParts {
  partMs: number;
  pauseMs: number;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** The hash of an object's content: everything but `created` and `modified`. */
export function contentHash(o: Record<string, unknown>): string {
  const { created: _c, modified: _m, ...rest } = o;
  return sha256(JSON.stringify(rest));
}

/** Microseconds since the epoch of a `date_added` (or any RFC 3339 UTC timestamp). */
export function microsOf(ts: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/.exec(ts);
  if (!m) throw new Error(`not a UTC timestamp: ${ts}`);
  const secs = BigInt(Date.parse(`${m[1]}Z`) / 1000);
  return secs * 1_000_000n + BigInt((m[2] ?? '').padEnd(6, '0') || '0');
}

/** RFC 3339 UTC with exactly six fractional digits (TAXII 2.1 §3.1: microsecond precision). */
export function microsTimestamp(us: bigint): string {
  const secs = us / 1_000_000n;
  const frac = (us % 1_000_000n).toString().padStart(6, '0');
  return `${new Date(Number(secs) * 1000).toISOString().slice(0, 19)}.${frac}Z`;
}

function msLater(iso: string, than: string | null): string {
  if (than === null || iso > than) return iso;
  return new Date(Date.parse(than) + 1).toISOString();
}

interface Current {
  seq: number;
  hash: string;
  revoked: boolean;
  version: string;
  created: string;
  type: string;
}

async function ensureState(db: Kysely<Database>, collectionId: string): Promise<void> {
  await db
    .insertInto('intel_state')
    .values({ collection_id: collectionId, last_seq: 0, last_date_added: microsTimestamp(0n), built_at: null })
    .onConflict((oc) => oc.column('collection_id').doNothing())
    .execute();
}

/** A collection's publishing state: the last version's seq and date, and when it was last built. */
interface PublishState {
  last_seq: number;
  last_date_added: string;
  built_at: string | null;
}

async function readState(db: Kysely<Database>, collectionId: string): Promise<PublishState> {
  const r = await db
    .selectFrom('intel_state')
    .select(['last_seq', 'last_date_added', 'built_at'])
    .where('collection_id', '=', collectionId)
    .executeTakeFirstOrThrow();
  return { last_seq: Number(r.last_seq), last_date_added: r.last_date_added, built_at: r.built_at };
}

/** Everything a publish writes, worked out from the state it was planned against. */
interface PublishPlan {
  objects: ObjectPlan;
  events: EventPlan;
}

async function planPublish(
  db: Kysely<Database>,
  collectionId: string,
  desired: { objects: readonly StixObject[]; hashes: readonly string[] },
  events: { drafts: readonly MispEventDraft[]; hashes: readonly string[] },
  state: PublishState,
  now: Date,
): Promise<PublishPlan> {
  return {
    objects: await planObjects(db, collectionId, desired.objects, desired.hashes, state, now),
    events: await planEvents(db, collectionId, events.drafts, events.hashes, now),
  };
}

/**
 * Publishes a collection's desired objects and events; returns what changed.
 *
 * The versions and events are worked out first, outside any transaction, against the state read
 * then; the transaction only checks that no other build committed since and writes them. It holds
 * SQLite's one write lock, which the intake's report commits wait for: a build that worked out
 * 10,360 new versions under it held it 450–730 ms while the pipeline ran (bench/RESULTS.md
 * 2026-12-05). The check is the state row's `built_at` and `last_seq`, which every build moves
 * (`built_at` strictly later each time): when another build came between, the plan is made again
 * under the lock, as every build did before.
 *
 * On SQLite a large plan is written in parts of about {@link PUBLISH_PART_MS}, each its own
 * transaction, with {@link PUBLISH_PAUSE_MS} between them for the writers that waited; each later part
 * first checks that the state row is still as this build's last part left it. If another build came
 * between, that build planned from the parts already written and this one stops (`interrupted`).
 * On PostgreSQL, where a publication locks only its collection's rows, it is one transaction.
 */
export async function publishCollection(
  db: Kysely<Database>,
  collectionId: string,
  objects: readonly StixObject[],
  events: readonly MispEventDraft[],
  now: Date = new Date(),
  /**
   * Test hooks: `planned` runs between the plan and its transaction (another build overtaking this
   * one), `locked` inside the transaction once this build holds the state row, before it writes
   * (another build waiting for the row), `between` after a part of a publication written in parts,
   * before the next.
   */
  hooks: { planned?: () => Promise<void>; locked?: () => Promise<void>; between?: () => Promise<void> } = {},
  /** Parts of the write; by default {@link PUBLISH_PART_MS} on SQLite, one transaction on PostgreSQL. */
  parts: PublishParts = dialectOf(db) === 'sqlite'
    ? { partMs: PUBLISH_PART_MS, pauseMs: PUBLISH_PAUSE_MS }
    : { partMs: Number.POSITIVE_INFINITY, pauseMs: 0 },
): Promise<PublishResult> {
  await ensureState(db, collectionId);
  const desired = { objects, hashes: objects.map((o) => contentHash(o)) };
  const drafts = { drafts: events, hashes: events.map((e) => sha256(JSON.stringify(e.event))) };
  const seen = await readState(db, collectionId);
  const planned = await planPublish(db, collectionId, desired, drafts, seen, now);
  await hooks.planned?.();
  const first = await db.transaction().execute(async (trx) => {
    // On PostgreSQL a lock this build waits for ends the wait after PUBLISH_LOCK_TIMEOUT: a build stuck
    // behind a lock would hold every later build back, and ending its thread does not end its wait on the
    // server. (SQLite's wait is its busy_timeout.)
    if (dialectOf(db) === 'postgres') await sql`SET LOCAL lock_timeout = ${sql.lit(PUBLISH_LOCK_TIMEOUT)}`.execute(trx);
    // Taking the row first serialises builders (a row lock on PostgreSQL, the write lock on SQLite).
    const unchanged = await trx
      .updateTable('intel_state')
      .set({ built_at: msLater(now.toISOString(), seen.built_at) })
      .where('collection_id', '=', collectionId)
      .where('last_seq', '=', seen.last_seq)
      .where((eb) => (seen.built_at === null ? eb('built_at', 'is', null) : eb('built_at', '=', seen.built_at)))
      .executeTakeFirst();
    let plan = planned;
    let builtAt = msLater(now.toISOString(), seen.built_at);
    let startSeq = seen.last_seq;
    if (Number(unchanged.numUpdatedRows) !== 1) {
      // Another build committed since the plan was made: the row is locked first, then read and
      // the plan made again under the lock.
      await trx
        .updateTable('intel_state')
        .set((eb) => ({ built_at: eb.ref('built_at') }))
        .where('collection_id', '=', collectionId)
        .execute();
      const state = await readState(trx, collectionId);
      builtAt = msLater(now.toISOString(), state.built_at);
      startSeq = state.last_seq;
      await trx
        .updateTable('intel_state')
        .set({ built_at: builtAt })
        .where('collection_id', '=', collectionId)
        .execute();
      plan = await planPublish(trx, collectionId, desired, drafts, state, now);
    }
    await hooks.locked?.();
    const cursor = { row: 0, superseded: 0, update: 0, insert: 0 };
    await writePart(trx, collectionId, plan, cursor, performance.now() + parts.partMs);
    return { plan, builtAt, startSeq, cursor };
  });
  const { plan, startSeq, cursor } = first;
  let builtAt = first.builtAt;
  const result: PublishResult = {
    ...plan.objects.counts,
    mispChanged: plan.events.changed,
    mispWithdrawn: plan.events.withdrawn,
  };
  while (!writtenAll(plan, cursor)) {
    await hooks.between?.();
    await new Promise((resolve) => setTimeout(resolve, parts.pauseMs));
    const going = await db.transaction().execute(async (trx) => {
      // The state row as this build's last part left it, else another build came between: it planned from
      // the parts written, and what is left of this plan is stale. Each part moves `built_at` on, so a build
      // that read the state before this part finds it moved even when the part writes only MISP events
      // (`last_seq` unchanged), and plans again under the lock.
      const next = msLater(builtAt, builtAt);
      const ours = await trx
        .updateTable('intel_state')
        .set({ built_at: next })
        .where('collection_id', '=', collectionId)
        .where('built_at', '=', builtAt)
        .where('last_seq', '=', writtenSeq(plan, cursor, startSeq))
        .executeTakeFirst();
      if (Number(ours.numUpdatedRows) !== 1) return false;
      builtAt = next;
      await writePart(trx, collectionId, plan, cursor, performance.now() + parts.partMs);
      return true;
    });
    if (!going) return { ...result, interrupted: true };
  }
  return result;
}

/** Where a publication written in parts has got to: indexes into the plan's lists. */
interface PartCursor {
  row: number;
  superseded: number;
  update: number;
  insert: number;
}

function writtenAll(plan: PublishPlan, c: PartCursor): boolean {
  return (
    c.row >= plan.objects.rows.length &&
    c.superseded >= plan.objects.superseded.length &&
    c.update >= plan.events.updates.length &&
    c.insert >= plan.events.inserts.length
  );
}

/** The state row's `last_seq` once the parts written so far are committed. */
function writtenSeq(plan: PublishPlan, c: PartCursor, before: number): number {
  return c.row === 0 ? before : Number(plan.objects.rows[c.row - 1].seq);
}

/**
 * Writes the plan from `c` on, a statement at a time, until it is written or `until` (a
 * `performance.now()` time) has passed; at least one statement per call. Versions go first, each
 * batch with the superseding it causes and the state row moved to its last version, then the MISP
 * events: whatever the part ends at is a state a reader may see.
 */
async function writePart(
  trx: Transaction<Database>,
  collectionId: string,
  plan: PublishPlan,
  c: PartCursor,
  until: number,
): Promise<void> {
  const { rows, superseded } = plan.objects;
  const moreTime = () => performance.now() < until;
  let wroteRows = false;
  do {
    if (c.row < rows.length) {
      const batch = rows.slice(c.row, c.row + INSERT_BATCH);
      await trx.insertInto('intel_objects').values(batch).execute();
      c.row += batch.length;
      wroteRows = true;
      // The versions these supersede (all that are left once the last version is written).
      const lastSeq = c.row === rows.length ? Number.POSITIVE_INFINITY : Number(batch[batch.length - 1].seq);
      for (; c.superseded < superseded.length && superseded[c.superseded].by <= lastSeq; c.superseded++) {
        const s = superseded[c.superseded];
        await trx
          .updateTable('intel_objects')
          .set({ superseded_seq: s.by })
          .where('collection_id', '=', collectionId)
          .where('seq', '=', s.seq)
          .execute();
      }
    } else if (c.update < plan.events.updates.length) {
      const u = plan.events.updates[c.update++];
      await trx
        .updateTable('intel_misp_events')
        .set(u.set)
        .where('collection_id', '=', collectionId)
        .where('uuid', '=', u.uuid)
        .execute();
    } else if (c.insert < plan.events.inserts.length) {
      const batch = plan.events.inserts.slice(c.insert, c.insert + EVENT_INSERT_BATCH);
      await trx.insertInto('intel_misp_events').values(batch).execute();
      c.insert += batch.length;
    } else break;
  } while (moreTime());
  if (wroteRows) {
    const last = rows[c.row - 1];
    await trx
      .updateTable('intel_state')
      .set({ last_seq: Number(last.seq), last_date_added: last.date_added })
      .where('collection_id', '=', collectionId)
      .execute();
  }
}

/** The versions a build writes and the versions they supersede. */
interface ObjectPlan {
  rows: Database['intel_objects'][];
  superseded: { seq: number; by: number }[];
  counts: Omit<PublishResult, 'mispChanged' | 'mispWithdrawn'>;
}

async function planObjects(
  db: Kysely<Database>,
  collectionId: string,
  objects: readonly StixObject[],
  /** {@link contentHash} of each of `objects`, in their order. */
  hashes: readonly string[],
  state: PublishState,
  now: Date,
): Promise<ObjectPlan> {
  const currentRows = await db
    .selectFrom('intel_objects')
    .select(['object_id', 'seq', 'content_hash', 'revoked', 'version', 'created', 'type'])
    .where('collection_id', '=', collectionId)
    .where('superseded_seq', 'is', null)
    .execute();
  const current = new Map<string, Current>();
  for (const r of currentRows)
    current.set(r.object_id, {
      seq: Number(r.seq),
      hash: r.content_hash,
      revoked: Number(r.revoked) === 1,
      version: r.version,
      created: r.created,
      type: r.type,
    });
  const { objects: live, hashes: liveHashes } = afterRevocation(objects, hashes, current);
  let seq = Number(state.last_seq);
  let added = microsOf(state.last_date_added);
  const nowUs = BigInt(now.getTime()) * 1000n;
  const nowIso = now.toISOString();
  const rows: Database['intel_objects'][] = [];
  const superseded: { seq: number; by: number }[] = [];
  const counts = { added: 0, updated: 0, revoked: 0 };
  const push = (
    o: Record<string, unknown> & { id: string; type: string },
    version: string,
    prev: Current | undefined,
  ) => {
    seq += 1;
    added = added >= nowUs ? added + 1n : nowUs;
    rows.push({
      collection_id: collectionId,
      seq,
      object_id: o.id,
      type: o.type,
      version,
      created: String(o.created ?? version),
      date_added: microsTimestamp(added),
      content_hash: contentHash(o),
      revoked: o.revoked === true ? 1 : 0,
      superseded_seq: null,
      json: JSON.stringify(o),
    });
    if (prev) superseded.push({ seq: prev.seq, by: seq });
  };
  const wanted = new Set<string>();
  // The producer's identity and the marking definitions first: every other object refers to them, and a
  // reader between two parts of a publication (SQLite) finds them already there.
  const order = [...live.keys()].sort(
    (a, b) => Number(!PERMANENT_TYPES.has(live[a].type)) - Number(!PERMANENT_TYPES.has(live[b].type)),
  );
  for (const i of order) {
    const o = live[i];
    wanted.add(o.id);
    const prev = current.get(o.id);
    if (o.type === 'marking-definition') {
      // Fixed by the specification: published once, never versioned.
      if (!prev) {
        push(o, String(o.created), undefined);
        counts.added++;
      }
      continue;
    }
    if (prev && prev.hash === liveHashes[i] && !prev.revoked) continue;
    const created = prev ? prev.created : nowIso;
    const modified = msLater(nowIso, prev ? prev.version : null);
    const { id, type, spec_version, ...rest } = o;
    push({ type, spec_version, id, created, modified, ...rest }, modified, prev);
    if (prev) counts.updated++;
    else counts.added++;
  }
  for (const [id, prev] of current) {
    if (wanted.has(id) || prev.revoked || PERMANENT_TYPES.has(prev.type)) continue;
    const oldRow = await db
      .selectFrom('intel_objects')
      .select('json')
      .where('collection_id', '=', collectionId)
      .where('seq', '=', prev.seq)
      .executeTakeFirstOrThrow();
    const old = JSON.parse(oldRow.json) as Record<string, unknown> & { id: string; type: string };
    const modified = msLater(nowIso, prev.version);
    push({ ...old, modified, revoked: true }, modified, prev);
    counts.revoked++;
  }
  return { rows, superseded, counts };
}

/**
 * The id a value takes when it is published again after its object was revoked: STIX 2.1 makes revocation
 * final (§3.6: no later version of a revoked object may be made), so a value a build refused or a campaign
 * the gates held, published again, becomes a new object. Its id is a UUIDv5 of the revoked id and the
 * revoking version's seq: every later build derives the same one (the revoked version stays the revoked
 * id's latest), and a value revoked twice gets a third id.
 */
export function idAfterRevocation(revokedId: string, revokedSeq: number): string {
  const cut = revokedId.indexOf('--');
  return `${revokedId.slice(0, cut)}--${uuidV5(revokedId.slice(cut + 2), `after-revocation:${revokedSeq}`)}`;
}

/**
 * `objects` with every id whose latest stored version is revoked moved to {@link idAfterRevocation} (again
 * while that one is revoked too), in the objects' `id` and in every top-level `*_ref` and `*_refs` of every
 * object (relationships, sightings), their hashes worked out again where they changed.
 */
function afterRevocation(
  objects: readonly StixObject[],
  hashes: readonly string[],
  current: ReadonlyMap<string, Current>,
): { objects: readonly StixObject[]; hashes: readonly string[] } {
  const moved = new Map<string, string>();
  for (const o of objects) {
    if (PERMANENT_TYPES.has(o.type)) continue;
    let id = o.id;
    for (let prev = current.get(id); prev?.revoked; prev = current.get(id)) id = idAfterRevocation(id, prev.seq);
    if (id !== o.id) moved.set(o.id, id);
  }
  if (moved.size === 0) return { objects, hashes };
  const to = (v: unknown): unknown => (typeof v === 'string' ? (moved.get(v) ?? v) : v);
  const outHashes = [...hashes];
  const out = objects.map((o, i) => {
    let changed = false;
    const next: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      const w = k === 'id' || k.endsWith('_ref') ? to(v) : k.endsWith('_refs') && Array.isArray(v) ? v.map(to) : v;
      if (Array.isArray(w) ? w.some((x, j) => x !== (v as unknown[])[j]) : w !== v) changed = true;
      next[k] = w;
    }
    if (!changed) return o;
    outHashes[i] = contentHash(next);
    return next as StixObject;
  });
  return { objects: out, hashes: outHashes };
}

interface StoredEvent {
  Event: MispEventDraft['event'] & {
    timestamp: string;
    publish_timestamp: string;
    id: string;
    org_id: string;
    orgc_id: string;
    attribute_count: string;
    Attribute: MispAttribute[];
  };
}

function eventHash(e: MispEventDraft['event'], attributes: readonly MispAttribute[]): string {
  return sha256(JSON.stringify({ ...e, Attribute: attributes.map(({ timestamp: _t, ...a }) => a) }));
}

/** The MISP events a build writes: new ones inserted, changed ones replaced. */
interface EventPlan {
  inserts: Database['intel_misp_events'][];
  updates: {
    uuid: string;
    set: Pick<Database['intel_misp_events'], 'content_hash' | 'draft_hash' | 'timestamp' | 'json' | 'campaign_id'>;
  }[];
  changed: number;
  withdrawn: number;
}

async function planEvents(
  db: Kysely<Database>,
  collectionId: string,
  events: readonly MispEventDraft[],
  /** The draft hash of each of `events`, in their order. */
  draftHashes: readonly string[],
  now: Date,
): Promise<EventPlan> {
  const rows = await db
    .selectFrom('intel_misp_events')
    .select(['uuid', 'event_id', 'content_hash', 'draft_hash', 'timestamp'])
    .where('collection_id', '=', collectionId)
    .execute();
  const current = new Map(rows.map((r) => [r.uuid, r]));
  let nextId = rows.reduce((m, r) => Math.max(m, Number(r.event_id)), 0);
  const nowS = Math.floor(now.getTime() / 1000);
  const plan: EventPlan = { inserts: [], updates: [], changed: 0, withdrawn: 0 };
  const stored = async (uuid: string): Promise<StoredEvent['Event']> => {
    const r = await db
      .selectFrom('intel_misp_events')
      .select('json')
      .where('collection_id', '=', collectionId)
      .where('uuid', '=', uuid)
      .executeTakeFirstOrThrow();
    return (JSON.parse(r.json) as StoredEvent).Event;
  };
  const write = async (
    draft: MispEventDraft['event'],
    campaignId: string,
    prev: (typeof rows)[number] | undefined,
    draftHash: string,
  ): Promise<void> => {
    // The common case, an unchanged campaign, is decided without reading the stored event.
    if (prev && prev.draft_hash === draftHash) return;
    const before = prev ? await stored(draft.uuid) : null;
    // An attribute published before and gone now stays, deleted, so the subscriber drops it too.
    const have = new Set(draft.Attribute.map((a) => a.uuid));
    const gone = (before?.Attribute ?? []).filter((a) => !have.has(a.uuid)).map((a) => ({ ...a, deleted: true }));
    const attributes = [...draft.Attribute, ...gone].sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
    const hash = eventHash(draft, attributes);
    if (prev && prev.content_hash === hash) return;
    const ts = Math.max(nowS, prev ? Number(prev.timestamp) + 1 : 0);
    const eventId = prev ? Number(prev.event_id) : ++nextId;
    const oldStamps = new Map((before?.Attribute ?? []).map((a) => [a.uuid, a]));
    const stamped = attributes.map((a) => {
      const o = oldStamps.get(a.uuid);
      const same =
        o && JSON.stringify({ ...o, timestamp: undefined }) === JSON.stringify({ ...a, timestamp: undefined });
      return { ...a, event_id: String(eventId), timestamp: same && o.timestamp ? o.timestamp : String(ts) };
    });
    const event = {
      Event: {
        id: String(eventId),
        org_id: '1',
        orgc_id: '1',
        ...draft,
        timestamp: String(ts),
        publish_timestamp: String(ts),
        attribute_count: String(stamped.filter((a) => !a.deleted).length),
        Attribute: stamped,
      },
    };
    const json = JSON.stringify(event);
    if (prev)
      plan.updates.push({
        uuid: draft.uuid,
        set: { content_hash: hash, draft_hash: draftHash, timestamp: ts, json, campaign_id: campaignId },
      });
    else
      plan.inserts.push({
        collection_id: collectionId,
        uuid: draft.uuid,
        campaign_id: campaignId,
        event_id: eventId,
        content_hash: hash,
        draft_hash: draftHash,
        timestamp: ts,
        json,
      });
    plan.changed++;
  };
  const wanted = new Set<string>();
  for (const [i, e] of events.entries()) {
    wanted.add(e.uuid);
    await write(e.event, e.campaignId, current.get(e.uuid), draftHashes[i]);
  }
  for (const [uuid, prev] of current) {
    if (wanted.has(uuid) || prev.draft_hash === WITHDRAWN) continue;
    const before = await stored(uuid);
    const {
      id: _i,
      org_id: _o,
      orgc_id: _c,
      timestamp: _t,
      publish_timestamp: _p,
      attribute_count: _a,
      ...rest
    } = before;
    const info = before.info.startsWith('[withdrawn] ') ? before.info : `[withdrawn] ${before.info}`;
    await write({ ...rest, info, Attribute: [] }, (await campaignOf(db, collectionId, uuid)) ?? '', prev, WITHDRAWN);
    plan.withdrawn++;
  }
  plan.changed -= plan.withdrawn;
  return plan;
}

async function campaignOf(db: Kysely<Database>, collectionId: string, uuid: string): Promise<string | null> {
  const r = await db
    .selectFrom('intel_misp_events')
    .select('campaign_id')
    .where('collection_id', '=', collectionId)
    .where('uuid', '=', uuid)
    .executeTakeFirst();
  return r?.campaign_id ?? null;
}
