/**
 * Every setting of `core/config.ts` becomes a flag of every command, so
 * `spamdesk import --database-url postgres://… mail.mbox` works like `DATABASE_URL=… spamdesk import`.
 */
import os from 'node:os';
import { Command, Option } from 'commander';
import { ConfigError, SETTINGS, loadConfig, type Config, type SettingKey } from '../core/config.ts';

export function withSettings(cmd: Command): Command {
  for (const [, def] of Object.entries(SETTINGS)) {
    cmd.addOption(new Option(`--${def.flag} <value>`, `${def.description} [env ${def.env}]`));
  }
  return cmd;
}

/** Validated config from the command's flags and the environment; prints every problem and exits 2. */
export function configFrom(cmd: Command): Config {
  const opts = cmd.opts<Record<string, unknown>>();
  const flags: Partial<Record<SettingKey, unknown>> = {};
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    if (opts[key] !== undefined) flags[key] = opts[key];
  }
  try {
    return loadConfig({ flags });
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
