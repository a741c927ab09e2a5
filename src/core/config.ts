/**
 * Configuration: the only reader of `process.env`.
 *
 * Every setting is declared once in {@link SETTINGS} with its environment variable, its CLI flag,
 * a description (rendered into docs/configuration.md by `npm run docs:config`)
 * and a zod schema. {@link loadConfig} validates all of them and reports every problem at once,
 * as Outline's `server/env.ts` does, so an operator fixes a bad deployment in one round trip.
 */
import path from 'node:path';
import os from 'node:os';
import { z } from 'zod';
import ipaddr from 'ipaddr.js';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** What a `serve` process can run (`--only`); see docs/operations.md. */
export const ROLES = ['http', 'smtp', 'workers', 'outbox', 'indexer', 'scheduler'] as const;
export type Role = (typeof ROLES)[number];
/** The roles the web process hands to its supervised child (`--background-process`). */
export const BACKGROUND_ROLES: readonly Role[] = ['workers', 'outbox', 'indexer', 'scheduler'];

/** One declared setting. */
export interface SettingDef<S extends z.ZodType = z.ZodType> {
  /** Environment variable that sets it. */
  env: string;
  /** Long CLI flag (without the leading dashes). */
  flag: string;
  description: string;
  schema: S;
  /** Default as the raw string an operator would type; undefined means optional/unset. */
  default?: string;
  /** How docs/configuration.md shows the default when it depends on the machine (e.g. the core count). */
  docDefault?: string;
  /** A secret: never echoed in an error message. */
  secret?: boolean;
}

/** True for `203.0.113.7`, `203.0.113.0/24`, `2001:db8::1`, `2001:db8::/32`. */
export function isIpOrCidr(text: string): boolean {
  return text.includes('/') ? ipaddr.isValidCIDR(text) : ipaddr.isValid(text);
}

/**
 * Analysis threads by default: one per core but one. The process that runs them also runs every
 * stage's database work on its main thread (busy most of a run), and each analysis thread is a V8
 * isolate of its own that compiles the same analysis code again: on 2 cores one analysis thread
 * instead of two gave the same end-to-end rate with ~1 ms less CPU per report, ~100 MB less peak
 * RSS and a lower intake p99 (bench/RESULTS.md, 2026-12-04 22:44 UTC).
 */
export function defaultAnalysisThreads(cores = os.availableParallelism()): number {
  return Math.max(1, cores - 1);
}

function setting<S extends z.ZodType>(def: SettingDef<S>): SettingDef<S> {
  return def;
}

/**
 * All settings. Add new ones here (and only here); the CLI flags, the env variables, the table of
 * docs/configuration.md and the validation follow from this list.
 */
export const SETTINGS = {
  dataDir: setting({
    env: 'SPAMDESK_DATA_DIR',
    flag: 'data-dir',
    description: 'Directory for the SQLite database and local state.',
    schema: z.string().min(1),
    default: './data',
  }),
  databaseUrl: setting({
    env: 'DATABASE_URL',
    flag: 'database-url',
    description:
      '`postgres://user@host:port/db` for PostgreSQL, or `sqlite:PATH`. Unset: SQLite at `<data-dir>/spamdesk.db`.',
    schema: z
      .string()
      .refine((v) => /^(postgres|postgresql):\/\//.test(v) || v.startsWith('sqlite:'), {
        message: 'must start with postgres://, postgresql:// or sqlite:',
      })
      .optional(),
  }),
  pgPreparedStatements: setting({
    env: 'SPAMDESK_PG_PREPARED_STATEMENTS',
    flag: 'pg-prepared-statements',
    description:
      'PostgreSQL: a statement a connection runs a second time is kept prepared on the server (named, at most 400 ' +
      'per connection), so it is not parsed and planned again each time (a quarter of the backends’ CPU on the ' +
      'pipeline). false behind a pooler that does not carry named statements across its server connections ' +
      '(PgBouncer before 1.21, or without max_prepared_statements, in transaction mode).',
    schema: bool,
    default: 'true',
  }),
  httpHost: setting({
    env: 'SPAMDESK_HTTP_HOST',
    flag: 'http-host',
    description: 'Interface the HTTP server listens on.',
    schema: z.string().min(1),
    default: '127.0.0.1',
  }),
  httpPort: setting({
    env: 'SPAMDESK_HTTP_PORT',
    flag: 'http-port',
    description: 'HTTP port (web app, API, /metrics). 0 picks a free port.',
    schema: port,
    default: '8080',
  }),
  smtpHost: setting({
    env: 'SPAMDESK_SMTP_HOST',
    flag: 'smtp-host',
    description: 'Interface the SMTP intake listens on.',
    schema: z.string().min(1),
    default: '127.0.0.1',
  }),
  smtpPort: setting({
    env: 'SPAMDESK_SMTP_PORT',
    flag: 'smtp-port',
    description: 'SMTP intake port (25 in production). 0 picks a free port.',
    schema: port,
    default: '2525',
  }),
  publicUrl: setting({
    env: 'SPAMDESK_PUBLIC_URL',
    flag: 'public-url',
    description:
      'Base URL people use to reach this instance (tracking links, mails). Unset: derived from host and port.',
    schema: z.url().optional(),
  }),
  maxMessageBytes: setting({
    env: 'SPAMDESK_MAX_MESSAGE_BYTES',
    flag: 'max-message-bytes',
    description: 'Largest accepted message, in bytes (HTTP 413 / SMTP 552 beyond).',
    schema: positiveInt,
    default: String(25 * 1024 * 1024),
  }),
  intakeMemoryBudgetBytes: setting({
    env: 'SPAMDESK_INTAKE_MEMORY_BUDGET_BYTES',
    flag: 'intake-memory-budget-bytes',
    description:
      'Message bytes being received at once over HTTP and SMTP together. Beyond it HTTP answers 503 with Retry-After ' +
      'and SMTP 452 (retry later); nothing is lost. One message larger than the budget is still taken when nothing ' +
      'else is in flight.',
    schema: positiveInt,
    default: String(256 * 1024 * 1024),
  }),
  anonRateLimit: setting({
    env: 'SPAMDESK_ANON_RATE_LIMIT',
    flag: 'anon-rate-limit',
    description: 'Reports per minute accepted from one client address without a token.',
    schema: positiveInt,
    default: '30',
  }),
  sqliteSynchronous: setting({
    env: 'SPAMDESK_SQLITE_SYNCHRONOUS',
    flag: 'sqlite-synchronous',
    description: 'SQLite `synchronous` pragma: FULL survives power loss, NORMAL only process crashes.',
    schema: z.enum(['FULL', 'NORMAL', 'EXTRA']),
    default: 'FULL',
  }),
  sqliteCommitThread: setting({
    env: 'SPAMDESK_SQLITE_COMMIT_THREAD',
    flag: 'sqlite-commit-thread',
    description:
      'Compress and commit reports to SQLite in a worker thread of their own, so neither compression nor the fsync ' +
      'of a group commit stops the server from reading requests. Off by default: on an idle 2-core machine one ' +
      'thread was faster (16 HTTP clients: 1,120–1,189 against 795–1,047 reports/s) and uses ~90 MB less; try it ' +
      'with more cores.',
    schema: bool,
    default: 'false',
  }),
  workers: setting({
    env: 'SPAMDESK_WORKERS',
    flag: 'workers',
    description:
      'Analysis worker threads (default: one less than the CPU cores, at least one: the process that runs them also ' +
      'runs every stage’s database work on its main thread). 0 disables background work in this process.',
    schema: z.coerce.number().int().min(0).max(256),
    default: String(defaultAnalysisThreads()),
    docDefault: 'CPU cores − 1 (at least 1)',
  }),
  jobLeaseSeconds: setting({
    env: 'SPAMDESK_JOB_LEASE_SECONDS',
    flag: 'job-lease-seconds',
    description:
      'Lease of a claimed background job: a worker renews it every third of it while the job runs, and a job ' +
      'whose lease has run out (its process died) is claimed again by another worker.',
    schema: z.coerce.number().int().min(2).max(86_400),
    default: '60',
  }),
  roles: setting({
    env: 'SPAMDESK_ROLES',
    flag: 'only',
    description:
      'Roles `serve` runs in this process, comma-separated: `http`, `smtp`, `workers` (analysis and the other ' +
      'jobs), `outbox` (delivery), `indexer` (workbench index and roll-ups), `scheduler` (ISP digests, retention); ' +
      '`all` for every one. Singletons (roll-ups, digests, retention) run in one process at a time whatever the ' +
      'roles. With `all`, `serve` runs the background roles in a child process it supervises ' +
      '(`--background-process`).',
    schema: z.string().transform((v, c) => {
      const parts = v
        .split(',')
        .map((p) => p.trim().toLowerCase())
        .filter(Boolean);
      const bad = parts.filter((p) => p !== 'all' && !(ROLES as readonly string[]).includes(p));
      if (parts.length === 0 || bad.length > 0) {
        c.addIssue({
          code: 'custom',
          message: `unknown role(s) ${JSON.stringify(bad.join(','))}; use all or some of ${ROLES.join(',')}`,
        });
        return z.NEVER;
      }
      return parts.includes('all') ? [...ROLES] : ROLES.filter((r) => parts.includes(r));
    }),
    default: 'all',
  }),
  backgroundProcess: setting({
    env: 'SPAMDESK_BACKGROUND_PROCESS',
    flag: 'background-process',
    description:
      'When `serve` runs every role, run the background roles (workers, outbox, indexer, scheduler) in a child ' +
      'process it starts, restarts if it dies and stops with it, so their database work never holds up HTTP and ' +
      'SMTP. false: everything in one process.',
    schema: bool,
    default: 'true',
  }),
  logLevel: setting({
    env: 'SPAMDESK_LOG_LEVEL',
    flag: 'log-level',
    description: 'pino log level.',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
  }),
  region: setting({
    env: 'SPAMDESK_REGION',
    flag: 'region',
    description: 'ISO 3166 country of this instance (phone-number parsing, statistics).',
    schema: z.string().regex(/^[A-Z]{2}$/, 'two upper-case letters'),
    default: 'FR',
  }),
  analysisTimeoutMs: setting({
    env: 'SPAMDESK_ANALYSIS_TIMEOUT_MS',
    flag: 'analysis-timeout-ms',
    description: 'Wall-clock bound for analysing one message.',
    schema: positiveInt,
    default: '2000',
  }),
  analysisMaxDecodedBytes: setting({
    env: 'SPAMDESK_ANALYSIS_MAX_DECODED_BYTES',
    flag: 'analysis-max-decoded-bytes',
    description: 'Bound on decoded content (text, HTML, attachments) analysed per message.',
    schema: positiveInt,
    default: String(64 * 1024 * 1024),
  }),
  analysisMaxNesting: setting({
    env: 'SPAMDESK_ANALYSIS_MAX_NESTING',
    flag: 'analysis-max-nesting',
    description: 'Deepest carried message (message/rfc822 inside a message) analysed recursively.',
    schema: z.coerce.number().int().min(0).max(20),
    default: '5',
  }),
  backgroundHeapMb: setting({
    env: 'SPAMDESK_BACKGROUND_HEAP_MB',
    flag: 'background-heap-mb',
    description:
      'V8 old-generation heap limit of the background process (MiB), passed as --max-old-space-size unless ' +
      'NODE_OPTIONS or node’s own flags set one. The default is not passed where it would raise V8’s own default ' +
      'for the machine; a value set here is passed as it is. The child logs the limit it got. Under 2 GiB V8 lets ' +
      'the heap grow to at most ~1.8× what is live between collections instead of 4×: the process held ~130 MB less ' +
      'at its peak for ~4 % more CPU per report (more full collections; bench/RESULTS.md). A process that reaches ' +
      'it dies and is restarted (logged with a hint; three aborts within an hour are logged as a heap too small): ' +
      'raise it then. 0: V8’s default (faster, more memory).',
    schema: z.coerce.number().int().min(0).max(65536),
    default: '1536',
  }),
  backgroundNice: setting({
    env: 'SPAMDESK_BACKGROUND_NICE',
    flag: 'background-nice',
    description:
      'How much lower the background process runs than the web process (added to its nice value, at most 19): ' +
      'when both want a core, the kernel runs the intake first, and the pipeline takes whatever the intake ' +
      'leaves idle. Each of the child’s threads is set at its start (Linux: every thread in /proc/self/task; the ' +
      'analysis threads inherit it). 0: the same priority as the web process.',
    schema: z.coerce.number().int().min(0).max(19),
    default: '10',
  }),
  v8InterruptBudget: setting({
    env: 'SPAMDESK_V8_INTERRUPT_BUDGET',
    flag: 'v8-interrupt-budget',
    description:
      'Bytecode (bytes) a function runs between V8’s checks of whether to optimise it (V8’s --interrupt-budget; ' +
      'its own default is 67584), set for every process and thread of `spamdesk` at start, before any command ' +
      'loads. Spamdesk’s default, four times V8’s, leaves lukewarm code unoptimised: each isolate (web process, ' +
      'background process, every analysis and mail thread) compiles its own copies, and on the whole pipeline ' +
      'this cost ~7 % less CPU per report, the rate the same within the spread (bench/RESULTS.md, 2026-12-07). ' +
      'An --interrupt-budget given to node itself (command line, NODE_OPTIONS) wins. 0: V8’s own.',
    schema: z.coerce.number().int().min(0).max(1_073_741_824),
    default: '270336',
  }),
  analysisHeapMb: setting({
    env: 'SPAMDESK_ANALYSIS_HEAP_MB',
    flag: 'analysis-heap-mb',
    description:
      'Memory bound of one analysis thread (V8 old-generation heap, MiB): a message that needs more ends only its ' +
      'thread and gets an ANALYSIS_ERROR record (look-up: HTTP 422).',
    schema: z.coerce.number().int().min(64).max(16384),
    default: '768',
  }),
  analysisMaxTextBytes: setting({
    env: 'SPAMDESK_ANALYSIS_MAX_TEXT_BYTES',
    flag: 'analysis-max-text-bytes',
    description:
      'Decoded text (plain and HTML, per message) the analysis reads; past it the text is cut, the message analysed ' +
      'as far as it goes and an ANALYSIS_TRUNCATED finding added, so padding cannot push a message past the time ' +
      'bound.',
    schema: positiveInt,
    default: String(256 * 1024),
  }),
  lookupWorkers: setting({
    env: 'SPAMDESK_LOOKUP_WORKERS',
    flag: 'lookup-workers',
    description:
      'Analysis threads of the web process for `POST /api/v1/lookup` (started on the first look-up); up to 16 ' +
      'look-ups per thread wait, more get HTTP 503.',
    schema: z.coerce.number().int().min(1).max(64),
    default: '1',
  }),
  analysisMinThreads: setting({
    env: 'SPAMDESK_ANALYSIS_MIN_THREADS',
    flag: 'analysis-min-threads',
    description:
      'Analysis threads kept while idle, in each pool (background, look-up); the others end after ' +
      'SPAMDESK_ANALYSIS_IDLE_SECONDS without a message, their memory with them (~45–60 MB each), and start again ' +
      'when messages wait: the first message after that waits for a thread to start.',
    schema: z.coerce.number().int().min(0).max(256),
    default: '0',
  }),
  analysisIdleSeconds: setting({
    env: 'SPAMDESK_ANALYSIS_IDLE_SECONDS',
    flag: 'analysis-idle-seconds',
    description: 'Idle time after which an analysis thread beyond SPAMDESK_ANALYSIS_MIN_THREADS ends.',
    schema: positiveInt.max(86_400),
    default: '10',
  }),
  intakeHosts: setting({
    env: 'SPAMDESK_INTAKE_HOSTS',
    flag: 'intake-hosts',
    description:
      'Comma-separated host names, IPs or CIDRs of this instance’s own mail intake (trusted by the trace-back).',
    schema: z.string().transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
    default: '',
  }),
  abuseContactsFile: setting({
    env: 'SPAMDESK_ABUSE_CONTACTS_FILE',
    flag: 'abuse-contacts-file',
    description: 'CSV the operator loads: network (CIDR) or ASN, abuse address. Unset: shipped RIR defaults only.',
    schema: z.string().min(1).optional(),
  }),
  trustedRelaysFile: setting({
    env: 'SPAMDESK_TRUSTED_RELAYS_FILE',
    flag: 'trusted-relays-file',
    description:
      'JSON file of extra trusted mail relays for the trace-back (providers: names, networks, ASNs, authserv-ids), ' +
      'added to the shipped table.',
    schema: z.string().min(1).optional(),
  }),
  trustedAuthservIds: setting({
    env: 'SPAMDESK_TRUSTED_AUTHSERV_IDS',
    flag: 'trusted-authserv-ids',
    description:
      'Comma-separated Authentication-Results authserv-ids (RFC 8601) whose verdicts are kept, besides the trusted ' +
      'providers’ own.',
    schema: z.string().transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
    default: '',
  }),
  dnsMode: setting({
    env: 'SPAMDESK_DNS_MODE',
    flag: 'dns-mode',
    description:
      '`live`: analysis queries DNS (SPF, DKIM keys, DMARC, reverse DNS, the trace-back of mail under a week old); ' +
      '`offline`: every lookup answers not-found ' +
      'at once (air-gapped, benchmarks).',
    schema: z.enum(['live', 'offline']),
    default: 'live',
  }),
  dnsTimeoutMs: setting({
    env: 'SPAMDESK_DNS_TIMEOUT_MS',
    flag: 'dns-timeout-ms',
    description:
      'Timeout of one DNS query made by the analysis (one try); a timed-out lookup is a DNS_TEMPFAIL finding.',
    schema: positiveInt,
    default: '800',
  }),
  dnsMaxLookups: setting({
    env: 'SPAMDESK_DNS_MAX_LOOKUPS',
    flag: 'dns-max-lookups',
    description:
      'DNS lookups one message may cost per analysis stage (SPF alone is also capped at 10, RFC 7208 §4.6.4).',
    schema: positiveInt,
    default: '40',
  }),
  smtpEnabled: setting({
    env: 'SPAMDESK_SMTP_ENABLED',
    flag: 'smtp-enabled',
    description: 'Run the SMTP intake in `serve`.',
    schema: bool,
    default: 'true',
  }),
  smtpServerName: setting({
    env: 'SPAMDESK_SMTP_SERVER_NAME',
    flag: 'smtp-server-name',
    description:
      'Host name the SMTP intake announces in its greeting (the MX host name). Unset: the machine host name.',
    schema: z.string().min(1).max(253).optional(),
  }),
  smtpTlsCert: setting({
    env: 'SPAMDESK_SMTP_TLS_CERT',
    flag: 'smtp-tls-cert',
    description: 'PEM certificate chain file for SMTP STARTTLS. STARTTLS is offered only when cert and key are set.',
    schema: z.string().min(1).optional(),
  }),
  smtpTlsKey: setting({
    env: 'SPAMDESK_SMTP_TLS_KEY',
    flag: 'smtp-tls-key',
    description: 'PEM private key file for SMTP STARTTLS.',
    schema: z.string().min(1).optional(),
  }),
  smtpRateLimit: setting({
    env: 'SPAMDESK_SMTP_RATE_LIMIT',
    flag: 'smtp-rate-limit',
    description: 'Mails per minute the SMTP intake accepts from one client IP (beyond: 451, retry later).',
    schema: positiveInt,
    default: '60',
  }),
  smtpMaxConnectionsPerClient: setting({
    env: 'SPAMDESK_SMTP_MAX_CONNECTIONS_PER_CLIENT',
    flag: 'smtp-max-connections-per-client',
    description: 'Simultaneous SMTP connections allowed from one client IP (beyond: 421).',
    schema: positiveInt,
    default: '10',
  }),
  smtpMaxConnections: setting({
    env: 'SPAMDESK_SMTP_MAX_CONNECTIONS',
    flag: 'smtp-max-connections',
    description:
      'Simultaneous SMTP connections in all. When all are taken, the oldest connection not in the middle of a mail ' +
      'of the address holding the most is closed (421) to admit a newcomer; only when every address holds its fair ' +
      'share is the newcomer refused (421).',
    schema: positiveInt,
    default: '100',
  }),
  smtpIdleTimeoutMs: setting({
    env: 'SPAMDESK_SMTP_IDLE_TIMEOUT_MS',
    flag: 'smtp-idle-timeout-ms',
    description:
      'An SMTP client silent this long while the server waits for its next command or data is disconnected (421).',
    schema: positiveInt,
    default: '20000',
  }),
  smtpPreDataTimeoutMs: setting({
    env: 'SPAMDESK_SMTP_PRE_DATA_TIMEOUT_MS',
    flag: 'smtp-pre-data-timeout-ms',
    description:
      'Longest an SMTP connection may take from its greeting (or the end of its previous mail) to DATA, however ' +
      'active: a client trickling NOOPs is disconnected (421) like an idle one.',
    schema: positiveInt,
    default: '60000',
  }),
  smtpTrustedForwarders: setting({
    env: 'SPAMDESK_SMTP_TRUSTED_FORWARDERS',
    flag: 'smtp-trusted-forwarders',
    description:
      'Comma-separated IPs or CIDRs of relays whose From is taken as proved (e.g. your own webmail or MX that ' +
      'authenticated the user). Mail from anywhere else is attributed to a reporter account, and acknowledged, only ' +
      'when SPF or DKIM passes aligned with its From domain.',
    schema: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .refine(
        (l) => l.every((c) => isIpOrCidr(c)),
        'every entry must be an IP address or a CIDR (203.0.113.0/24, 2001:db8::/32)',
      ),
    default: '',
  }),
  smtpAckEnabled: setting({
    env: 'SPAMDESK_SMTP_ACK_ENABLED',
    flag: 'smtp-ack-enabled',
    description: 'Send an acknowledgement mail with the tracking link to whoever forwarded a report by mail.',
    schema: bool,
    default: 'false',
  }),
  smtpAckRelayUrl: setting({
    env: 'SPAMDESK_SMTP_ACK_RELAY_URL',
    flag: 'smtp-ack-relay-url',
    description:
      'Relay for acknowledgement mails (`smtp://host:port`, `smtps://user:pass@host:465`). Required when ' +
      'acknowledgements are on.',
    schema: z
      .string()
      .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
      .optional(),
  }),
  smtpAckFrom: setting({
    env: 'SPAMDESK_SMTP_ACK_FROM',
    flag: 'smtp-ack-from',
    description: 'From address of acknowledgement mails.',
    schema: z.string().min(3).max(320),
    default: 'Spamdesk <noreply@localhost>',
  }),
  outboxEnabled: setting({
    env: 'SPAMDESK_OUTBOX_ENABLED',
    flag: 'outbox-enabled',
    description: 'Run the outbox delivery loop and the ISP-digest scheduler in `serve` (actions area).',
    schema: bool,
    default: 'true',
  }),
  outboxSmtpUrl: setting({
    env: 'SPAMDESK_OUTBOX_SMTP_URL',
    flag: 'outbox-smtp-url',
    description:
      'Relay for outgoing mail (`smtp://host:port`, `smtps://user:pass@host:465`). Unset: mail stays queued in the ' +
      'outbox.',
    schema: z
      .string()
      .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
      .optional(),
  }),
  outboxFrom: setting({
    env: 'SPAMDESK_OUTBOX_FROM',
    flag: 'outbox-from',
    description: 'From address (and envelope sender) of referrals, ISP digests and feedback reports.',
    schema: z.email(),
    default: 'abuse-desk@spamdesk.invalid',
  }),
  outboxMaxAttempts: setting({
    env: 'SPAMDESK_OUTBOX_MAX_ATTEMPTS',
    flag: 'outbox-max-attempts',
    description: 'Delivery attempts before an outbox entry goes to the dead-letter state.',
    schema: positiveInt,
    default: '12',
  }),
  outboxRetryBaseMs: setting({
    env: 'SPAMDESK_OUTBOX_RETRY_BASE_MS',
    flag: 'outbox-retry-base-ms',
    description: 'First retry delay; doubles per attempt (exponential backoff, capped at 6 h).',
    schema: positiveInt,
    default: '30000',
  }),
  outboxLeaseSeconds: setting({
    env: 'SPAMDESK_OUTBOX_LEASE_SECONDS',
    flag: 'outbox-lease-seconds',
    description: 'An entry claimed longer ago than this by a process that died is tried again.',
    schema: z.coerce.number().int().min(0),
    default: '300',
  }),
  actionsPolicyFile: setting({
    env: 'SPAMDESK_ACTIONS_POLICY',
    flag: 'actions-policy',
    description:
      'JSON file with case rules, authority routing and ISP-alert thresholds (docs/actions.md). Unset: built-in ' +
      'defaults.',
    schema: z.string().min(1).optional(),
  }),
  webCookieSecure: setting({
    env: 'SPAMDESK_WEB_COOKIE_SECURE',
    flag: 'web-cookie-secure',
    description: 'Mark session cookies `Secure`: `auto` does so when the public URL is https.',
    schema: z.enum(['auto', 'true', 'false']),
    default: 'auto',
  }),
  webSessionHours: setting({
    env: 'SPAMDESK_WEB_SESSION_HOURS',
    flag: 'web-session-hours',
    description: 'Lifetime of a web session (sliding: renewed while used).',
    schema: positiveInt,
    default: '12',
  }),
  webLoginMaxFailures: setting({
    env: 'SPAMDESK_WEB_LOGIN_MAX_FAILURES',
    flag: 'web-login-max-failures',
    description:
      'Wrong passwords for one account from one client address before each further try from there must wait (HTTP ' +
      '429 with `Retry-After`), the wait doubling from `web-login-backoff-seconds` up to `web-lockout-minutes`. The ' +
      'owner signing in from another address is not slowed.',
    schema: positiveInt,
    default: '5',
  }),
  webLoginAddressMaxFailures: setting({
    env: 'SPAMDESK_WEB_LOGIN_ADDRESS_MAX_FAILURES',
    flag: 'web-login-address-max-failures',
    description:
      'Wrong passwords from one client address, whatever the account (password spraying), before its tries are ' +
      'slowed the same way.',
    schema: positiveInt,
    default: '20',
  }),
  webLoginAccountMaxFailures: setting({
    env: 'SPAMDESK_WEB_LOGIN_ACCOUNT_MAX_FAILURES',
    flag: 'web-login-account-max-failures',
    description:
      'Wrong passwords for one account from all addresses together (distributed guessing) before its tries are ' +
      'slowed the same way; addresses the account signed in from in the last 30 days are exempt from this count.',
    schema: positiveInt,
    default: '20',
  }),
  webLoginBackoffSeconds: setting({
    env: 'SPAMDESK_WEB_LOGIN_BACKOFF_SECONDS',
    flag: 'web-login-backoff-seconds',
    description: 'First wait once a sign-in limit is reached; each further failure doubles it.',
    schema: positiveInt,
    default: '1',
  }),
  webLockoutMinutes: setting({
    env: 'SPAMDESK_WEB_LOCKOUT_MINUTES',
    flag: 'web-lockout-minutes',
    description: 'Window over which failed sign-ins are counted, and the longest wait the backoff imposes.',
    schema: positiveInt,
    default: '15',
  }),
  webIndexIntervalMs: setting({
    env: 'SPAMDESK_WEB_INDEX_INTERVAL_MS',
    flag: 'web-index-interval-ms',
    description: 'How often the workbench index picks up new analyses and classifications.',
    schema: positiveInt,
    default: '2000',
  }),
  classifyScoresFile: setting({
    env: 'SPAMDESK_CLASSIFY_SCORES_FILE',
    flag: 'classify-scores-file',
    description:
      'JSON file overriding classification rule weights and priors (same shape as ' +
      '`src/analysis/classify/scores.default.json`). Unset: the shipped defaults.',
    schema: z.string().min(1).optional(),
  }),
  smsProfilesFile: setting({
    env: 'SPAMDESK_SMS_PROFILES_FILE',
    flag: 'sms-profiles-file',
    description:
      'JSON file replacing the SMS impersonation profiles (brands, public services and wording per country; same ' +
      'shape as `src/analysis/data/sms-profiles.json`). Unset: the shipped profiles.',
    schema: z.string().min(1).optional(),
  }),
  textModelFile: setting({
    env: 'SPAMDESK_TEXT_MODEL_FILE',
    flag: 'text-model-file',
    description: 'Text-classifier artifact built by `npm run train`. Unset: the shipped `models/text-model.json`.',
    schema: z.string().min(1).optional(),
  }),
  instanceKeySecret: setting({
    env: 'SPAMDESK_INSTANCE_KEY_SECRET',
    flag: 'instance-key-secret',
    description:
      'Secret that encrypts the instance’s Ed25519 signing keys in the database (AES-256-GCM, key derived with ' +
      'scrypt). Every process of one instance must have the same value. Unset: a random secret kept in ' +
      '`<data-dir>/keys/instance-key-secret` (enough for processes sharing one data directory). See docs/privacy.md.',
    schema: z.string().min(16, 'at least 16 characters').max(1024).optional(),
    secret: true,
  }),
  retentionRawDays: setting({
    env: 'SPAMDESK_RETENTION_RAW_DAYS',
    flag: 'retention-raw-days',
    description:
      'Days the raw evidence (message bytes) and its analysis are kept after the last report of it; then only its ' +
      'hash, size and the report rows remain. Evidence under a referred case is kept. 0: forever.',
    schema: z.coerce.number().int().min(0),
    default: '365',
  }),
  retentionReportsDays: setting({
    env: 'SPAMDESK_RETENTION_REPORTS_DAYS',
    flag: 'retention-reports-days',
    description:
      'Days a report is kept (then it is deleted with what was derived from it; statistics roll-ups stay). Reports ' +
      'under a referred case are kept. 0: forever.',
    schema: z.coerce.number().int().min(0),
    default: '730',
  }),
  retentionPartitionMonths: setting({
    env: 'SPAMDESK_RETENTION_PARTITION_MONTHS',
    flag: 'retention-partition-months',
    description:
      'PostgreSQL: whole months of reports older than this many months (by creation month) are dropped as ' +
      'partitions, after the reports under a referred case are moved out and the rows derived from the others ' +
      'deleted. Runs with the retention service. 0: off (SQLite: always off; the row-by-row period still applies).',
    schema: z.coerce.number().int().min(0),
    default: '0',
  }),
  retentionIdentityDays: setting({
    env: 'SPAMDESK_RETENTION_IDENTITY_DAYS',
    flag: 'retention-identity-days',
    description:
      'Days the reporter’s identity (address, number, account link, client IP, note, forwarding wrapper) is kept ' +
      'with a report. 0: forever.',
    schema: z.coerce.number().int().min(0),
    default: '180',
  }),
  retentionAuditDays: setting({
    env: 'SPAMDESK_RETENTION_AUDIT_DAYS',
    flag: 'retention-audit-days',
    description:
      'Days audit-log entries are kept; older ones are pruned behind a checkpoint so the chain still verifies. 0: ' +
      'forever.',
    schema: z.coerce.number().int().min(0),
    default: '3650',
  }),
  retentionIntervalMinutes: setting({
    env: 'SPAMDESK_RETENTION_INTERVAL_MINUTES',
    flag: 'retention-interval-minutes',
    description:
      'How often `serve` applies the retention periods. 0: never (run `spamdesk privacy retention` from cron instead).',
    schema: z.coerce.number().int().min(0),
    default: '60',
  }),
  feedsZonesDir: setting({
    env: 'SPAMDESK_FEEDS_ZONES_DIR',
    flag: 'feeds-zones-dir',
    description:
      'Directory where `serve` keeps the DNS blocklist’s rbldnsd zones up to date (written atomically within a ' +
      'minute of a change; see docs/feeds.md). Unset: listings are still computed, no zone is written.',
    schema: z.string().min(1).optional(),
  }),
  feedsListingIntervalSeconds: setting({
    env: 'SPAMDESK_FEEDS_LISTING_INTERVAL_SECONDS',
    flag: 'feeds-listing-interval-seconds',
    description:
      'How often `serve` reads new reports into the listings and rewrites changed zones (the feed lag is at most ' +
      'this plus the analysis). 0: never (run `spamdesk feeds dnsbl` from cron instead).',
    schema: z.coerce.number().int().min(0).max(3600),
    default: '10',
  }),
  intelBuildIntervalMs: setting({
    env: 'SPAMDESK_INTEL_BUILD_INTERVAL_MS',
    flag: 'intel-build-interval-ms',
    description:
      'How often `serve` rebuilds the threat-intelligence collections (STIX/TAXII, MISP feed) from the campaigns. ' +
      '0: never (run `spamdesk intel build` from cron instead).',
    schema: z.coerce.number().int().min(0),
    default: '10000',
  }),
  intelBuildHeapMb: setting({
    env: 'SPAMDESK_INTEL_BUILD_HEAP_MB',
    flag: 'intel-build-heap-mb',
    description:
      'V8 heap limit (MiB, old generation) of the thread in which `serve` builds the intel collections (from ' +
      'SPAMDESK_INTEL_BUILD_THREAD_FROM publishable campaigns; below, builds run on the calling thread). A build ' +
      'holds every publishable campaign and object at once: 20,000 campaigns built under 768, 50,000 under 1,536 ' +
      '(bench/RESULTS.md). A build that reaches it ends that thread only, logged as `intel build failed` naming this ' +
      'setting; the pipeline goes on.',
    schema: z.coerce.number().int().min(16).max(65536),
    default: '1536',
  }),
  intelBuildThreadFrom: setting({
    env: 'SPAMDESK_INTEL_BUILD_THREAD_FROM',
    flag: 'intel-build-thread-from',
    description:
      'Publishable campaigns from which `serve` builds the intel collections in a thread of their own (own ' +
      'connection and heap limit: the pipeline is not held up, running out of heap ends that thread only) rather ' +
      'than on the thread that runs the pipeline. Below it a build takes under a second (1,000: 0.25–0.8 s), and ' +
      'a thread alive beside the pipeline costs memory (e2e peak 640–716 against 600–632 MB). 0: always in the thread.',
    schema: z.coerce.number().int().min(0),
    default: '1000',
  }),
} as const;

export type SettingKey = keyof typeof SETTINGS;
type SettingValue<K extends SettingKey> = z.output<(typeof SETTINGS)[K]['schema']>;

/** The validated, frozen configuration. */
export type Config = { readonly [K in SettingKey]: SettingValue<K> } & {
  /** Resolved database location. */
  readonly database:
    | { readonly dialect: 'sqlite'; readonly path: string }
    | {
        readonly dialect: 'postgres';
        readonly url: string;
        /** Keep repeated statements prepared (`pgPreparedStatements`); default true. */
        readonly preparedStatements?: boolean;
      };
};

/** Thrown by {@link loadConfig}; lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Raw sources: CLI flags win over environment, which wins over defaults. */
export interface ConfigSources {
  env?: NodeJS.ProcessEnv;
  /** Keyed by setting key (camelCase), as commander produces them. */
  flags?: Partial<Record<SettingKey, unknown>>;
}

/**
 * One setting's value from its flag (when given), else its environment variable (an empty one counts as
 * unset), else its default, validated: the value, or the problem as the configuration error lists it.
 */
function resolveSetting(
  def: SettingDef,
  fromFlag: unknown,
  env: NodeJS.ProcessEnv,
): { value: unknown } | { problem: string } {
  const fromEnv = env[def.env];
  const envSet = fromEnv !== undefined && fromEnv !== '';
  const raw = fromFlag !== undefined ? fromFlag : envSet ? fromEnv : def.default;
  const source = fromFlag !== undefined ? `--${def.flag}` : envSet ? def.env : 'default';
  const parsed = def.schema.safeParse(raw);
  if (parsed.success) return { value: parsed.data };
  const reason = parsed.error.issues.map((i) => i.message).join('; ');
  const shown = def.secret ? '(secret, not shown)' : JSON.stringify(raw);
  return { problem: `${def.env} / --${def.flag} (from ${source}, value ${shown}): ${reason}` };
}

/**
 * Reads and validates every setting. Throws {@link ConfigError} with all problems.
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const flags = sources.flags ?? {};
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(SETTINGS) as [SettingKey, SettingDef][]) {
    const r = resolveSetting(def, flags[key], env);
    if ('problem' in r) problems.push(r.problem);
    else out[key] = r.value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const dataDir = path.resolve(String(out.dataDir));
  out.dataDir = dataDir;
  const url = out.databaseUrl as string | undefined;
  if (url === undefined) {
    out.database = { dialect: 'sqlite', path: path.join(dataDir, 'spamdesk.db') };
  } else if (url.startsWith('sqlite:')) {
    const p = url.slice('sqlite:'.length);
    out.database = { dialect: 'sqlite', path: p === ':memory:' ? p : path.resolve(p) };
  } else {
    out.database = { dialect: 'postgres', url, preparedStatements: out.pgPreparedStatements !== false };
  }
  return Object.freeze(out) as Config;
}

/**
 * One setting read before the command line is parsed (flags win over the environment, which wins over
 * the default): for what must happen before any command's modules load, such as V8's flags. The flag
 * is taken from `argv` as `--flag=value` or `--flag value`. Throws {@link ConfigError} when invalid.
 */
export function earlySetting<K extends SettingKey>(
  key: K,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): unknown {
  const def = SETTINGS[key] as SettingDef;
  let fromFlag: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') break;
    if (a.startsWith(`--${def.flag}=`)) fromFlag = a.slice(def.flag.length + 3);
    else if (a === `--${def.flag}` && i + 1 < argv.length) fromFlag = argv[++i];
  }
  const r = resolveSetting(def, fromFlag, env);
  if ('problem' in r) throw new ConfigError([r.problem]);
  return r.value;
}

/** Test helper: a valid config with overrides, independent of the process environment. */
export function testConfig(overrides: Partial<Record<SettingKey, unknown>> = {}): Config {
  return loadConfig({ env: {}, flags: { logLevel: 'silent', workers: 0, smtpEnabled: false, ...overrides } });
}

/** Base URL of the instance as people reach it. */
export function publicBaseUrl(config: Config, boundPort?: number): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/$/, '');
  const host = config.httpHost === '0.0.0.0' || config.httpHost === '::' ? 'localhost' : config.httpHost;
  return `http://${host}:${boundPort ?? config.httpPort}`;
}

/** The configuration reference as a Markdown table (docs/configuration.md). */
export function settingsMarkdown(): string {
  // A `|` inside a cell would end it (GitHub-flavoured Markdown tables).
  const cell = (v: string) => v.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
  const rows = Object.values(SETTINGS).map((d: SettingDef) => {
    const def = d.docDefault ?? (d.default === undefined ? undefined : `\`${d.default}\``);
    return `| \`${d.env}\` | \`--${d.flag}\` | ${def === undefined ? '—' : cell(def)} | ${cell(d.description)} |`;
  });
  return ['| variable | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
