import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, DIALECTS } from './test-databases.ts';
import { openSingletonLocks, singletonKey } from './singleton-locks.ts';

for (const dialect of DIALECTS) {
  test(`${dialect}: a singleton is held by one lock set at a time, and another takes it over once the holder lets \
go`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    const a = openSingletonLocks(tdb.config.database, { pollMs: 50 });
    const b = openSingletonLocks(tdb.config.database, { pollMs: 50 });
    try {
      assert.equal(await a.want('roll-ups'), true, 'the first to ask takes it');
      assert.equal(await b.want('roll-ups'), false, 'the second waits');
      assert.equal(await b.want('digests'), true, 'another name is another lock');
      assert.equal(await a.want('digests'), false);
      await b.poll();
      assert.equal(b.held('roll-ups'), false, 'a poll does not take a held lock');
      await a.close();
      for (let i = 0; i < 100 && !b.held('roll-ups'); i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(b.held('roll-ups'), true, 'the waiting set takes over on its next poll');
      assert.equal(b.held('digests'), true);
    } finally {
      await a.close();
      await b.close();
      await tdb.drop();
    }
  });
}

test('singleton keys are stable 31-bit integers and differ between the names in use', () => {
  const names = ['web-indexer', 'isp-digests', 'retention'];
  const keys = names.map(singletonKey);
  assert.equal(new Set(keys).size, names.length);
  for (const k of keys) assert.ok(Number.isInteger(k) && k >= 0 && k < 2 ** 31);
  assert.equal(singletonKey('web-indexer'), singletonKey('web-indexer'));
});

test('postgres: the holder that loses its session gives every lock up and another process takes them', async (t) => {
  const tdb = await createTestDatabase(t, 'postgres');
  if (!tdb) return;
  const changes: string[] = [];
  const a = openSingletonLocks(tdb.config.database, { pollMs: 50, onChange: (n, h) => changes.push(`${n}:${h}`) });
  const b = openSingletonLocks(tdb.config.database, { pollMs: 50 });
  try {
    assert.equal(await a.want('roll-ups'), true);
    assert.equal(await b.want('roll-ups'), false);
    // The server ends a's session, as when its machine goes away: the lock is freed with it.
    const admin = new pg.Client({ connectionString: (tdb.config.database as { url: string }).url });
    await admin.connect();
    await admin.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'spamdesk-singletons' " +
        'and datname = current_database() and pid in (select pid from pg_locks where locktype = $1 and granted)',
      ['advisory'],
    );
    await admin.end();
    for (let i = 0; i < 100 && !b.held('roll-ups'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(b.held('roll-ups'), true, 'the other set took it over');
    for (let i = 0; i < 100 && a.held('roll-ups'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(a.held('roll-ups'), false, 'the old holder knows it lost it');
    assert.ok(changes.includes('roll-ups:false'));
  } finally {
    await a.close();
    await b.close();
    await tdb.drop();
  }
});
