#!/usr/bin/env node
/**
 * The `spamdesk` command. Each area registers its commands from `src/cli/commands/`; the list of
 * commands, and which module registers each, is `command-index.ts`. Only the module of the
 * command being run is loaded.
 */
import { Command } from 'commander';
import { COMMANDS } from './command-index.ts';
import { cliErrorLine } from './cli-language.ts';
import { ConfigError } from '../core/config.ts';
import { applyTiering } from '../core/tiering.ts';

const SETTINGS_LINE =
  'Every command also takes the shared server settings (database, data directory, files, limits) as flags or ' +
  'environment variables: spamdesk help settings';

const program = new Command('spamdesk')
  .description('Spamdesk: report spam, keep it as evidence, analyse it, act on it.')
  .showHelpAfterError()
  .enablePositionalOptions()
  .helpCommand(false)
  .addHelpText('after', `\nspamdesk help <command>  shows a command's own options.\n${SETTINGS_LINE}\n`);

/** `spamdesk help [settings | command [subcommand]]` becomes the matching `--help`. */
function helpArgs(args: string[]): string[] {
  if (args[0] !== 'help') return args;
  return args.length === 1 ? ['--help'] : [...args.slice(1), '--help'];
}

async function main(argv: string[]): Promise<void> {
  // Before any command's modules load: V8's tier-up budget (core/tiering.ts). An invalid value leaves V8's
  // own; the command's validation then reports it with every other problem of the settings (exit 2).
  try {
    applyTiering(argv);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
  }
  const args = helpArgs(argv);
  if (argv[0] === 'help' && argv[1] === 'settings') {
    const { settingsHelp } = await import('./options.ts');
    process.stdout.write(settingsHelp());
    return;
  }
  const entry = COMMANDS.find((c) => c.name === args[0]);
  if (entry) {
    (await entry.load())(program);
  } else {
    // The listing (`spamdesk`, `spamdesk --help`, an unknown command) needs no command module.
    for (const c of COMMANDS) program.command(c.name).description(c.summary);
    program
      .command('help')
      .argument('[topic]', '`settings` or a command')
      .description('Show the shared settings (`help settings`) or one command’s help.');
  }
  await program.parseAsync(args, { from: 'user' });
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(cliErrorLine(e, process.env));
  process.exit(1);
});
