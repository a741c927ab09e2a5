/**
 * `SPAMDESK_SQL_PROFILE`: a process that runs statements through `openDatabase` with it set writes, when it ends,
 * each statement's count and time (runs of placeholders written once, commits apart), costliest first; without it,
 * nothing is written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { addStatement, profileRows, statementKey, type SqlProfile } from './sql-profile.ts';

test('statements are summed under their text with each run of placeholders written once', () => {
  assert.equal(
    statementKey('insert into "t" ("a", "b") values (?, ?), (?, ?)'),
    'insert into "t" ("a", "b") values (?, …), (?, …)',
  );
  assert.equal(statementKey('select *\n  from "t" where id in (?, ?, ?)'), 'select * from "t" where id in (?, …)');
  const p: SqlProfile = new Map();
  addStatement('select 1 where a = ?', 2, p);
  addStatement('select 1 where a = ?', 3, p);
  addStatement('commit', 9, p);
  assert.deepEqual(profileRows(p), [
    { sql: 'commit', n: 1, ms: 9 },
    { sql: 'select 1 where a = ?', n: 2, ms: 5 },
  ]);
});

test('a process with SPAMDESK_SQL_PROFILE writes its statements when it ends, one without writes nothing', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlprof-'));
  try {
    const dialect = JSON.stringify(new URL('./dialect.ts', import.meta.url).href);
    const script = `
      const { openDatabase } = await import(${dialect});
      const db = openDatabase({ dialect: 'sqlite', path: process.env.DB_PATH });
      await db.schema.createTable('t').addColumn('a', 'integer').execute();
      for (const n of [1, 2, 3])
        await db.transaction().execute((trx) => trx.insertInto('t').values({ a: n }).execute());
      await db.insertInto('t').values([{ a: 4 }, { a: 5 }]).execute();
      await db.destroy();`;
    let runs = 0;
    const run = (env: Record<string, string>) =>
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: { ...process.env, ...env, DB_PATH: path.join(dir, `run${runs++}.db`) },
        stdio: 'pipe',
      });
    run({ SPAMDESK_SQL_PROFILE: path.join(dir, 'prof') });
    const files = fs.readdirSync(dir).filter((f) => f.startsWith('prof.'));
    assert.equal(files.length, 1, files.join(', '));
    assert.match(files[0], /^prof\.\d+\.0\.json$/);
    const rows = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8')) as {
      sql: string;
      n: number;
      ms: number;
    }[];
    const of = (sql: string) => rows.find((r) => r.sql === sql);
    assert.equal(of('commit')?.n, 3);
    assert.equal(of('insert into "t" ("a") values (?)')?.n, 3);
    assert.equal(of('insert into "t" ("a") values (?), (?)')?.n, 1);
    assert.ok(rows.every((r) => r.ms >= 0));
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].ms >= rows[i].ms, 'costliest first');
    fs.rmSync(path.join(dir, files[0]));
    run({ SPAMDESK_SQL_PROFILE: '' });
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.startsWith('prof')),
      [],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
