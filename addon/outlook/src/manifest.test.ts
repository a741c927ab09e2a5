/**
 * The Outlook add-in's unified manifest, as built, passes `office-addin-manifest`'s checks — the
 * offline ones: the schema it ships (network access is cut for the test, so a check that needed
 * Microsoft's service would fail here rather than pass unseen).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateManifest } from 'office-addin-manifest';
import yauzl from 'yauzl';
import { DEFAULT_BRAND, mergeBrand, brandProblems } from '../../src/brand.ts';
import { buildOutlook } from '../../src/build.ts';
import { outlookManifest, REPORT_FUNCTION } from './manifest.ts';

/** Runs `fn` with `fetch` refusing every request, and says whether anything tried. */
async function offline<T>(fn: () => Promise<T>): Promise<{ value: T; attempts: string[] }> {
  const real = globalThis.fetch;
  const attempts: string[] = [];
  globalThis.fetch = (async (input: string | URL | Request) => {
    attempts.push(String(input instanceof Request ? input.url : input));
    throw new Error('network access is cut in this test');
  }) as typeof fetch;
  try {
    return { value: await fn(), attempts };
  } finally {
    globalThis.fetch = real;
  }
}

function zipEntries(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: false }, (err, z) => {
      if (err || !z) return reject(err);
      const names: string[] = [];
      z.on('entry', (e: yauzl.Entry) => names.push(e.fileName));
      z.on('end', () => resolve(names.sort()));
      z.on('error', reject);
    });
  });
}

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-outlook-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the built unified manifest passes office-addin-manifest validation offline', async (t) => {
  const dir = tmp(t);
  const brand = mergeBrand(DEFAULT_BRAND, {
    name: 'Signal Spam — Signaler',
    shortName: 'Signaler un spam',
    instanceUrl: 'https://signalement.example.fr',
    outlook: { appId: '0b9e1d2c-3f4a-4b5c-8d6e-7f8091a2b3c4', baseUrl: 'https://signalement.example.fr/outlook/' },
  });
  assert.deepEqual(brandProblems(brand), []);
  const built = await buildOutlook(brand, path.join(dir, 'outlook'), path.join(dir, 'outlook.zip'));
  assert.deepEqual(built.files, [
    'color.png',
    'commands.html',
    'commands.js',
    'icon-16.png',
    'icon-32.png',
    'icon-64.png',
    'icon-80.png',
    'manifest.json',
    'outline.png',
    'taskpane.html',
    'taskpane.js',
  ]);
  assert.deepEqual(await zipEntries(built.appPackage), ['color.png', 'manifest.json', 'outline.png']);
  const { value: validation, attempts } = await offline(() => validateManifest(built.manifest));
  assert.deepEqual(attempts, [], 'validated without the network');
  assert.equal(validation.isValid, true, JSON.stringify(validation.report));
  // Every URL in it points at the brand's host; the instance is baked into the script as default.
  const manifest = fs.readFileSync(built.manifest, 'utf8');
  for (const [, url] of manifest.matchAll(/"(https:\/\/[^"]+)"/g)) {
    if (url.startsWith('https://developer.microsoft.com/json-schemas/')) continue;
    assert.match(url, /^https:\/\/(signalement\.example\.fr|spamdesk\.example\.org)\//, url);
  }
  assert.match(fs.readFileSync(path.join(built.dir, 'commands.js'), 'utf8'), /https:\/\/signalement\.example\.fr/);
  assert.match(fs.readFileSync(path.join(built.dir, 'commands.js'), 'utf8'), new RegExp(REPORT_FUNCTION));
});

test('the offline validation bites: a manifest outside the schema is refused', async (t) => {
  const dir = tmp(t);
  const tooLong = outlookManifest(DEFAULT_BRAND);
  tooLong.description = { short: 'x'.repeat(81), full: 'too long a short description' };
  const file = path.join(dir, 'manifest.json');
  fs.writeFileSync(file, JSON.stringify(tooLong));
  const { value: validation } = await offline(() => validateManifest(file));
  assert.equal(validation.isValid, false);
  const errors = (validation.report?.errors ?? []).map((e) => String(e.content));
  assert.ok(
    errors.some((e) => e.startsWith('/description/short must NOT have more than 80 characters')),
    errors.join('\n'),
  );
  // A context Outlook does not know is refused while reading, before the schema.
  const unknownContext = outlookManifest(DEFAULT_BRAND);
  (unknownContext.extensions as { ribbons: { contexts: string[] }[] }[])[0].ribbons[0].contexts = ['mailReadWrite'];
  fs.writeFileSync(file, JSON.stringify(unknownContext));
  await assert.rejects(
    offline(() => validateManifest(file)),
    /Invalid value for key "extensions"/,
  );
});

test('a brand file is checked before anything is built', () => {
  const bad = mergeBrand(DEFAULT_BRAND, {
    shortName: 'A name far too long for a ribbon button',
    outlook: { baseUrl: 'http://insecure.example.org/outlook' },
    accentColor: 'red',
  });
  const problems = brandProblems(bad).join(' ');
  assert.match(problems, /shortName must be 1–30/);
  assert.match(problems, /outlook\.baseUrl must be an https:\/\/ URL/);
  assert.match(problems, /outlook\.baseUrl must end with \//);
  assert.match(problems, /accentColor/);
});
