#!/usr/bin/env node
/**
 * The `spamdesk` command. Each area registers its commands from `src/cli/commands/`.
 */
import { Command } from 'commander';
import { registerServe } from './commands/serve.ts';
import { registerMaintenance } from './commands/maintenance.ts';
import { registerToken } from './commands/token.ts';
import { registerImport } from './commands/import.ts';
import { registerAnalysis } from './commands/analysis.ts';
import { registerAdmin } from './commands/admin.ts';
import { registerActions } from './commands/actions.ts';
import { registerCampaigns } from './commands/campaigns.ts';
import { registerPrivacy } from './commands/privacy.ts';
import { registerJobs } from './commands/jobs.ts';

const program = new Command('spamdesk')
  .description('Spamdesk: report spam, keep it as evidence, analyse it, act on it.')
  .showHelpAfterError()
  .enablePositionalOptions();

registerServe(program);
registerMaintenance(program);
registerToken(program);
registerImport(program);
registerAnalysis(program);
registerAdmin(program);
registerActions(program);
registerCampaigns(program);
registerPrivacy(program);
registerJobs(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`spamdesk: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
