/** The CLI flags of every setting reach the configuration through commander's real parsing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { SETTINGS, type SettingKey } from '../core/config.ts';
import { configFrom, settingFlags, settingIsSet, withSettings } from './options.ts';

function parsed(argv: string[]): Command {
  const program = new Command().exitOverride();
  let seen: Command | undefined;
  withSettings(program.command('serve')).action((_o, cmd: Command) => {
    seen = cmd;
  });
  program.parse(['node', 'spamdesk', 'serve', ...argv]);
  assert.ok(seen, 'the command ran');
  return seen;
}

test('serve --actions-policy FILE sets the actions policy file', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-options-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'actions.json');
  fs.writeFileSync(file, JSON.stringify({ instance: { org: 'Acme Abuse Desk' } }));
  const config = configFrom(parsed(['--actions-policy', file, '--log-level', 'silent']));
  assert.equal(config.actionsPolicyFile, file);
});

test('every setting flag is read under the name commander stores it', () => {
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const flags = settingFlags(parsed([`--${SETTINGS[key].flag}`, 'probe-value']).opts<Record<string, unknown>>());
    assert.deepEqual(flags, { [key]: 'probe-value' }, `--${SETTINGS[key].flag}`);
  }
});

test('a setting is set by its flag or its non-empty environment variable, not by its default', () => {
  assert.equal(settingIsSet(parsed([]), 'backgroundHeapMb', {}), false);
  assert.equal(settingIsSet(parsed([]), 'backgroundHeapMb', { SPAMDESK_BACKGROUND_HEAP_MB: '' }), false);
  assert.equal(settingIsSet(parsed([]), 'backgroundHeapMb', { SPAMDESK_BACKGROUND_HEAP_MB: '1536' }), true);
  assert.equal(settingIsSet(parsed(['--background-heap-mb', '4096']), 'backgroundHeapMb', {}), true);
  assert.equal(settingIsSet(parsed(['--background-heap-mb', '4096']), 'workers', {}), false);
});
