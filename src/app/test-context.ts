/**
 * Test helper: an {@link AppContext} on a fresh real database of the given dialect (see
 * `db/test-databases.ts`), or null when that engine is not available (the test is skipped loudly).
 */
import type { TestContext } from 'node:test';
import type { DialectName } from '../db/dialect.ts';
import { createTestDatabase, type TestDatabase } from '../db/test-databases.ts';
import type { testConfig } from '../core/config.ts';
import { closeContext, createContext, type AppContext } from './context.ts';

export interface TestAppContext {
  ctx: AppContext;
  tdb: TestDatabase;
  /** Flushes the writer, closes and drops the database. */
  close(): Promise<void>;
}

export async function createTestContext(
  t: TestContext,
  dialect: DialectName,
  overrides: Parameters<typeof testConfig>[0] = {},
  opts: { commitThread?: boolean } = {},
): Promise<TestAppContext | null> {
  const tdb = await createTestDatabase(t, dialect, overrides);
  if (!tdb) return null;
  // The SQLite commit thread costs a second or more to start (it loads TypeScript through tsx);
  // tests use it only where they ask, the spawned-server tests use it as `serve` does.
  const ctx = await createContext(tdb.config, { db: tdb.db, migrate: false, commitThread: opts.commitThread ?? false });
  return {
    ctx,
    tdb,
    async close() {
      await closeContext(ctx, { keepDb: true });
      await tdb.drop();
    },
  };
}

/**
 * A small, valid, distinct RFC 5322 message for tests (factories in the spirit of Outline's
 * `server/test/factories.ts`). CRLF line endings, as on the wire.
 */
export function sampleEmail(n: number | string, opts: { body?: string; subject?: string } = {}): Buffer {
  return Buffer.from(
    [
      'Return-Path: <bulk@spam.example>',
      'Received: from mx.spam.example (mx.spam.example [192.0.2.7]) by mail.example.org; Mon, 2 Jan 2006 15:04:05 ' +
        '+0000',
      'From: "Prize Desk" <bulk@spam.example>',
      'To: victim@example.org',
      `Subject: ${opts.subject ?? `You have won #${n}`}`,
      'Date: Mon, 2 Jan 2006 15:04:05 +0000',
      `Message-ID: <${n}@spam.example>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      opts.body ?? `Claim your prize number ${n} at http://prize.example/claim?id=${n} today.`,
      '',
    ].join('\r\n'),
  );
}
