/** `spamdesk check-config`: the settings and the operator files they name, validated; exit 0 or 2. */
import type { Command } from 'commander';
import { SETTINGS } from '../../core/config.ts';
import { configFrom, withSettings } from '../options.ts';
import { checkOperatorFiles } from '../operator-files.ts';

export function registerCheckConfig(program: Command): void {
  withSettings(
    program
      .command('check-config')
      .description(
        'Validate the settings and the operator files they name (actions policy, classifier scores, trusted relays, ' +
          'abuse contacts); exit 2 on any problem.',
      ),
  ).action((_o, cmd: Command) => {
    // configFrom prints every problem and exits 2; past it, everything is valid.
    const config = configFrom(cmd);
    const lines = [`settings: ${Object.keys(SETTINGS).length} valid (database: ${config.database.dialect})`];
    for (const r of checkOperatorFiles(config)) {
      lines.push(`${r.file.what}: ${r.path === null ? 'not set, shipped defaults' : `${r.path} valid`}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}
