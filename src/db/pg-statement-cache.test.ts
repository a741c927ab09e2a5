/**
 * PostgreSQL connections keep repeated statements prepared (pg-statement-cache.ts): on a real server,
 * through Kysely and through the client itself.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import pg from 'pg';
import { testConfig } from '../core/config.ts';
import { openDatabase } from './dialect.ts';
import { createTestDatabase } from './test-databases.ts';
import { MAX_NAMED, namedStatementCount, StatementCachingClient } from './pg-statement-cache.ts';

/** A scratch database and a caching client on it; the client ends before the database is dropped. */
async function connected(t: TestContext): Promise<{ client: StatementCachingClient; url: string } | null> {
  const tdb = await createTestDatabase(t, 'postgres');
  if (!tdb) return null;
  const db = tdb.config.database;
  const url = db.dialect === 'postgres' ? db.url : '';
  const client = new StatementCachingClient({ connectionString: url });
  await client.connect();
  t.after(async () => {
    await client.end();
    await tdb.drop();
  });
  return { client, url };
}

/** The names of the statements prepared on the connection that runs this. */
async function preparedOn(client: pg.Client): Promise<string[]> {
  // A plain query without parameters: never named itself.
  const r = await client.query('select name from pg_prepared_statements order by name');
  return r.rows.map((x: { name: string }) => x.name);
}

test('postgres: a statement a connection runs a second time is prepared on the server and answers as before; \
texts without parameters and commands are not', async (t) => {
  const setup = await connected(t);
  if (!setup) return;
  const { client } = setup;
  await client.query('create table t (id int primary key, v text)');
  await client.query('insert into t values (1, $1), (2, $2)', ['one', 'two']);
  const q = 'select v from t where id = $1';
  assert.deepEqual((await client.query(q, [1])).rows, [{ v: 'one' }]);
  assert.deepEqual(await preparedOn(client), [], 'once: not prepared');
  for (const [id, v] of [
    [2, 'two'],
    [1, 'one'],
    [3, undefined],
  ] as const)
    assert.deepEqual((await client.query(q, [id])).rows[0]?.v, v);
  assert.deepEqual(await preparedOn(client), ['spamdesk_0']);
  assert.equal(namedStatementCount(client), 1);
  for (let i = 0; i < 3; i++) await client.query('select count(*) from t');
  await client.query('create index t_v on t (v)');
  assert.deepEqual(await preparedOn(client), ['spamdesk_0'], 'no parameters, no name; a command, no name');
});

test('postgres: a column added under a prepared select * fails that query once, then it is prepared again and \
sees the column', async (t) => {
  const setup = await connected(t);
  if (!setup) return;
  const { client, url } = setup;
  await client.query('create table t (id int primary key)');
  await client.query('insert into t values ($1)', [7]);
  const q = 'select * from t where id = $1';
  await client.query(q, [7]);
  await client.query(q, [7]);
  // Another session changes the table, as a migration of a newer release would.
  const other = new pg.Client({ connectionString: url });
  await other.connect();
  await other.query('alter table t add column note text');
  await other.end();
  const failed = await client.query(q, [7]).then(
    () => null,
    (e: { code?: string }) => e,
  );
  assert.equal(failed?.code, '0A000', 'cached plan must not change result type');
  assert.deepEqual((await client.query(q, [7])).rows, [{ id: 7, note: null }]);
  assert.deepEqual(await preparedOn(client), ['spamdesk_0', 'spamdesk_1'], 'prepared again under a new name');
});

test(`postgres: a connection names at most ${MAX_NAMED} statements; texts past that run unnamed`, async (t) => {
  const setup = await connected(t);
  if (!setup) return;
  const { client } = setup;
  // As an `in` list does: one text per length.
  for (let n = 1; n <= MAX_NAMED + 20; n++) {
    const text = `select ${Array.from({ length: n }, (_, i) => `$${i + 1}::int`).join(' + ')} as s`;
    const values = Array.from({ length: n }, () => 1);
    for (let k = 0; k < 2; k++) assert.equal((await client.query(text, values)).rows[0].s, n);
  }
  assert.equal(namedStatementCount(client), MAX_NAMED);
  assert.equal((await preparedOn(client)).length, MAX_NAMED);
});

test('postgres: the pipeline’s connections (openDatabase) prepare the statements Kysely repeats, in and out of \
transactions', async (t) => {
  const tdb = await createTestDatabase(t, 'postgres');
  if (!tdb) return;
  t.after(() => tdb.drop());
  const { db } = tdb;
  // One connection for the whole check: a transaction holds one.
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < 3; i++) {
      const rows = await trx.selectFrom('web_state').select('value').where('key', '=', `k${i}`).execute();
      assert.deepEqual(rows, []);
    }
    const names = await sql<{ name: string; statement: string }>`
      select name, statement from pg_prepared_statements`.execute(trx);
    assert.ok(
      names.rows.some((r) => r.name.startsWith('spamdesk_') && /from "web_state"/.test(r.statement)),
      JSON.stringify(names.rows),
    );
  });
});

test('postgres: SPAMDESK_PG_PREPARED_STATEMENTS=false (a pooler that cannot carry named statements) sends every \
statement unnamed', async (t) => {
  const setup = await connected(t);
  if (!setup) return;
  const config = testConfig({ databaseUrl: setup.url, pgPreparedStatements: 'false' });
  const prepared = (c: typeof config) => (c.database.dialect === 'postgres' ? c.database.preparedStatements : null);
  assert.equal(prepared(config), false);
  assert.equal(prepared(testConfig({ databaseUrl: setup.url })), true);
  const db = openDatabase(config.database);
  t.after(() => db.destroy());
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < 3; i++) await sql`select ${i}::int as n`.execute(trx);
    const names = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(trx);
    assert.deepEqual(names.rows, []);
  });
});
