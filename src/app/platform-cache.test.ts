/**
 * The SQLite page cache a `serve` process opens its database with: the default for a process that takes
 * reports (the workbench's page queries read from it), a smaller one for a process of background roles only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { testConfig } from '../core/config.ts';
import { BACKGROUND_CACHE_KIB, startPlatform } from './platform.ts';

async function cacheKibOf(roles: string): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-cache-'));
  try {
    const platform = await startPlatform(testConfig({ dataDir: dir, httpPort: 0, roles }));
    try {
      const { rows } = await sql<{ cache_size: number }>`pragma cache_size`.execute(platform.ctx.db);
      // A negative cache_size is a size in KiB.
      return -(rows[0]?.cache_size ?? 0);
    } finally {
      await platform.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('background roles alone open SQLite with a smaller page cache; intake keeps 64 MiB', async () => {
  assert.equal(await cacheKibOf('workers,outbox,indexer,scheduler'), BACKGROUND_CACHE_KIB);
  assert.equal(await cacheKibOf('workers'), BACKGROUND_CACHE_KIB);
  assert.equal(await cacheKibOf('http'), 64 * 1024);
  assert.equal(await cacheKibOf('http,workers'), 64 * 1024);
});
