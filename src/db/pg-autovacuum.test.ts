/**
 * The start-up warning about autovacuum: none on SQLite; on PostgreSQL exactly when the server's
 * `autovacuum` setting is off (read here through `pg_settings`, not the way the code asks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { DIALECTS, createTestDatabase } from './test-databases.ts';
import { autovacuumWarning } from './pg-autovacuum.ts';

for (const dialect of DIALECTS) {
  test(`warns about autovacuum exactly when it is off (${dialect})`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    try {
      const warning = await autovacuumWarning(tdb.db, dialect);
      if (dialect === 'sqlite') {
        assert.equal(warning, null);
        return;
      }
      const r = await sql<{ setting: string }>`select setting from pg_settings where name = 'autovacuum'`.execute(
        tdb.db,
      );
      const off = r.rows[0].setting === 'off';
      t.diagnostic(`this server's autovacuum: ${r.rows[0].setting}`);
      if (off) assert.match(warning ?? '', /autovacuum is off.*VACUUM ANALYZE.*docs\/operations\.md/s);
      else assert.equal(warning, null);
    } finally {
      await tdb.drop();
    }
  });
}
