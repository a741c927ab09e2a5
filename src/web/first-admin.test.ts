/** The first administrator: created once on a fresh database, and by `spamdesk admin create`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createTestDatabase } from '../db/test-databases.ts';
import { testConfig } from '../core/config.ts';
import { openDatabase } from '../db/dialect.ts';
import { REPO_ROOT } from '../core/test-env.ts';
import { attemptLogin } from '../db/accounts.ts';
import { FIRST_ADMIN_EMAIL, firstAdminHook } from './first-admin.ts';

test('serve creates the first admin once and prints a one-time password that signs in', async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite');
  if (!tdb) return;
  t.after(() => tdb.drop());
  const lines = await firstAdminHook({ db: tdb.db, config: {} });
  assert.ok(Array.isArray(lines));
  const password = /password:\s+(\S+)/.exec(lines.join('\n'))?.[1] ?? '';
  assert.ok(password.length >= 20);
  assert.equal(await firstAdminHook({ db: tdb.db, config: {} }), undefined, 'not on the second start');
  const res = await attemptLogin(tdb.db, tdb.config, FIRST_ADMIN_EMAIL, password, '127.0.0.1');
  assert.equal(res.ok, true);
  const row = await tdb.db.selectFrom('users').select(['password_hash', 'role']).executeTakeFirstOrThrow();
  assert.equal(row.role, 'admin');
  assert.ok(!row.password_hash?.includes(password), 'only a hash is stored');
});

test('spamdesk admin create prints a one-time password; a taken address is refused', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-admin-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) =>
    execFileSync(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'admin', 'create', '--data-dir', dir, ...args],
      { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] },
    );
  const password = run('--email', 'Alice@Example.org', '--role', 'analyst').trim();
  assert.match(password, /^[A-Za-z0-9_-]{20,}$/);
  assert.throws(() => run('--email', 'alice@example.org'), /already exists/);
  const config = testConfig({ dataDir: dir });
  const db = openDatabase(config.database);
  t.after(() => db.destroy());
  const res = await attemptLogin(db, config, 'alice@example.org', password, null);
  assert.equal(res.ok, true);
});
