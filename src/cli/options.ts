/**
 * Every setting of `core/config.ts` becomes a flag of every command, so
 * `spamdesk import --database-url postgres://… mail.mbox` works like `DATABASE_URL=… spamdesk import`.
 * A command's help lists its own options and points to `spamdesk help settings`, which lists the
 * shared settings once.
 */
import os from 'node:os';
import { Command, Option } from 'commander';
import { ConfigError, SETTINGS, loadConfig, type Config, type SettingDef, type SettingKey } from '../core/config.ts';
import { checkOperatorFiles, operatorFileProblemLines } from './operator-files.ts';

/** The line each command's help ends with. */
export const SETTINGS_HELP_LINE = `Also takes the ${Object.keys(SETTINGS).length} shared server settings (--data-dir, \
--database-url, --actions-policy …) as flags or environment variables: spamdesk help settings`;

function settingOption(def: SettingDef): Option {
  const dflt = def.docDefault ?? def.default;
  return new Option(
    `--${def.flag} <value>`,
    `${def.description} [env ${def.env}${dflt === undefined || dflt === '' ? '' : `, default ${dflt}`}]`,
  );
}

/** Adds every setting as a flag of `cmd`, left out of its help (listed once by `spamdesk help settings`). */
export function withSettings(cmd: Command): Command {
  for (const def of Object.values(SETTINGS)) cmd.addOption(settingOption(def).hideHelp());
  cmd.addHelpText('after', `\n${SETTINGS_HELP_LINE}\n`);
  return cmd;
}

/** `spamdesk help settings`: every shared setting, its flag, environment variable and default. */
export function settingsHelp(): string {
  const cmd = new Command('spamdesk')
    .usage('<command> [settings] [options]')
    .description(
      'Shared server settings. Every command takes them as flags; the environment variable sets the same, a flag ' +
        'wins over the environment, the environment over the default. `spamdesk check-config` validates them and the ' +
        'files they name.',
    )
    .helpOption(false);
  for (const def of Object.values(SETTINGS)) cmd.addOption(settingOption(def));
  return cmd.helpInformation();
}

/**
 * Validated config from the command's flags and the environment, with the operator files it names
 * checked; prints every problem and exits 2.
 */
export function configFrom(cmd: Command): Config {
  const config = settingsFrom(cmd);
  const problems = operatorFileProblemLines(checkOperatorFiles(config));
  if (problems.length > 0) fail(`invalid operator file(s):\n${problems.join('\n')}`, 2);
  return config;
}

/**
 * Commander stores `--actions-policy` as `actionsPolicy`, which is not always the setting's key
 * (`actionsPolicyFile`): ask commander for the name it used instead of assuming they agree, or the
 * flag is silently dropped (issue 15, item 5).
 */
export function settingFlags(opts: Record<string, unknown>): Partial<Record<SettingKey, unknown>> {
  const flags: Partial<Record<SettingKey, unknown>> = {};
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const value = opts[settingOption(SETTINGS[key]).attributeName()];
    if (value !== undefined) flags[key] = value;
  }
  return flags;
}

/**
 * Whether the operator set a setting (its flag on this command, or its environment variable not
 * empty), as opposed to its default: `loadConfig` resolves both alike.
 */
export function settingIsSet(cmd: Command, key: SettingKey, env: NodeJS.ProcessEnv = process.env): boolean {
  if (settingFlags(cmd.opts<Record<string, unknown>>())[key] !== undefined) return true;
  const v = env[SETTINGS[key].env];
  return v !== undefined && v !== '';
}

/** Validated settings from the command's flags and the environment; prints every problem and exits 2. */
function settingsFrom(cmd: Command): Config {
  try {
    return loadConfig({ flags: settingFlags(cmd.opts<Record<string, unknown>>()) });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`spamdesk: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

/** Prints a CLI error without a stack and exits. */
export function fail(message: string, code = 1): never {
  process.stderr.write(`spamdesk: ${message}\n`);
  process.exit(code);
}

/** Who runs a command, for the audit log: the operating-system account (and host). */
export function cliActor(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (some containers): keep "unknown".
  }
  return `cli:${user}@${os.hostname()}`;
}
