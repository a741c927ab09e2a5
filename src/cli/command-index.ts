/**
 * Every top-level `spamdesk` command: its name, its one-line summary and the module that registers
 * it. `spamdesk --help` is printed from this list alone, and a command loads only its own module,
 * so the CLI does not load the whole platform (fastify, the databases, the analysis) to answer
 * `--help` or to run a small command. A test checks this list against what the modules register.
 */
import type { Command } from 'commander';

type Register = (program: Command) => void;

export interface CommandEntry {
  name: string;
  /** The command's description, as its module sets it. */
  summary: string;
  load(): Promise<Register>;
}

const serve = () => import('./commands/serve.ts').then((m) => m.registerServe);
const maintenance = () => import('./commands/maintenance.ts').then((m) => m.registerMaintenance);
const token = () => import('./commands/token.ts').then((m) => m.registerToken);
const importCmd = () => import('./commands/import.ts').then((m) => m.registerImport);
const analysis = () => import('./commands/analysis.ts').then((m) => m.registerAnalysis);
const admin = () => import('./commands/admin.ts').then((m) => m.registerAdmin);
const actions = () => import('./commands/actions.ts').then((m) => m.registerActions);
const campaigns = () => import('./commands/campaigns.ts').then((m) => m.registerCampaigns);
const privacy = () => import('./commands/privacy.ts').then((m) => m.registerPrivacy);
const jobs = () => import('./commands/jobs.ts').then((m) => m.registerJobs);
const feedsLists = () => import('./commands/feeds-lists.ts').then((m) => m.registerFeedsLists);
const intel = () => import('./commands/intel.ts').then((m) => m.registerIntel);
const exchange = () => import('./commands/exchange.ts').then((m) => m.registerExchange);
const checkConfig = () => import('./commands/check-config.ts').then((m) => m.registerCheckConfig);
const report = () => import('./commands/report.ts').then((m) => m.registerReport);

/** In the order `spamdesk --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'serve',
    summary:
      'Run the platform: HTTP (web app, API, /metrics), SMTP intake and background workers, or the roles given ' +
      'with --only.',
    load: serve,
  },
  {
    name: 'check-config',
    summary:
      'Validate the settings and the operator files they name (actions policy, classifier scores, trusted relays, ' +
      'abuse contacts); exit 2 on any problem.',
    load: checkConfig,
  },
  { name: 'migrate', summary: 'Apply pending database migrations.', load: maintenance },
  { name: 'stats', summary: 'Print counts: messages, reports by channel, jobs, dead letters.', load: maintenance },
  {
    name: 'db',
    summary: 'PostgreSQL partitions of reports: list them, create those ahead, or --prepare the conversion online.',
    load: maintenance,
  },
  {
    name: 'verify',
    summary: 'Re-hash all stored evidence and report any mismatch (exit 1 on mismatch).',
    load: maintenance,
  },
  { name: 'token', summary: 'Manage API tokens.', load: token },
  {
    name: 'import',
    summary: 'Import .eml files, directories, mbox files (mboxrd/mboxo) and Maildir folders as reports. Idempotent.',
    load: importCmd,
  },
  {
    name: 'show',
    summary: 'Show a report and its analysis: trace-back step by step, authentication, indicators, findings.',
    load: analysis,
  },
  {
    name: 'reanalyze',
    summary: 'Re-run the analysis on stored evidence at the current analyser version.',
    load: analysis,
  },
  { name: 'admin', summary: 'Manage web accounts.', load: admin },
  { name: 'outbox', summary: 'Inspect and retry what leaves the platform (mail, webhooks).', load: actions },
  { name: 'jobs', summary: 'The background job queue: counts, dead jobs, requeue.', load: jobs },
  { name: 'cases', summary: 'Cases and referrals to authorities.', load: actions },
  { name: 'authority', summary: 'Authorities that receive referrals.', load: actions },
  {
    name: 'partner',
    summary: 'Partner platforms whose signed referrals this instance accepts (POST /api/v1/exchange/referrals).',
    load: actions,
  },
  {
    name: 'exchange',
    summary: 'Partners answer back: status messages to a partner, its requests for more (approve, decline).',
    load: exchange,
  },
  { name: 'operator', summary: 'Network operators receiving ISP alerts.', load: actions },
  { name: 'isp', summary: 'ISP alerts about infected or abused machines.', load: actions },
  { name: 'sender', summary: 'Legitimate senders in the feedback loop.', load: actions },
  { name: 'campaigns', summary: 'Campaign maintenance.', load: campaigns },
  { name: 'audit', summary: 'The audit log: an append-only hash chain of every access to evidence.', load: privacy },
  {
    name: 'keys',
    summary: 'The instance’s Ed25519 signing keys (shared by every process, kept in the database).',
    load: privacy,
  },
  { name: 'privacy', summary: 'Retention and erasure of personal data.', load: privacy },
  {
    name: 'feeds',
    summary: 'Feeds for filters: the DNS blocklist zones and the plain lists.',
    load: feedsLists,
  },
  {
    name: 'intel',
    summary: 'Threat-intelligence collections (STIX 2.1 over TAXII 2.1, MISP feed) and who may read them.',
    load: intel,
  },
  { name: 'report', summary: 'Reports for the regulator.', load: report },
];

/** Every module once (for `spamdesk help` on everything, and the test). */
export async function registerAll(program: Command): Promise<void> {
  const loaders = [...new Set(COMMANDS.map((c) => c.load))];
  for (const load of loaders) (await load())(program);
}
