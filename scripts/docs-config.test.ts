import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { SETTINGS, type SettingDef } from '../src/core/config.ts';
import { BEGIN, CONFIG_DOC, END, withConfigTable } from './docs-config.ts';

test(
  'docs/configuration.md holds the table generated from SETTINGS (run `npm run docs:config` when this ' + 'fails)',
  () => {
    const page = fs.readFileSync(CONFIG_DOC, 'utf8');
    assert.equal(withConfigTable(page), page, 'docs/configuration.md is stale: run `npm run docs:config`');
    const table = page.slice(page.indexOf(BEGIN), page.indexOf(END));
    for (const d of Object.values(SETTINGS) as SettingDef[]) {
      assert.ok(table.includes(`| \`${d.env}\` | \`--${d.flag}\` |`), `${d.env} is missing from the table`);
    }
  },
);

test('the table replaces whatever stood between the markers and keeps the rest of the page', () => {
  const stale = `# Title\n\nbefore\n${BEGIN}\n| old | table |\n${END}\nafter\n`;
  const next = withConfigTable(stale);
  assert.ok(next.startsWith(`# Title\n\nbefore\n${BEGIN}\n| variable | flag | default | meaning |`));
  assert.ok(next.endsWith(`|\n${END}\nafter\n`));
  assert.ok(!next.includes('| old | table |'));
  assert.equal(withConfigTable(next), next);
});

test('a page without both markers, or with them in the wrong order, is an error', () => {
  assert.throws(() => withConfigTable('# no markers\n'), /lacks the/);
  assert.throws(() => withConfigTable(`${BEGIN}\n`), /lacks the/);
  assert.throws(() => withConfigTable(`${END}\n${BEGIN}\n`), /lacks the/);
});
