import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { SQLITE_BUSY_TIMEOUT_MS, openDatabase, pollingBegin } from './dialect.ts';

function tempDatabase(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-lock-poll-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'db.sqlite');
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (v INTEGER)');
  db.close();
  return file;
}

test('a writer asking again and again for the lock gives up with SQLITE_BUSY at its timeout, busy wait back', (t) => {
  const file = tempDatabase(t);
  const holder = new BetterSqlite3(file);
  const asker = new BetterSqlite3(file);
  t.after(() => {
    holder.close();
    asker.close();
  });
  holder.exec('BEGIN IMMEDIATE');
  holder.exec('INSERT INTO t VALUES (1)');
  assert.throws(
    () => pollingBegin(asker, 1, 50),
    (e: { code?: string }) => e.code === 'SQLITE_BUSY',
  );
  assert.equal(asker.inTransaction, false);
  assert.equal(asker.pragma('busy_timeout', { simple: true }), SQLITE_BUSY_TIMEOUT_MS);
  holder.exec('COMMIT');
  pollingBegin(asker, 1, 50);
  assert.equal(asker.inTransaction, true);
  assert.deepEqual(asker.prepare('SELECT count(*) AS n FROM t').get(), { n: 1 });
  asker.exec('ROLLBACK');
  assert.equal(asker.pragma('busy_timeout', { simple: true }), SQLITE_BUSY_TIMEOUT_MS);
});

test('a writer asking for the lock gets it once another thread’s transaction commits, and sees its row', async (t) => {
  const file = tempDatabase(t);
  // Another thread takes the lock, says so, holds it a moment, writes and commits.
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const db = new (require('better-sqlite3'))(workerData);
     db.exec('BEGIN IMMEDIATE');
     parentPort.postMessage('held');
     Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
     db.exec('INSERT INTO t VALUES (7)');
     db.exec('COMMIT');
     db.close();`,
    { eval: true, workerData: file },
  );
  const ended = new Promise((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
  await new Promise((resolve) => worker.once('message', resolve));
  const kysely = openDatabase({ dialect: 'sqlite', path: file }, { lockPoll: { everyMs: 1 } });
  t.after(() => kysely.destroy());
  // The transaction begins only after the other thread's commit: it reads the row the other thread wrote.
  const seen = await kysely.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('t' as never)
      .select('v' as never)
      .execute();
    return (rows as { v: number }[]).map((r) => r.v);
  });
  assert.deepEqual(seen, [7]);
  await ended;
});
