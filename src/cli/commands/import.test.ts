/** The real `spamdesk import` process: what it prints about entries it skipped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { REPO_ROOT } from '../../core/test-env.ts';
import { sampleEmail } from '../../app/test-context.ts';

test('spamdesk import names each link it skipped and why, and imports the rest', { timeout: 120_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-import-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'mail');
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(dir, 'shadow'), sampleEmail('outside'));
  fs.writeFileSync(path.join(root, 'a.eml'), sampleEmail('a'));
  fs.symlinkSync(path.join(dir, 'shadow'), path.join(root, 'shadow.eml'));
  fs.symlinkSync('.', path.join(root, 'self'));
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'src/cli/main.ts'),
      'import',
      '--data-dir',
      path.join(dir, 'data'),
      '--log-level',
      'warn',
      '--workers',
      '0',
      root,
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  assert.equal(code, 0, err);
  assert.ok(
    err.includes(
      `${path.join(root, 'shadow.eml')}: skipped: symbolic link to ${path.join(fs.realpathSync(dir), 'shadow')}, \
outside the folder being imported`,
    ),
    err,
  );
  assert.ok(err.includes(`${path.join(root, 'self')}: skipped:`), err);
  assert.match(out, /imported 1 new historical report\(s\), 0 already present, 2 malformed/);
});
