/**
 * Real databases for tests (no mocks, as Kysely's own suite does): a fresh SQLite file per test
 * file, and a fresh PostgreSQL database created on the local server and dropped afterwards.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestContext } from 'node:test';
import { testConfig, type Config } from '../core/config.ts';
import { randomSecret } from '../core/ids.ts';
import { needs } from '../core/test-env.ts';
import { openDatabase, type DB, type DialectName } from './dialect.ts';
import { migrateToLatest } from './migrate.ts';

export const DIALECTS: readonly DialectName[] = ['sqlite', 'postgres'];

/** Admin connection used to create and drop test databases. */
export const PG_ADMIN_URL = process.env.SPAMDESK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let pgAnswers: Promise<string | null> | undefined;
/** Resolves to null when PostgreSQL answers, otherwise to the reason it does not. */
export function postgresUnavailable(): Promise<string | null> {
  pgAnswers ??= (async () => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return null;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return pgAnswers;
}

export interface TestDatabase {
  dialect: DialectName;
  db: DB;
  config: Config;
  /** Closes the connection and removes the database. */
  drop(): Promise<void>;
}

/**
 * A migrated, empty database of the given dialect, or null (and `t` skipped loudly) when the
 * engine is not available.
 */
export async function createTestDatabase(
  t: TestContext,
  dialect: DialectName,
  overrides: Parameters<typeof testConfig>[0] = {},
): Promise<TestDatabase | null> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-test-'));
    const config = testConfig({ dataDir: dir, ...overrides });
    const db = openDatabase(config.database, { synchronous: 'NORMAL' });
    await migrateToLatest(db);
    return {
      dialect,
      db,
      config,
      async drop() {
        await db.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const reason = await postgresUnavailable();
  if (!needs(t, `PostgreSQL at ${PG_ADMIN_URL}`, reason === null, reason ?? '')) return null;
  const scratch = await createScratchPostgres('spamdesk_test');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-test-'));
  const config = testConfig({ dataDir: dir, databaseUrl: scratch.url, ...overrides });
  const db = openDatabase(config.database);
  await migrateToLatest(db);
  return {
    dialect,
    db,
    config,
    async drop() {
      await db.destroy();
      await scratch.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * An empty PostgreSQL database with a random name under `prefix` (nothing migrated: tests of the
 * migrations themselves start here), and how to drop it. The caller checks that PostgreSQL runs.
 */
export async function createScratchPostgres(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomSecret(6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
