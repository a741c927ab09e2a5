/**
 * The add-on builds into an .xpi and passes `web-ext lint` (Mozilla's addons-linter). The linter
 * knows Firefox's APIs, not Thunderbird's: the Thunderbird-only permissions and the missing
 * Firefox data-collection declaration are the only warnings we accept; any error fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { needs, REPO_ROOT } from '../../src/core/test-env.ts';
import { DEFAULT_BRAND } from './brand.ts';
import { buildAddon, buildWebmail } from './build.ts';

const run = promisify(execFile);
const WEB_EXT = path.join(REPO_ROOT, 'node_modules', '.bin', 'web-ext');
/** Thunderbird permissions unknown to Firefox's schema. */
const THUNDERBIRD_PERMISSIONS = ['messagesRead', 'messagesMove', 'messagesUpdate', 'accountsRead'];

interface LintMessage {
  code: string;
  message: string;
}

test('the add-on builds into an .xpi that web-ext lint passes without errors', async (t) => {
  if (!needs(t, 'web-ext', fs.existsSync(WEB_EXT), 'npm install (web-ext is a devDependency)')) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-addon-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const built = await buildAddon(path.join(dir, 'unpacked'), path.join(dir, 'addon.xpi'));
  assert.deepEqual(built.files, [
    '_locales/en/messages.json',
    '_locales/fr/messages.json',
    'background.js',
    'icons/report.svg',
    'manifest.json',
    'options.html',
    'options.js',
  ]);
  assert.ok(fs.statSync(built.xpi).size > 1000);
  const out = await run(WEB_EXT, ['lint', '--source-dir', built.dir, '--output', 'json', '--no-config-discovery'], {
    maxBuffer: 16 * 1024 * 1024,
  }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  const result = JSON.parse(out.stdout) as { errors: LintMessage[]; warnings: LintMessage[] };
  assert.deepEqual(result.errors, [], 'no lint errors');
  const unexpected = result.warnings.filter(
    (w) =>
      !(w.code === 'MANIFEST_PERMISSIONS' && THUNDERBIRD_PERMISSIONS.some((p) => w.message.includes(`"${p}"`))) &&
      w.code !== 'MISSING_DATA_COLLECTION_PERMISSIONS',
  );
  assert.deepEqual(unexpected, [], 'no warnings besides the Thunderbird-only permissions');
});

test('the webmail extension builds for both browsers from one source; the Firefox package lints clean', async (t) => {
  if (!needs(t, 'web-ext', fs.existsSync(WEB_EXT), 'npm install (web-ext is a devDependency)')) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-webmail-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const brand = DEFAULT_BRAND;
  const firefox = await buildWebmail(brand, 'firefox', path.join(dir, 'firefox'), path.join(dir, 'firefox.zip'));
  const chromium = await buildWebmail(brand, 'chromium', path.join(dir, 'chromium'), path.join(dir, 'chromium.zip'));
  // The same files; the manifests differ only where the browsers do.
  assert.deepEqual(firefox.files, chromium.files);
  for (const f of firefox.files.filter((f) => !f.endsWith('.js') && f !== 'manifest.json')) {
    assert.ok(fs.readFileSync(path.join(firefox.dir, f)).equals(fs.readFileSync(path.join(chromium.dir, f))), f);
  }
  const mf = JSON.parse(fs.readFileSync(path.join(firefox.dir, 'manifest.json'), 'utf8'));
  const mc = JSON.parse(fs.readFileSync(path.join(chromium.dir, 'manifest.json'), 'utf8'));
  assert.deepEqual(mc.background, { service_worker: 'background.js' });
  assert.deepEqual(mf.background, { scripts: ['background.js'] });
  assert.equal(mf.browser_specific_settings.gecko.id, brand.webmail.geckoId);
  assert.deepEqual(
    { ...mf, background: 0, browser_specific_settings: 0 },
    { ...mc, background: 0, browser_specific_settings: 0 },
  );
  // web-ext lint is Mozilla's linter: it judges the Firefox package (the Chromium one is loaded in
  // real Chromium by webmail.e2e.test.ts).
  const out = await run(WEB_EXT, ['lint', '--source-dir', firefox.dir, '--output', 'json', '--no-config-discovery'], {
    maxBuffer: 16 * 1024 * 1024,
  }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  const result = JSON.parse(out.stdout) as { errors: LintMessage[]; warnings: LintMessage[]; notices: LintMessage[] };
  assert.deepEqual([...result.errors, ...result.warnings, ...result.notices], [], 'no error, warning or notice');
});
