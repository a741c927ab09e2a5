/**
 * The command index, each command's help and the README's CLI table agree with what the command
 * modules register.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Command } from 'commander';
import { REPO_ROOT } from '../core/test-env.ts';
import { SETTINGS } from '../core/config.ts';
import { COMMANDS, registerAll } from './command-index.ts';
import { SETTINGS_HELP_LINE, settingsHelp } from './options.ts';

async function everyCommand(): Promise<Command> {
  const program = new Command('spamdesk');
  await registerAll(program);
  return program;
}

/** Every command that runs something (`cases refer`, `serve`), with its path. */
function leaves(cmd: Command, prefix: string[] = []): { path: string; cmd: Command }[] {
  return cmd.commands.flatMap((c) =>
    c.commands.length > 0 ? leaves(c, [...prefix, c.name()]) : [{ path: [...prefix, c.name()].join(' '), cmd: c }],
  );
}

function runCli(args: string[]): string {
  return execFileSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
}

test('the command index lists exactly the commands the modules register, with their descriptions', async () => {
  const program = await everyCommand();
  const registered = program.commands.map((c) => [c.name(), c.description()]);
  assert.deepEqual([...registered].sort(), COMMANDS.map((c) => [c.name, c.summary]).sort());
});

test("each command's help shows its own options and not the shared settings", async () => {
  const program = await everyCommand();
  for (const { path: p, cmd } of leaves(program)) {
    const help = cmd.helpInformation();
    assert.doesNotMatch(help, /--database-url|--data-dir|--outbox-smtp-url/, `${p} lists the shared settings`);
    for (const o of cmd.options.filter((opt) => !opt.hidden)) assert.ok(help.includes(o.flags), `${p}: ${o.flags}`);
  }
  // The settings are still flags of the commands, hidden from their help.
  const serve = program.commands.find((c) => c.name() === 'serve');
  assert.ok(serve?.options.some((o) => o.long === '--database-url' && o.hidden));
  const importHelp = runCli(['import', '--help']);
  assert.ok(
    importHelp.indexOf('--mbox-format') < importHelp.indexOf(SETTINGS_HELP_LINE),
    'own options first, then the settings line',
  );
  assert.doesNotMatch(importHelp, /--data-dir </);
});

test('spamdesk help settings lists every setting once, with its variable', () => {
  const out = runCli(['help', 'settings']);
  assert.equal(out, settingsHelp());
  for (const def of Object.values(SETTINGS)) {
    assert.equal(out.split(`--${def.flag} <value>`).length - 1, 1, def.flag);
    assert.ok(out.includes(def.env), def.env);
  }
});

test('spamdesk --help lists every command of the index', () => {
  const out = runCli(['--help']);
  for (const c of COMMANDS) assert.match(out, new RegExp(`^  ${c.name}\\b`, 'm'), c.name);
  assert.match(out, /spamdesk help settings/);
});

test("every command appears in the README's command-line table", async () => {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Command line');
  assert.ok(start >= 0, 'README has a "Command line" section');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const spans = [...section.matchAll(/`([^`]+)`/g)].map((m) => (m[1] ?? '').replace(/^spamdesk /, ''));
  const program = await everyCommand();
  for (const { path: p } of leaves(program)) {
    assert.ok(
      spans.some((s) => s === p || s.startsWith(`${p} `)),
      `README's CLI table lacks \`spamdesk ${p}\``,
    );
  }
  assert.ok(
    spans.some((s) => s === 'help settings'),
    'README names `spamdesk help settings`',
  );
});
