/**
 * Evidence area: the audit log becomes an append-only hash chain. Each entry gets a sequence
 * number (unique: two writers can never both append entry n) and carries the hash of the previous
 * entry; `audit_head` holds the last entry's number and hash (one row, which every append updates
 * first, so appends are serialised on both engines) and `audit_checkpoints` the last pruned
 * entry's, so a chain whose oldest entries were removed by retention still verifies. Entries
 * written before this migration are chained in the order they were written.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { GENESIS_HASH, auditEntryHash } from '../audit-hash.ts';

interface OldRow {
  id: string;
  at: string;
  actor: string;
  action: string;
  subject: string;
  ip: string | null;
  detail: string | null;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_log').addColumn('seq', 'bigint').execute();
  await db.schema.alterTable('audit_log').addColumn('prev_hash', 'varchar(64)').execute();
  await db.schema.alterTable('audit_log').addColumn('hash', 'varchar(64)').execute();
  let prev = GENESIS_HASH;
  let seq = 0;
  let after = '';
  for (;;) {
    const { rows } =
      await sql<OldRow>`select id, at, actor, action, subject, ip, detail from audit_log where id > ${after} order by \
id limit 1000`.execute(db);
    if (rows.length === 0) break;
    for (const r of rows) {
      seq++;
      const hash = auditEntryHash({
        seq,
        at: r.at,
        actor: r.actor,
        action: r.action,
        subject: r.subject,
        ip: r.ip,
        detail: r.detail,
        prev_hash: prev,
      });
      await sql`update audit_log set seq = ${seq}, prev_hash = ${prev}, hash = ${hash} where id = ${r.id}`.execute(db);
      prev = hash;
      after = r.id;
    }
  }
  await db.schema.createIndex('audit_log_seq_idx').on('audit_log').column('seq').unique().execute();
  await db.schema
    .createTable('audit_head')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await sql`insert into audit_head (id, seq, hash, updated_at) values (1, ${seq}, ${prev}, \
${new Date().toISOString()})`.execute(db);
  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('pruned', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_checkpoints').execute();
  await db.schema.dropTable('audit_head').execute();
  await db.schema.dropIndex('audit_log_seq_idx').execute();
  for (const c of ['hash', 'prev_hash', 'seq']) await db.schema.alterTable('audit_log').dropColumn(c).execute();
}
