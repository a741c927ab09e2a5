/**
 * A PostgreSQL session ended under the process (a server restart, `pg_terminate_backend`, the
 * idle-in-transaction timeout the operations guide recommends) fails the work that used it, with the
 * reason, and never crashes the process; the next work gets a fresh connection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestDatabase } from './test-databases.ts';

test('postgres: a session ended in the middle of a transaction fails that transaction, not the process', async (t) => {
  const tdb = await createTestDatabase(t, 'postgres');
  if (!tdb) return;
  t.after(() => tdb.drop());
  const { db } = tdb;
  let uncaught: unknown = null;
  const onUncaught = (e: unknown) => {
    uncaught = e;
  };
  process.on('uncaughtException', onUncaught);
  t.after(() => process.off('uncaughtException', onUncaught));
  let pid = 0;
  const failed = await db
    .transaction()
    .execute(async (trx) => {
      pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0].pid;
      // Another session ends this one while the transaction holds it (checked out of the pool).
      await sql`select pg_terminate_backend(${pid})`.execute(db);
      await new Promise((r) => setTimeout(r, 200));
      await sql`select 1`.execute(trx);
    })
    .then(
      () => null,
      (e: Error) => e,
    );
  assert.ok(failed, 'the transaction on the ended session fails');
  assert.match(String(failed?.message), /terminat|Connection|connection/);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(uncaught, null, `no uncaught error: ${String(uncaught)}`);
  const again = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
  assert.notEqual(again.rows[0].pid, pid, 'the next work runs on a fresh session');
});
