/** `spamdesk admin reset|disable|enable|role`: the services of the /admin pages from the command line, audited. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { testConfig } from '../../core/config.ts';
import { openDatabase } from '../../db/dialect.ts';
import { REPO_ROOT } from '../../core/test-env.ts';
import { accountsDb, attemptLogin } from '../../db/accounts.ts';

test('spamdesk admin reset, role, disable and enable change the account and are audited', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-admin-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) =>
    execFileSync(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'admin', ...args, '--data-dir', dir],
      { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] },
    );
  run('create', '--email', 'root@example.org');
  const first = run('create', '--email', 'noc@isp.example', '--role', 'analyst').trim();
  const reset = run('reset', '--email', 'noc@isp.example').trim();
  assert.match(reset, /^[A-Za-z0-9_-]{20,}$/);
  assert.notEqual(reset, first);
  assert.throws(() => run('role', '--email', 'noc@isp.example', '--role', 'network_operator'), /at least one AS/);
  run('role', '--email', 'noc@isp.example', '--role', 'network_operator', '--networks', 'AS3215,5410');
  run('disable', '--email', 'noc@isp.example');
  assert.throws(() => run('disable', '--email', 'root@example.org'), /last active administrator/);
  const config = testConfig({ dataDir: dir });
  const db = openDatabase(config.database);
  t.after(() => db.destroy());
  const u = await accountsDb(db)
    .selectFrom('users')
    .selectAll()
    .where('email', '=', 'noc@isp.example')
    .executeTakeFirstOrThrow();
  assert.deepEqual(
    [u.role, u.networks, u.must_change_password, u.disabled_at !== null],
    ['network_operator', '[3215,5410]', 1, true],
  );
  assert.equal((await attemptLogin(db, config, 'noc@isp.example', reset, null)).ok, false, 'disabled');
  run('enable', '--email', 'noc@isp.example');
  assert.equal((await attemptLogin(db, config, 'noc@isp.example', reset, null)).ok, true);
  const actions = (await db.selectFrom('audit_log').select('action').execute()).map((a) => a.action);
  for (const a of ['account.reset-password', 'account.role', 'account.disable', 'account.enable'])
    assert.ok(actions.includes(a), a);
});
