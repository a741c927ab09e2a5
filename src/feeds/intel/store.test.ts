/**
 * Publishing a collection when builds overlap: each build works out its versions before its
 * transaction, so one that another build overtook must make them again under the lock — whether the
 * other committed before this one's transaction began, or (PostgreSQL) while this one's guarded UPDATE
 * waited for the row. Two builds started together both succeed, every version has its own seq, and
 * the collection ends as the build that committed last wanted it, with the other's extra objects and
 * events withdrawn.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { DIALECTS } from '../../db/test-databases.ts';
import { createTestContext } from '../../app/test-context.ts';
import { DEFAULT_COLLECTION_ID } from '../../db/migrations/0131_feeds-intel.ts';
import BetterSqlite3 from 'better-sqlite3';
import { publishCollection, type PublishParts } from './store.ts';
import { identityObject, type StixObject } from './stix.ts';
import { instanceNamespace, stixId, tlpMarkingObject } from './stix-ids.ts';
import type { MispEventDraft } from './misp.ts';

const NS = instanceNamespace('store.test');
const PRODUCER = { namespace: NS, org: 'Test desk', contact: 'desk@store.test', originValidDays: 7 };

function indicator(n: number, label = 'phishing'): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: stixId('indicator', NS, `amber|ip|${n}`),
    created_by_ref: identityObject(PRODUCER).id,
    object_marking_refs: [String(tlpMarkingObject('amber').id)],
    name: 'Origin address of abusive mail',
    indicator_types: ['malicious-activity'],
    pattern: `[ipv4-addr:value = '45.77.0.${n}']`,
    pattern_type: 'stix',
    pattern_version: '2.1',
    valid_from: '2026-11-30T10:00:00.000Z',
    labels: [label],
  };
}

function event(n: number, info: string): MispEventDraft {
  const uuid = `0b3c8a5e-7d1f-4c2a-9e6b-00000000000${n}`;
  return {
    uuid,
    campaignId: `campaign-${n}`,
    event: {
      uuid,
      info,
      date: '2026-11-30',
      published: true,
      analysis: '2',
      threat_level_id: '2',
      distribution: '0',
      sharing_group_id: '0',
      Orgc: { id: '1', name: 'Test desk', uuid: '5f0c1e7a-1b2c-4d5e-8f90-a1b2c3d4e5f6' },
      Tag: [],
      Attribute: [
        {
          uuid: `1c4d9b6f-8e2a-4d3b-af7c-00000000000${n}`,
          type: 'ip-src',
          category: 'Network activity',
          value: `45.77.0.${n}`,
          to_ids: true,
          distribution: '5',
          comment: '',
          deleted: false,
          first_seen: '2026-11-30T10:00:00.000Z',
          last_seen: '2026-11-30T10:00:00.000Z',
        },
      ],
    },
  };
}

const fixed = (): StixObject[] => [identityObject(PRODUCER), tlpMarkingObject('amber') as StixObject];

type Want = { objects: StixObject[]; events: MispEventDraft[] };
const wantA: Want = { objects: [...fixed(), indicator(1, 'scam'), indicator(2)], events: [event(2, 'two')] };
const wantB: Want = { objects: [...fixed(), indicator(1, 'malware'), indicator(3)], events: [event(3, 'three')] };

type Db = NonNullable<Awaited<ReturnType<typeof createTestContext>>>['ctx']['db'];

/** Each statement its own part, no pause: a publication of many versions in as many transactions as it can. */
const TINY_PARTS: PublishParts = { partMs: 0, pauseMs: 0 };
const WHOLE: PublishParts = { partMs: Number.POSITIVE_INFINITY, pauseMs: 0 };

/** Event `n` with a uuid of the right length for any `n`. */
function eventN(n: number, info: string): MispEventDraft {
  const e = event(1, info);
  const uuid = `0b3c8a5e-7d1f-4c2a-9e6b-${String(n).padStart(12, '0')}`;
  const a = { ...e.event.Attribute[0], uuid: `1c4d9b6f-8e2a-4d3b-af7c-${String(n).padStart(12, '0')}` };
  return {
    uuid,
    campaignId: `campaign-${n}`,
    event: { ...e.event, uuid, Attribute: [{ ...a, value: `45.77.2.${n % 250}` }] },
  };
}

/**
 * Two publications of 250 indicators and 60 events, the second changing every indicator it keeps, a third of the
 * events, and dropping some of each.
 */
const MANY = {
  first: {
    // The producer's identity and marking last, as a build's id order may put them: written first all the same.
    objects: [...Array.from({ length: 250 }, (_, i) => indicator(i + 1)), ...fixed()],
    events: Array.from({ length: 60 }, (_, i) => eventN(i + 1, `event ${i + 1}`)),
  },
  second: {
    objects: [
      ...fixed(),
      ...Array.from({ length: 240 }, (_, i) => indicator(i + 1, (i + 1) % 3 === 0 ? 'scam' : 'malware')),
    ],
    events: Array.from({ length: 55 }, (_, i) =>
      eventN(i + 1, (i + 1) % 3 === 0 ? `event ${i + 1} again` : `event ${i + 1}`),
    ),
  },
};

/** The objects the collection publishes now (current, not revoked). */
function liveObjects(db: Db) {
  return db
    .selectFrom('intel_objects')
    .select('object_id')
    .where('collection_id', '=', DEFAULT_COLLECTION_ID)
    .where('superseded_seq', 'is', null)
    .where('revoked', '=', 0)
    .execute();
}

/** The collection's state row. */
function stateRow(db: Db) {
  return db
    .selectFrom('intel_state')
    .select(['last_seq', 'last_date_added'])
    .where('collection_id', '=', DEFAULT_COLLECTION_ID)
    .executeTakeFirstOrThrow();
}

/** Everything a collection holds, in a comparable form. */
async function collectionState(db: Db): Promise<unknown> {
  const objects = await db
    .selectFrom('intel_objects')
    .select(['seq', 'object_id', 'version', 'date_added', 'content_hash', 'revoked', 'superseded_seq', 'json'])
    .where('collection_id', '=', DEFAULT_COLLECTION_ID)
    .orderBy('seq')
    .execute();
  const events = await db
    .selectFrom('intel_misp_events')
    .select(['uuid', 'event_id', 'content_hash', 'draft_hash', 'timestamp', 'json'])
    .where('collection_id', '=', DEFAULT_COLLECTION_ID)
    .orderBy('uuid')
    .execute();
  const state = await stateRow(db);
  const norm = (rows: Record<string, unknown>[]) =>
    rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
  return {
    objects: norm(objects),
    events: norm(events),
    state: { last_seq: Number(state.last_seq), last_date_added: state.last_date_added },
  };
}

/** What a TAXII reader may rely on at any moment: the state row ends the versions, each supersedes by a real one. */
async function assertConsistent(db: Db, when: string): Promise<void> {
  const rows = await db
    .selectFrom('intel_objects')
    .select(['seq', 'object_id', 'type', 'date_added', 'superseded_seq'])
    .where('collection_id', '=', DEFAULT_COLLECTION_ID)
    .orderBy('seq')
    .execute();
  const state = await stateRow(db);
  const seqs = new Set(rows.map((r) => Number(r.seq)));
  assert.equal(Number(state.last_seq), rows.length, `${when}: the state row's last seq is the last version's`);
  assert.equal(state.last_date_added, rows.at(-1)?.date_added, `${when}: and its date_added`);
  for (const r of rows)
    if (r.superseded_seq !== null)
      assert.ok(seqs.has(Number(r.superseded_seq)), `${when}: version ${r.seq} superseded by one that is there`);
  const current = rows.filter((r) => r.superseded_seq === null).map((r) => r.object_id);
  assert.equal(new Set(current).size, current.length, `${when}: one current version per object`);
  if (rows.some((r) => r.type === 'indicator'))
    for (const o of fixed())
      assert.ok(
        rows.some((r) => r.object_id === o.id),
        `${when}: the ${o.type} the indicators refer to is there`,
      );
}

/** Asserts the collection is what `last` wanted, with what only `other` wanted withdrawn. */
async function assertLastWins(db: Db, last: Want, other: Want): Promise<void> {
  const rows = await db
    .selectFrom('intel_objects')
    .select(['seq', 'object_id', 'revoked', 'superseded_seq', 'json'])
    .where('collection_id', '=', DEFAULT_COLLECTION_ID)
    .orderBy('seq')
    .execute();
  const seqs = rows.map((r) => Number(r.seq));
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => i + 1),
    'every version its own seq, none skipped',
  );
  const current = rows.filter((r) => r.superseded_seq === null);
  assert.equal(new Set(current.map((r) => r.object_id)).size, current.length, 'one current version per object');
  const live = current.filter((r) => Number(r.revoked) === 0);
  assert.deepEqual(
    live.map((r) => r.object_id).sort(),
    last.objects.map((o) => o.id).sort(),
    'the collection is what the last build wanted',
  );
  const label = JSON.parse(String(live.find((r) => r.object_id === indicator(1).id)?.json)).labels[0];
  assert.equal(label, (last.objects[2].labels as string[])[0], 'the changed object at the last build’s version');
  assert.ok(
    current.some((r) => r.object_id === other.objects[3].id && Number(r.revoked) === 1),
    'the other build’s extra object is withdrawn',
  );
  const events = await db
    .selectFrom('intel_misp_events')
    .select(['uuid', 'json', 'event_id'])
    .where('collection_id', '=', DEFAULT_COLLECTION_ID)
    .execute();
  assert.equal(new Set(events.map((e) => Number(e.event_id))).size, events.length, 'event ids distinct');
  const info = (uuid: string) =>
    (JSON.parse(String(events.find((e) => e.uuid === uuid)?.json)) as { Event: { info: string } }).Event.info;
  assert.equal(info(last.events[0].uuid), last.events[0].event.info);
  assert.match(info(other.events[0].uuid), /^\[withdrawn\] /);
  assert.match(info(event(1, 'one').uuid), /^\[withdrawn\] /);
}

for (const dialect of DIALECTS) {
  describe(`intel publishing on ${dialect}`, () => {
    test('a build overtaken between its plan and its transaction plans again under the lock: it sees the other \
build’s versions and withdraws what it no longer wants', async (t) => {
      const h = await createTestContext(t, dialect, { intelBuildIntervalMs: 0 });
      if (!h) return;
      try {
        const db = h.ctx.db;
        await publishCollection(db, DEFAULT_COLLECTION_ID, [...fixed(), indicator(1)], [event(1, 'one')]);
        let overtaken = false;
        const a = await publishCollection(db, DEFAULT_COLLECTION_ID, wantA.objects, wantA.events, new Date(), {
          planned: async () => {
            const b = await publishCollection(db, DEFAULT_COLLECTION_ID, wantB.objects, wantB.events);
            assert.deepEqual([b.added, b.updated, b.revoked], [1, 1, 0]);
            overtaken = true;
          },
        });
        assert.ok(overtaken);
        // Planned alone, A would have added indicator 2, changed indicator 1 and withdrawn nothing.
        assert.deepEqual([a.added, a.updated, a.revoked], [1, 1, 1], JSON.stringify(a));
        // Event 1 was withdrawn by B already; A withdraws B's event 3 (alone it would have withdrawn event 1).
        assert.equal(a.mispWithdrawn, 1, JSON.stringify(a));
        await assertLastWins(db, wantA, wantB);
      } finally {
        await h.close();
      }
    });

    test("a build overtaken by one that changed only a MISP event (last_seq unchanged) plans again: the other's \
attribute stays, deleted", async (t) => {
      const h = await createTestContext(t, dialect, { intelBuildIntervalMs: 0 });
      if (!h) return;
      try {
        const db = h.ctx.db;
        const withAttribute = (k: number): MispEventDraft => {
          const e = event(1, 'one');
          const a = e.event.Attribute[0];
          return {
            ...e,
            event: { ...e.event, Attribute: [{ ...a, uuid: `${a.uuid.slice(0, -1)}${k}`, value: `45.77.1.${k}` }] },
          };
        };
        const objects = [...fixed(), indicator(1)];
        await publishCollection(db, DEFAULT_COLLECTION_ID, objects, [withAttribute(1)]);
        await publishCollection(db, DEFAULT_COLLECTION_ID, objects, [withAttribute(2)], new Date(), {
          planned: async () => {
            await publishCollection(db, DEFAULT_COLLECTION_ID, objects, [withAttribute(3)]);
          },
        });
        const row = await db
          .selectFrom('intel_misp_events')
          .select('json')
          .where('collection_id', '=', DEFAULT_COLLECTION_ID)
          .executeTakeFirstOrThrow();
        const attrs = (JSON.parse(row.json) as { Event: { Attribute: { value: string; deleted: boolean }[] } }).Event
          .Attribute;
        const state = Object.fromEntries(attrs.map((a) => [a.value, a.deleted]));
        assert.deepEqual(state, { '45.77.1.1': true, '45.77.1.2': false, '45.77.1.3': true }, JSON.stringify(attrs));
      } finally {
        await h.close();
      }
    });

    test('a publication written in parts ends exactly as one written whole: the same versions, seqs, dates, \
supersedings, events and state row', async (t) => {
      const whole = await createTestContext(t, dialect, { intelBuildIntervalMs: 0 });
      if (!whole) return;
      const parted = await createTestContext(t, dialect, { intelBuildIntervalMs: 0 });
      try {
        assert.ok(parted);
        const first = new Date('2026-12-05T10:00:00.000Z');
        const second = new Date('2026-12-05T10:10:00.000Z');
        let parts = 0;
        const between = async () => {
          parts++;
          await assertConsistent(parted.ctx.db, `after part ${parts}`);
        };
        for (const [m, now] of [
          [MANY.first, first],
          [MANY.second, second],
        ] as const) {
          const a = await publishCollection(whole.ctx.db, DEFAULT_COLLECTION_ID, m.objects, m.events, now, {}, WHOLE);
          const b = await publishCollection(
            parted.ctx.db,
            DEFAULT_COLLECTION_ID,
            m.objects,
            m.events,
            now,
            { between },
            TINY_PARTS,
          );
          assert.deepEqual(b, a, 'the same counts');
        }
        // 252 + 250 versions in batches of 100 (the second's supersede versions across the batches), 60 events
        // inserted in batches of 20, 23 updated one by one: many parts.
        assert.ok(parts >= 8, `written in ${parts + 2} parts`);
        assert.deepEqual(await collectionState(parted.ctx.db), await collectionState(whole.ctx.db));
      } finally {
        await whole.close();
        await parted?.close();
      }
    });

    test('another build that comes between two parts stops this one (interrupted): the parts written stand and the \
other plans from them', async (t) => {
      const h = await createTestContext(t, dialect, { intelBuildIntervalMs: 0 });
      if (!h) return;
      try {
        const db = h.ctx.db;
        await publishCollection(db, DEFAULT_COLLECTION_ID, [...fixed(), indicator(1)], [event(1, 'one')]);
        const many = [...fixed(), ...Array.from({ length: 250 }, (_, i) => indicator(i + 1, 'scam'))];
        let came = false;
        const a = await publishCollection(
          db,
          DEFAULT_COLLECTION_ID,
          many,
          [event(2, 'two')],
          new Date(),
          {
            between: async () => {
              if (came) return;
              came = true;
              const b = await publishCollection(db, DEFAULT_COLLECTION_ID, wantB.objects, wantB.events);
              // A's first part (100 versions: indicator 1 changed, 2–100 added) is there; B changes indicator 1
              // again, adds 3's version of its own, withdraws 2 and 4–100.
              assert.deepEqual([b.added, b.updated, b.revoked], [0, 2, 98], JSON.stringify(b));
            },
          },
          TINY_PARTS,
        );
        assert.equal(a.interrupted, true);
        await assertConsistent(db, 'at the end');
        const live = await liveObjects(db);
        assert.deepEqual(live.map((r) => r.object_id).sort(), wantB.objects.map((o) => o.id).sort(), 'what B wanted');
        const events = await db
          .selectFrom('intel_misp_events')
          .select('uuid')
          .where('collection_id', '=', DEFAULT_COLLECTION_ID)
          .execute();
        assert.ok(
          !events.some((e) => e.uuid === event(2, 'two').uuid),
          "A's event, planned after its versions, never written",
        );
      } finally {
        await h.close();
      }
    });

    for (const firstTime of [false, true])
      test(`a build that read the state between two parts that write only MISP events plans again under the lock \
(${firstTime ? 'events inserted' : 'events updated'}): no stale event plan, no attribute lost`, async (t) => {
        const h = await createTestContext(t, dialect, { intelBuildIntervalMs: 0 });
        if (!h) return;
        try {
          const db = h.ctx.db;
          const withAttrs = (n: number, attrs: number[]): MispEventDraft => {
            const e = eventN(n, `event ${n}`);
            const base = e.event.Attribute[0];
            const Attribute = attrs.map((k) => ({
              ...base,
              uuid: `1c4d9b6f-8e2a-4d3b-af7c-${String(n * 10 + k).padStart(12, '0')}`,
              value: `45.77.${k}.${n}`,
            }));
            return { ...e, event: { ...e.event, Attribute } };
          };
          const ns = Array.from({ length: firstTime ? 60 : 5 }, (_, i) => i + 1);
          await publishCollection(
            db,
            DEFAULT_COLLECTION_ID,
            fixed(),
            firstTime ? [] : ns.map((n) => withAttrs(n, [0])),
            new Date('2026-12-05T10:00:00.000Z'),
          );
          const now = new Date('2026-12-05T10:05:00.000Z');
          let parts = 0;
          let b: Promise<unknown> = Promise.resolve();
          let letBGo = (): void => undefined;
          const bMayWrite = new Promise<void>((r) => {
            letBGo = r;
          });
          // A writes its events one part at a time; B reads the state after A's first part, and its
          // transaction runs after A's second.
          const a = await publishCollection(
            db,
            DEFAULT_COLLECTION_ID,
            fixed(),
            ns.map((n) => withAttrs(n, [0, 1])),
            now,
            {
              between: async () => {
                parts++;
                if (parts === 1) {
                  let bPlanned = (): void => undefined;
                  const planned = new Promise<void>((r) => {
                    bPlanned = r;
                  });
                  b = publishCollection(
                    db,
                    DEFAULT_COLLECTION_ID,
                    fixed(),
                    ns.map((n) => withAttrs(n, [0, 2])),
                    now,
                    {
                      planned: async () => {
                        bPlanned();
                        await bMayWrite;
                      },
                    },
                  );
                  await planned;
                } else if (parts === 2) {
                  letBGo();
                  await b;
                }
              },
            },
            TINY_PARTS,
          );
          assert.equal(a.interrupted, true);
          const rows = await db
            .selectFrom('intel_misp_events')
            .select(['uuid', 'event_id', 'json'])
            .where('collection_id', '=', DEFAULT_COLLECTION_ID)
            .execute();
          assert.equal(new Set(rows.map((r) => Number(r.event_id))).size, rows.length, 'event ids distinct');
          assert.equal(rows.length, ns.length);
          type Attr = { value: string; deleted: boolean };
          const attrs = new Map(
            rows.map((r) => [r.uuid, (JSON.parse(r.json) as { Event: { Attribute: Attr[] } }).Event.Attribute]),
          );
          for (const n of ns) {
            const got = Object.fromEntries((attrs.get(eventN(n, '').uuid) ?? []).map((x) => [x.value, x.deleted]));
            assert.equal(got[`45.77.0.${n}`], false, `event ${n}: ${JSON.stringify(got)}`);
            assert.equal(got[`45.77.2.${n}`], false, `event ${n}: B's attribute published`);
            // A's attribute: never published (absent) or published and then deleted, never lost while live.
            assert.ok(got[`45.77.1.${n}`] !== false, `event ${n}: ${JSON.stringify(got)}`);
          }
          // A wrote event 1 before B read (A's first part) and event 2 after (its second): B keeps both deleted.
          for (const n of [1, 2])
            assert.equal(
              Object.fromEntries((attrs.get(eventN(n, '').uuid) ?? []).map((x) => [x.value, x.deleted]))[
                `45.77.1.${n}`
              ],
              true,
              `event ${n}: A's attribute stays, deleted`,
            );
        } finally {
          await h.close();
        }
      });

    if (dialect === 'sqlite')
      test("between two parts SQLite's write lock is free: another connection that will not wait writes at \
once", async (t) => {
        const h = await createTestContext(t, dialect, { intelBuildIntervalMs: 0 });
        if (!h) return;
        const where = h.tdb.config.database;
        assert.ok(where.dialect === 'sqlite');
        const other = new BetterSqlite3(where.path, { timeout: 0 });
        try {
          let writes = 0;
          await publishCollection(
            h.ctx.db,
            DEFAULT_COLLECTION_ID,
            MANY.first.objects,
            MANY.first.events,
            new Date(),
            {
              between: async () => {
                other.exec('BEGIN IMMEDIATE');
                other
                  .prepare('update intel_state set built_at = built_at where collection_id = ?')
                  .run(DEFAULT_COLLECTION_ID);
                other.exec('COMMIT');
                writes++;
              },
            },
            TINY_PARTS,
          );
          assert.ok(writes >= 3, `${writes} writes between parts`);
          await assertConsistent(h.ctx.db, 'at the end');
        } finally {
          other.close();
          await h.close();
        }
      });

    // PostgreSQL only: SQLite's builds cannot overlap inside one another's transaction (one write lock).
    if (dialect === 'postgres')
      test('a build that waits for the state row while another build holds it plans again once that one commits \
(PostgreSQL re-reads the row its guarded UPDATE waited for)', { timeout: 60_000 }, async (t) => {
        const h = await createTestContext(t, dialect, { intelBuildIntervalMs: 0 });
        if (!h) return;
        try {
          const db = h.ctx.db;
          await publishCollection(db, DEFAULT_COLLECTION_ID, [...fixed(), indicator(1)], [event(1, 'one')]);
          type Result = Awaited<ReturnType<typeof publishCollection>>;
          let b: Promise<Result> | null = null;
          let openGate = (): void => undefined;
          const gate = new Promise<void>((r) => {
            openGate = r;
          });
          let waited = false;
          const aWaits = async (): Promise<boolean> => {
            const r = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'
            and query ilike 'update%intel_state%'`.execute(db);
            return (r.rows[0]?.n ?? 0) > 0;
          };
          const a = publishCollection(db, DEFAULT_COLLECTION_ID, wantA.objects, wantA.events, new Date(), {
            // A has planned against the first build's state. B now takes the row and holds it, uncommitted.
            planned: async () => {
              await new Promise<void>((holding) => {
                b = publishCollection(db, DEFAULT_COLLECTION_ID, wantB.objects, wantB.events, new Date(), {
                  locked: async () => {
                    holding();
                    await gate;
                  },
                });
              });
            },
          });
          // A's guarded UPDATE waits for B's row; then B writes and commits.
          for (let i = 0; i < 400 && !waited; i++) {
            waited = await aWaits();
            if (!waited) await new Promise((r) => setTimeout(r, 25));
          }
          openGate();
          // Both settled before either is judged, so a failure of A is reported as itself.
          const [bSettled, aSettled] = await Promise.allSettled([b as unknown as Promise<Result>, a]);
          if (aSettled.status === 'rejected') throw aSettled.reason;
          if (bSettled.status === 'rejected') throw bSettled.reason;
          const [bDone, aDone] = [bSettled.value, aSettled.value];
          assert.ok(waited, 'A waited for the row B held');
          assert.deepEqual([bDone.added, bDone.updated, bDone.revoked], [1, 1, 0]);
          // Planned alone, A would have added indicator 2, changed indicator 1 and withdrawn nothing.
          assert.deepEqual([aDone.added, aDone.updated, aDone.revoked], [1, 1, 1], JSON.stringify(aDone));
          assert.equal(aDone.mispWithdrawn, 1, JSON.stringify(aDone));
          await assertLastWins(db, wantA, wantB);
        } finally {
          await h.close();
        }
      });

    test('a value published again after its revocation is a new object: the revoked id gets no later version, \
the objects that refer to it follow the new id, and a second revocation gives a third', async (t) => {
      const h = await createTestContext(t, dialect, { intelBuildIntervalMs: 0 });
      if (!h) return;
      try {
        const db = h.ctx.db;
        const campaign: StixObject = {
          type: 'campaign',
          spec_version: '2.1',
          id: stixId('campaign', NS, 'amber|campaign|c1'),
          created_by_ref: identityObject(PRODUCER).id,
          name: 'Campaign c1',
        };
        const indicates: StixObject = {
          type: 'relationship',
          spec_version: '2.1',
          id: stixId('relationship', NS, `amber|indicates|${indicator(2).id}|${campaign.id}`),
          created_by_ref: identityObject(PRODUCER).id,
          relationship_type: 'indicates',
          source_ref: indicator(2).id,
          target_ref: campaign.id,
        };
        const withTwo = [...fixed(), indicator(1), indicator(2), campaign, indicates];
        const withoutTwo = [...fixed(), indicator(1), campaign];
        const publish = async (objects: StixObject[]) => {
          const r = await publishCollection(db, DEFAULT_COLLECTION_ID, objects, []);
          await assertConsistent(db, JSON.stringify(r));
          return [r.added, r.updated, r.revoked];
        };
        const current = async () =>
          new Map(
            (
              await db
                .selectFrom('intel_objects')
                .select(['object_id', 'revoked', 'json'])
                .where('collection_id', '=', DEFAULT_COLLECTION_ID)
                .where('superseded_seq', 'is', null)
                .execute()
            ).map((r) => [r.object_id, { revoked: Number(r.revoked) === 1, o: JSON.parse(r.json) }]),
          );
        assert.deepEqual(await publish(withTwo), [6, 0, 0]);
        assert.deepEqual(await publish(withoutTwo), [0, 0, 2], 'the indicator and its relationship revoked');
        assert.deepEqual(await publish(withTwo), [2, 0, 0], 'published again: two new objects, no new version');
        let now = await current();
        assert.equal(now.get(indicator(2).id)?.revoked, true, 'the first id stays revoked');
        assert.equal(now.get(indicates.id)?.revoked, true);
        const live = [...now.values()].filter((v) => !v.revoked && v.o.type !== 'marking-definition');
        const second = live.find((v) => v.o.type === 'indicator' && v.o.pattern === indicator(2).pattern)?.o;
        assert.ok(second && second.id !== indicator(2).id, 'the value under a new id');
        const rel = live.find((v) => v.o.type === 'relationship')?.o;
        assert.equal(rel?.source_ref, second.id, 'the relationship refers to the new id');
        assert.equal(rel?.target_ref, campaign.id);
        assert.notEqual(rel?.id, indicates.id);
        assert.deepEqual(await publish(withTwo), [0, 0, 0], 'the next build derives the same new ids');
        assert.deepEqual(await publish(withoutTwo), [0, 0, 2]);
        assert.deepEqual(await publish(withTwo), [2, 0, 0]);
        now = await current();
        const third = [...now.values()].find(
          (v) => !v.revoked && v.o.type === 'indicator' && v.o.pattern === indicator(2).pattern,
        )?.o;
        assert.ok(third && third.id !== second.id && third.id !== indicator(2).id, 'a second revocation, a third id');
        const rows = await db
          .selectFrom('intel_objects')
          .select(['object_id', 'seq', 'revoked'])
          .where('collection_id', '=', DEFAULT_COLLECTION_ID)
          .orderBy('seq')
          .execute();
        const revokedAt = new Map<string, number>();
        for (const r of rows) {
          assert.ok(!revokedAt.has(r.object_id), `no version of ${r.object_id} after its revocation`);
          if (Number(r.revoked) === 1) revokedAt.set(r.object_id, Number(r.seq));
        }
      } finally {
        await h.close();
      }
    });

    test('two builds started together both succeed, every seq once, the last build wins', async (t) => {
      const h = await createTestContext(t, dialect, { intelBuildIntervalMs: 0 });
      if (!h) return;
      try {
        const db = h.ctx.db;
        await publishCollection(db, DEFAULT_COLLECTION_ID, [...fixed(), indicator(1)], [event(1, 'one')]);
        await Promise.all([
          publishCollection(db, DEFAULT_COLLECTION_ID, wantA.objects, wantA.events),
          publishCollection(db, DEFAULT_COLLECTION_ID, wantB.objects, wantB.events),
        ]);
        const live = await liveObjects(db);
        const lastIsB = live.some((r) => r.object_id === indicator(3).id);
        await assertLastWins(db, lastIsB ? wantB : wantA, lastIsB ? wantA : wantB);
      } finally {
        await h.close();
      }
    });
  });
}
