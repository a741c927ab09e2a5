/**
 * The audit log: every view, export and outbound copy of evidence — who, what, when, from where —
 * in an append-only hash chain. Entry n carries the hash of entry n-1 and its own hash over its
 * fields and that link (audit-hash.ts), so `spamdesk audit verify` detects an edited entry, a
 * removed or inserted one, and a chain cut short (the head row records the last entry).
 *
 * Appends are serialised on both engines by updating the one `audit_head` row first: on
 * PostgreSQL that row lock makes a second appender wait until the first commits (then it reads
 * the new head), on SQLite the write takes the database's single write lock before the head is
 * read, so two processes can never both append entry n (and `seq` is unique besides). Appends
 * from outside a transaction are grouped: those arriving within {@link AUDIT_GROUP_MS} share one
 * transaction (and one fsync), so audited views under load cost intake one short write, not one
 * per view. Inside a caller's transaction (a referral, an outbox entry) the entry commits or rolls
 * back with the action it records.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { newId, nowIso } from '../core/ids.ts';
import { GENESIS_HASH, auditEntryHash } from '../db/audit-hash.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  subject: string;
  ip?: string | null;
  detail?: Record<string, unknown> | null;
}

/** Most entries appended in one grouped transaction. */
const MAX_BATCH = 500;
/**
 * How long an append outside a transaction waits for others to share its transaction. Each
 * transaction is an fsync on SQLite (synchronous=FULL), which stalls the event loop intake shares:
 * grouping views that arrive within this window makes one fsync of several; a reader waits at
 * most this much longer.
 */
export const AUDIT_GROUP_MS = 20;

interface Pending {
  entries: { e: AuditEntry; resolve: () => void; reject: (err: unknown) => void }[];
  scheduled: boolean;
}

/** Appends waiting for the next grouped transaction, per database handle. */
const pending = new WeakMap<Kysely<Database>, Pending>();

/**
 * Appends an entry to the audit chain. Inside a transaction it is part of that transaction;
 * otherwise it is grouped with the other appends of this event-loop turn and committed before the
 * promise resolves (audit before serving: a view that cannot be recorded is not served).
 */
export function writeAudit(db: Kysely<Database>, e: AuditEntry): Promise<void> {
  if (db.isTransaction) return appendEntries(db, [e]);
  let p = pending.get(db);
  if (!p) {
    p = { entries: [], scheduled: false };
    pending.set(db, p);
  }
  const queue = p;
  return new Promise<void>((resolve, reject) => {
    queue.entries.push({ e, resolve, reject });
    if (queue.scheduled) return;
    queue.scheduled = true;
    setTimeout(() => void flush(db, queue), AUDIT_GROUP_MS);
  });
}

async function flush(db: Kysely<Database>, p: Pending): Promise<void> {
  while (p.entries.length > 0) {
    const batch = p.entries.splice(0, MAX_BATCH);
    try {
      await db.transaction().execute((trx) =>
        appendEntries(
          trx,
          batch.map((b) => b.e),
        ),
      );
      for (const b of batch) b.resolve();
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
  p.scheduled = false;
}

/** Appends entries in order, inside the caller's transaction. */
export async function appendEntries(trx: Kysely<Database>, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const at = nowIso();
  // The lock first: see the module comment.
  await trx.updateTable('audit_head').set({ updated_at: at }).where('id', '=', 1).execute();
  const head = await trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  let seq = Number(head.seq);
  let prev = head.hash;
  const rows = entries.map((e) => {
    seq++;
    const fields = {
      seq,
      at,
      actor: e.actor.slice(0, 500),
      action: e.action.slice(0, 64),
      subject: e.subject.slice(0, 2000),
      ip: e.ip ?? null,
      detail: e.detail ? JSON.stringify(e.detail) : null,
      prev_hash: prev,
    };
    const hash = auditEntryHash(fields);
    prev = hash;
    return { id: newId(), ...fields, hash };
  });
  for (let i = 0; i < rows.length; i += 100)
    await trx
      .insertInto('audit_log')
      .values(rows.slice(i, i + 100))
      .execute();
  await trx.updateTable('audit_head').set({ seq, hash: prev, updated_at: at }).where('id', '=', 1).execute();
}

export async function listAudit(db: Kysely<Database>, opts: { limit?: number; before?: string } = {}) {
  let q = db
    .selectFrom('audit_log')
    .selectAll()
    .orderBy('seq', 'desc')
    .limit(Math.min(opts.limit ?? 100, 1000));
  if (opts.before && /^\d+$/.test(opts.before)) q = q.where('seq', '<', Number(opts.before));
  return q.execute();
}

export interface AuditVerification {
  ok: boolean;
  /** Entries whose hash was recomputed. */
  checked: number;
  /** The chain starts after this entry (pruned by retention), or 0. */
  startsAfter: number;
  /** The last entry: publish or note it (`--anchor`) to detect a later rewrite of the whole chain. */
  head: { seq: number; hash: string } | null;
  problems: string[];
}

/** Most problems listed (a rewritten chain breaks at every entry after the edit). */
const MAX_PROBLEMS = 100;

/**
 * Walks the chain in order and recomputes every hash. Reports: an entry whose fields no longer
 * hash to its recorded hash (edited), a `prev_hash` that is not the previous entry's hash or a
 * missing sequence number (removed, inserted or reordered entries), entries outside the chain,
 * a head row that does not name the last entry (entries removed at the end), and an anchor
 * (`seq:hash` recorded earlier) that the chain no longer holds.
 */
export async function verifyAuditChain(
  db: Kysely<Database>,
  opts: { anchors?: { seq: number; hash: string }[]; onProgress?: (n: number) => void } = {},
): Promise<AuditVerification> {
  const problems: string[] = [];
  const add = (p: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
    else if (problems.length === MAX_PROBLEMS) problems.push('… (more problems not listed)');
  };
  const cp = await db
    .selectFrom('audit_checkpoints')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const startsAfter = cp ? Number(cp.seq) : 0;
  let expected = startsAfter + 1;
  let prev = cp ? cp.hash : GENESIS_HASH;
  let checked = 0;
  let last: { seq: number; hash: string } | null = null;
  const anchors = new Map((opts.anchors ?? []).map((a) => [a.seq, a.hash]));
  const unchained = await db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('seq', 'is', null)
    .executeTakeFirst();
  if (Number(unchained?.n ?? 0) > 0)
    add(`${Number(unchained?.n)} entries are outside the chain (written without a sequence number or hash)`);
  for (let after = startsAfter; ; ) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(1000)
      .execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      const seq = Number(r.seq);
      if (seq !== expected)
        add(
          seq > expected
            ? `entries ${expected}–${seq - 1} are missing (removed?)`
            : `entry ${seq} appears twice or out of order`,
        );
      if (r.prev_hash !== prev)
        add(
          `entry ${seq}: its prev_hash is not the hash of the entry before it (an entry was removed, inserted or \
edited)`,
        );
      const recomputed = auditEntryHash({
        seq,
        at: r.at,
        actor: r.actor,
        action: r.action,
        subject: r.subject,
        ip: r.ip,
        detail: r.detail,
        prev_hash: r.prev_hash ?? '',
      });
      if (recomputed !== r.hash)
        add(
          `entry ${seq} (${r.action} ${r.subject}, ${r.at}): its fields no longer hash to its recorded hash (edited)`,
        );
      const anchor = anchors.get(seq);
      if (anchor !== undefined && anchor !== r.hash)
        add(
          `entry ${seq}: hash ${r.hash ?? '?'} differs from the anchor ${anchor} recorded earlier (the chain was \
rewritten)`,
        );
      anchors.delete(seq);
      prev = r.hash ?? '';
      expected = seq + 1;
      last = { seq, hash: r.hash ?? '' };
      checked++;
      after = seq;
    }
    opts.onProgress?.(checked);
  }
  for (const [seq] of anchors)
    add(`anchor entry ${seq} is no longer in the chain${seq <= startsAfter ? ' (pruned by retention)' : ' (removed)'}`);
  const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
  if (!head) add('the audit head row is missing');
  else if (
    Number(head.seq) !== (last?.seq ?? startsAfter) ||
    head.hash !== (last?.hash ?? (cp ? cp.hash : GENESIS_HASH))
  ) {
    add(
      `the chain ends at entry ${last?.seq ?? startsAfter} but its head records entry ${Number(head.seq)} (entries \
removed at the end, or the head edited)`,
    );
  }
  return { ok: problems.length === 0, checked, startsAfter, head: last, problems };
}

/**
 * Removes the entries older than `before` (retention), at the start of the chain only, and
 * records the last removed entry as a checkpoint so the rest still verifies. Returns how many.
 */
export async function pruneAudit(db: Kysely<Database>, before: string): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await trx.updateTable('audit_head').set({ updated_at: nowIso() }).where('id', '=', 1).execute();
    const last = await trx
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .where('at', '<', before)
      .where('seq', 'is not', null)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!last || last.seq === null || last.hash === null) return 0;
    // Never cut inside the chain: only the prefix up to the newest old entry goes.
    const res = await trx.deleteFrom('audit_log').where('seq', '<=', last.seq).executeTakeFirst();
    const n = Number(res.numDeletedRows);
    await trx
      .insertInto('audit_checkpoints')
      .values({ seq: last.seq, hash: last.hash, pruned: n, created_at: nowIso() })
      .execute();
    return n;
  });
}
