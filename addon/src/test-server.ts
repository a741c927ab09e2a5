/**
 * Test support for the report buttons: a real Spamdesk (the Fastify app on 127.0.0.1, port 0,
 * real SQLite) and the corpus messages they report. What reached it is read back from the store.
 */
import type { TestContext } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { testConfig } from '../../src/core/config.ts';
import { createContext, closeContext, type AppContext } from '../../src/app/context.ts';
import { createTestDatabase } from '../../src/db/test-databases.ts';
import { buildApp } from '../../src/app/build-app.ts';
import { getMessageRaw } from '../../src/evidence/store.ts';
import { CORPUS_DIR } from '../../src/core/test-env.ts';

export interface TestServer {
  ctx: AppContext;
  app: FastifyInstance;
  url: string;
}

export async function startServer(
  t: TestContext,
  overrides: Parameters<typeof testConfig>[0] = {},
): Promise<TestServer | null> {
  const tdb = await createTestDatabase(t, 'sqlite', { httpPort: 0, ...overrides });
  if (!tdb) return null;
  const ctx = await createContext(tdb.config, { db: tdb.db, migrate: false });
  const app = await buildApp(ctx);
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await app.close();
    await closeContext(ctx, { keepDb: true });
    await tdb.drop();
  });
  return { ctx, app, url: app.publicUrl() };
}

/** The first `n` messages of a corpus folder, sorted by name (the same ones every run). */
export function corpusMessages(sub: string, n: number): { name: string; bytes: Buffer }[] {
  const dir = path.join(CORPUS_DIR, sub);
  return fs
    .readdirSync(dir)
    .filter((f) => !f.startsWith('.') && !/\.(txt|csv|md|json)$/i.test(f) && fs.statSync(path.join(dir, f)).isFile())
    .sort()
    .slice(0, n)
    .map((name) => ({ name, bytes: fs.readFileSync(path.join(dir, name)) }));
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Every report stored, oldest first, with the sha256 of the bytes actually kept. */
export async function storedReports(
  s: TestServer,
): Promise<{ id: string; channel: string; note: string | null; tokenId: string | null; sha256: string }[]> {
  const rows = await s.ctx.db.selectFrom('reports').selectAll().orderBy('id').execute();
  const out = [];
  for (const r of rows) {
    const raw = await getMessageRaw(s.ctx.db, r.message_sha256);
    if (!raw) throw new Error(`report ${r.id}: evidence missing`);
    out.push({ id: r.id, channel: r.channel, note: r.note, tokenId: r.reporter_token_id, sha256: sha256(raw) });
  }
  return out;
}

/**
 * {@link storedReports} once at least `n` are stored (the extension's queue can show itself empty a
 * moment before the retried POST has been answered), or what is stored after `timeoutMs`.
 */
export async function storedReportsAtLeast(
  s: TestServer,
  n: number,
  timeoutMs = 30_000,
): Promise<Awaited<ReturnType<typeof storedReports>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stored = await storedReports(s);
    if (stored.length >= n || Date.now() > deadline) return stored;
    await new Promise((r) => setTimeout(r, 100));
  }
}
