/**
 * The add-on speaks English and French: both catalogues have the same messages and placeholders,
 * every message the manifest and the options page name exists, the options script names only
 * messages that exist, and the French follows French typography.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ADDON_DIR } from './build.ts';
import { settingsProblems } from './send.ts';

type Catalogue = Record<string, { message: string; description?: string; placeholders?: Record<string, unknown> }>;

const read = (lang: string): Catalogue =>
  JSON.parse(fs.readFileSync(path.join(ADDON_DIR, '_locales', lang, 'messages.json'), 'utf8')) as Catalogue;
const en = read('en');
const fr = read('fr');

test('the English and French catalogues have the same messages and placeholders, all translated', () => {
  assert.deepEqual(Object.keys(fr).sort(), Object.keys(en).sort());
  for (const k of Object.keys(en)) {
    assert.deepEqual(Object.keys(fr[k].placeholders ?? {}), Object.keys(en[k].placeholders ?? {}), k);
    assert.notEqual(fr[k].message, en[k].message, `${k} is not translated`);
    assert.doesNotMatch(fr[k].message, /'| [:;?!]|[^\u00a0\u202f][;?!]$/, `${k}: French typography`);
  }
});

test('every message the manifest, the options page and the scripts name exists', () => {
  const manifest = fs.readFileSync(path.join(ADDON_DIR, 'manifest.json'), 'utf8');
  const page = fs.readFileSync(path.join(ADDON_DIR, 'options.html'), 'utf8');
  const scripts = ['options.ts', 'background.ts', 'send.ts']
    .map((f) => fs.readFileSync(path.join(ADDON_DIR, 'src', f), 'utf8'))
    .join('\n');
  const named = [
    ...[...manifest.matchAll(/__MSG_(\w+)__/g)].map((m) => m[1]),
    ...[...page.matchAll(/data-i18n="(\w+)"/g)].map((m) => m[1]),
    ...[...scripts.matchAll(/(?:msg|getMessage)\('(\w+)'/g)].map((m) => m[1]),
  ];
  assert.ok(named.length >= 15, `only ${named.length} messages named`);
  assert.deepEqual(
    named.filter((k) => !Object.hasOwn(en, k)),
    [],
  );
  assert.match(manifest, /"default_locale": "en"/);
});

test('settings problems come in the user’s language, with the placeholder filled', () => {
  const msg = (key: string, subs?: string[]) => {
    const m = fr[key];
    return m ? m.message.replace('$MAX$', subs?.[0] ?? '') : null;
  };
  const problems = settingsProblems(
    { instanceUrl: 'http://spamdesk.example.org', token: 'password', moveToJunk: false, note: 'x'.repeat(5000) },
    msg,
  );
  assert.deepEqual(problems, [
    fr.problemUrlHttps.message,
    fr.problemToken.message,
    'Le commentaire dépasse 4000\u00a0caractères.',
  ]);
});
