/**
 * Scale-out measured (issue 20, item 5): the same corpus stream (bench/e2e.ts's seeded sample of the
 * labelled corpora, mixed) POSTed by 16 keep-alive clients (or one, `--clients 1`, for one intake
 * order; `--rate` for an offered load), report i to server i mod n, over one, two and three
 * `spamdesk serve` processes sharing one PostgreSQL database, and over one on SQLite; timed from the
 * first POST until every accepted report is analysed, in a campaign, through actions and indexed.
 * `postgres-apart:3` runs three processes that are each an instance of their own with their own
 * database: the same processes and threads on the same cores, nothing shared. On a machine with fewer
 * cores than processes, CPU per report grows with the processes sharing the cores whether or not they
 * coordinate; `postgres:3` against `postgres-apart:3` is what coordination costs, and
 * `postgres-apart:3` against `postgres:1` what sharing the cores costs.
 *
 * For each set-up it prints:
 * - end-to-end reports/s and the POST acceptance rate and latency;
 * - CPU-seconds per report of the Spamdesk process trees (each serve with its background child and
 *   threads) and, on PostgreSQL, of the database's backends serving them (sampled from /proc through
 *   `pg_stat_activity`): on two cores the wall rate cannot grow with processes, so CPU per report
 *   is the figure that shows what coordination costs (against `postgres-apart:3`, see above);
 * - lock waits: `pg_stat_activity` sampled every 200 ms, backends of this database waiting on a
 *   heavyweight lock (`wait_event_type = 'Lock'`) by event (transactionid, tuple…; an advisory
 *   lock by its class in `db/xact-locks.ts`, e.g. `advisory:clusterKey`), as backend-seconds
 *   (samples × interval) and the most seen at once;
 * - deadlocks: `pg_stat_database.deadlocks` of the fresh database, and the servers' `job failed`
 *   log lines (all, and those saying `deadlock detected`);
 * - exactly once: reports, index rows at STAGE_CLASSIFIED, actions facts and analyses per stored
 *   message, and the campaigns the stream made (the same stream should give the same campaigns
 *   whatever the number of processes).
 *
 *   npm run bench -- scale
 *   npm run bench -- scale --reports 600 --setups sqlite:1,postgres:1,postgres:2,postgres:3
 *   npm run bench -- scale --reports 2000 --clients 1 --setups postgres:1,postgres-apart:3,postgres:3
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import type { Bench } from './registry.ts';
import { CORPUS_DIR, corpusAvailable, mb, percentile, row } from './lib.ts';
import { codeLabel, startBenchServer, type BenchServer } from './server.ts';
import {
  STAGE_JOBS,
  descendants,
  openWatcher,
  WATCHER_APP_NAME,
  postReport,
  sampleMessages,
  treeCpuSeconds,
  treeRss,
  type Progress,
  type Watcher,
} from './e2e.ts';
import { testConfig } from '../src/core/config.ts';
import { randomSecret } from '../src/core/ids.ts';
import { openDatabase } from '../src/db/dialect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { PG_ADMIN_URL, postgresUnavailable } from '../src/db/test-databases.ts';
import { createToken } from '../src/db/tokens.ts';
import { STAGE_CLASSIFIED } from '../src/web/indexer.ts';
import { LOCK_CLASS } from '../src/db/xact-locks.ts';

/** With no progress at all for this long, the run stops and says what is missing. */
const STALL_MS = 120_000;
const POLL_MS = 1000;
const LOCK_SAMPLE_MS = 200;
const CLOCK_TICKS = 100;
/** Advisory lock classes by number, for the lock-wait figures (others print as their number). */
const LOCK_CLASS_NAME = new Map<number, string>(Object.entries(LOCK_CLASS).map(([k, v]) => [v, k]));

interface Setup {
  dialect: 'sqlite' | 'postgres';
  processes: number;
  /**
   * Each process a whole instance of its own, with its own database (`postgres-apart:3`): the same
   * processes and threads on the same cores as `postgres:3`, doing the same kind of work, with nothing
   * to coordinate. Against it, `postgres:3` shows what coordination costs; against `postgres:1`, what
   * sharing the cores costs.
   */
  apart: boolean;
}

interface Options {
  reports: number;
  clients: number;
  /** Warm-up reports per process of the largest set-up (every set-up gets the same warm-up set). */
  warmup: number;
  /**
   * Offered load in reports per second over all servers (open loop), or null: as fast as the
   * clients go. Paced below every set-up's capacity, each set-up does the same work at the same
   * moment and the CPU per report is not the cost of running more processes than cores flat out.
   */
  rate: number | null;
  setups: Setup[];
}

function options(): Options {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: false,
    allowPositionals: true,
    options: {
      reports: { type: 'string' },
      clients: { type: 'string' },
      warmup: { type: 'string' },
      rate: { type: 'string' },
      setups: { type: 'string' },
    },
  });
  const num = (v: unknown, dflt: number, what: string): number => {
    const s = typeof v === 'string' ? v : String(dflt);
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${what} wants a positive whole number, not ${s}`);
    return n;
  };
  const spec =
    typeof values.setups === 'string' ? values.setups : 'sqlite:1,postgres:1,postgres:2,postgres-apart:3,postgres:3';
  const setups = spec.split(',').map((s): Setup => {
    const m = /^(sqlite|postgres)(-apart)?:([1-9])$/.exec(s.trim());
    if (!m || (m[1] === 'sqlite' && m[2]))
      throw new Error(`--setups wants entries like postgres:2 or postgres-apart:3 (engine:processes, 1–9), not ${s}`);
    if (m[1] === 'sqlite' && m[3] !== '1') throw new Error('--setups: SQLite runs one serve (one machine, one file)');
    return { dialect: m[1] as Setup['dialect'], processes: Number(m[3]), apart: m[2] !== undefined };
  });
  return {
    reports: num(values.reports, 1000, 'reports'),
    clients: num(values.clients, 16, 'clients'),
    warmup: num(values.warmup, WARMUP_PER_PROCESS, 'warmup'),
    rate: values.rate === undefined ? null : num(values.rate, 0, 'rate'),
    setups,
  };
}

const say = (s: string) => process.stdout.write(`${s}\n`);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** CPU-seconds (user + system) of one process so far; null once it is gone. */
function processCpuSeconds(pid: number): number | null {
  try {
    const f = fs
      .readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/**
 * Samples the database's sessions: who waits on a lock, and how much CPU its backends used (each
 * backend's /proc counter, first and last seen; a backend that ends between two samples loses at
 * most one interval).
 */
class PgSampler {
  readonly #client: pg.Client;
  readonly #dbNames: readonly string[];
  readonly #firstCpu = new Map<number, number>();
  readonly #lastCpu = new Map<number, number>();
  readonly lockSamples = new Map<string, number>();
  maxWaiting = 0;
  samples = 0;
  #timer: NodeJS.Timeout | null = null;
  #busy = false;

  constructor(client: pg.Client, dbNames: readonly string[]) {
    this.#client = client;
    this.#dbNames = dbNames;
  }

  start(): void {
    this.#timer = setInterval(() => void this.#sample(), LOCK_SAMPLE_MS);
  }

  async #sample(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      // A wait on an advisory lock is told apart by the lock's class (the first half of its key).
      const r = await this.#client.query<{
        pid: number;
        wait_event_type: string | null;
        wait_event: string | null;
        cls: number | null;
      }>(
        `select a.pid, a.wait_event_type, a.wait_event,
                (select l.classid::int from pg_locks l
                  where l.pid = a.pid and not l.granted and l.locktype = 'advisory' limit 1) as cls
           from pg_stat_activity a
          where a.datname = any($1) and a.pid <> pg_backend_pid() and a.application_name <> $2`,
        [this.#dbNames, WATCHER_APP_NAME],
      );
      this.samples++;
      let waiting = 0;
      for (const b of r.rows) {
        const cpu = processCpuSeconds(b.pid);
        if (cpu !== null) {
          if (!this.#firstCpu.has(b.pid)) this.#firstCpu.set(b.pid, cpu);
          this.#lastCpu.set(b.pid, cpu);
        }
        if (b.wait_event_type !== 'Lock') continue;
        waiting++;
        const key = b.cls === null ? (b.wait_event ?? '?') : `advisory:${LOCK_CLASS_NAME.get(b.cls) ?? b.cls}`;
        this.lockSamples.set(key, (this.lockSamples.get(key) ?? 0) + 1);
      }
      this.maxWaiting = Math.max(this.maxWaiting, waiting);
    } catch {
      // The database went away at the end of the run.
    } finally {
      this.#busy = false;
    }
  }

  /** CPU-seconds the sampled backends used since first seen. */
  backendCpu(): number {
    let s = 0;
    for (const [pid, last] of this.#lastCpu) s += last - (this.#firstCpu.get(pid) ?? last);
    return s;
  }

  /** Backend-seconds spent waiting on heavyweight locks (samples × interval). */
  lockWaitSeconds(): number {
    let n = 0;
    for (const v of this.lockSamples.values()) n += v;
    return (n * LOCK_SAMPLE_MS) / 1000;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}

/**
 * Reports posted per process (round-robin) before the measured stream, so every process's analysis
 * threads have compiled their hot code and filled their caches when the CPU baseline is taken: with a
 * handful, a three-process run counted three times the JIT warm-up of one (run 2 of 2026-12-02). The
 * warm-up set is the same in every set-up (per-process count × the largest set-up's processes), so
 * each starts its measured stream from the same stored campaigns.
 */
const WARMUP_PER_PROCESS = 100;

/** True once `n` reports are stored, every per-report job is done, and each is through actions and indexed. */
function allThrough(p: Progress, n: number): boolean {
  return p.reports === n && STAGE_JOBS.every((k) => p.pending[k] === 0) && p.facts >= n && p.indexed >= n;
}

/** Posts the warm-up reports and waits until they are through every stage; returns the seconds it took. */
async function warmUp(
  servers: BenchServer[],
  tokens: readonly string[],
  warmup: Buffer[],
  watching: Watcher,
): Promise<number> {
  const t0 = performance.now();
  const agent = new http.Agent({ keepAlive: true });
  // One at a time, round-robin over the servers: every process gets its share to compile its intake
  // code on, and the intake order (hence the campaigns the measured stream starts from) is the same
  // in every set-up. Sixteen clients at once made it depend on timing, and `moved` counted that.
  for (let i = 0; i < warmup.length; i++) {
    const k = i % servers.length;
    const r = await postReport(servers[k].url, agent, tokens[k], warmup[i]);
    if (r.status !== 202) throw new Error(`warm-up report refused: ${r.status} ${r.text.slice(0, 200)}`);
  }
  agent.destroy();
  while (!allThrough(await watching.progress(), warmup.length)) {
    if (performance.now() - t0 > STALL_MS) throw new Error(`warm-up unfinished after ${STALL_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return (performance.now() - t0) / 1000;
}

/** How long the idle processes are watched after warm-up, for their idle CPU rate. */
const IDLE_MS = 20_000;

/** Start-up work (worker threads loading the IP→ASN data, first indexer pass) ends within this. */
const SETTLE_MAX_MS = 180_000;

/**
 * Waits until the servers' process trees are quiet (under 0.1 CPU-s per second over 3 s) so the
 * start-up work of the background children is not counted per report; returns the seconds waited.
 */
async function settle(pids: number[], cpuNow: () => number, setKids: (k: number[][]) => void): Promise<number> {
  const t0 = performance.now();
  let prev = cpuNow();
  while (performance.now() - t0 < SETTLE_MAX_MS) {
    await new Promise((r) => setTimeout(r, 3000));
    setKids(pids.map((p) => descendants(p)));
    const now = cpuNow();
    if (now - prev < 0.3) break;
    prev = now;
  }
  return (performance.now() - t0) / 1000;
}

interface RunResult {
  setup: string;
  accepted: number;
  complete: boolean;
  e2eRate: number;
  acceptRate: number;
  p99: number;
  appCpuPerReport: number;
  pgCpuPerReport: number | null;
  lockWaitSeconds: number | null;
  maxWaiting: number | null;
  lockEvents: string;
  deadlocks: number | null;
  jobFailures: number;
  deadlockLines: number;
  campaigns: number;
  /** Message sha256 → key of its campaign's message set (see {@link outcome}). */
  partition: Map<string, string>;
  exact: string;
  loadBefore: string;
  loadAfter: string;
}

/** {@link outcome} over each database of a set-up: counts added, partitions joined (keys are per database). */
async function outcomes(
  configs: readonly ReturnType<typeof testConfig>[],
): Promise<Awaited<ReturnType<typeof outcome>>> {
  const each = [];
  for (const c of configs)
    each.push(
      await outcome(
        c.database.dialect === 'sqlite'
          ? { dialect: 'sqlite', path: c.database.path }
          : { dialect: 'postgres', path: '', url: c.database.url },
      ),
    );
  if (each.length === 1) return each[0];
  return {
    campaigns: each.reduce((a, o) => a + o.campaigns, 0),
    exact: each.map((o, i) => `database ${i + 1}: ${o.exact}`).join('; '),
    partition: new Map(each.flatMap((o, i) => [...o.partition].map(([sha, key]) => [sha, `${i}:${key}`] as const))),
  };
}

/** The progress of several instances' databases as one. */
function sumProgress(ps: readonly Progress[]): Progress {
  const pending = { 'analyse-report': 0, 'campaign-report': 0, 'actions-report': 0 };
  for (const p of ps) for (const k of STAGE_JOBS) pending[k] += p.pending[k];
  const sum = (f: (p: Progress) => number) => ps.reduce((a, p) => a + f(p), 0);
  return {
    reports: sum((p) => p.reports),
    pending,
    dead: sum((p) => p.dead),
    facts: sum((p) => p.facts),
    indexed: sum((p) => p.indexed),
  };
}

/**
 * Counts of what the stream left behind, to check that each report was processed once, and the
 * campaigns as a partition of the messages: each message's key is the sorted list of its campaign's
 * messages (merges followed), so two set-ups can be compared message by message, whatever ids their
 * campaigns got.
 */
async function outcome(database: { dialect: 'sqlite' | 'postgres'; path: string; url?: string }): Promise<{
  campaigns: number;
  exact: string;
  partition: Map<string, string>;
}> {
  const db = openDatabase(
    database.dialect === 'sqlite'
      ? { dialect: 'sqlite', path: database.path }
      : { dialect: 'postgres', url: database.url ?? '' },
  );
  try {
    const one = async (q: string): Promise<number> => {
      const { rows } = await sql.raw<{ n: number }>(q).execute(db);
      return Number(rows[0]?.n ?? 0);
    };
    const reports = await one('select count(*) as n from reports');
    const indexRows = await one('select count(*) as n from web_report_index');
    const facts = await one('select count(*) as n from action_report_facts');
    const messages = await one('select count(distinct message_sha256) as n from reports');
    const analyses = await one('select count(*) as n from analyses');
    const rolled = await one("select coalesce(sum(n), 0) as n from web_rollup_daily where dim = 'category'");
    const campaigns = await one('select count(*) as n from campaigns where merged_into is null');
    const { rows: members } = await sql<{ sha256: string; campaign: string }>`
      select m.sha256, coalesce(c.merged_into, m.campaign_id) as campaign
      from campaign_messages m left join campaigns c on c.id = m.campaign_id`.execute(db);
    const byCampaign = new Map<string, string[]>();
    for (const m of members) byCampaign.set(m.campaign, [...(byCampaign.get(m.campaign) ?? []), m.sha256]);
    const partition = new Map<string, string>();
    for (const shas of byCampaign.values()) {
      const key = crypto.createHash('sha256').update(shas.sort().join(',')).digest('hex').slice(0, 16);
      for (const sha of shas) partition.set(sha, key);
    }
    const { rows: missing } = await sql<{ id: string; received_at: string; stage: number | null }>`
      select r.id, r.received_at, w.stage from reports r left join web_report_index w on w.report_id = r.id
      where w.report_id is null or w.stage < ${STAGE_CLASSIFIED} order by r.id limit 5`.execute(db);
    return {
      campaigns,
      partition,
      exact:
        `${reports} reports, ${indexRows} index rows, ${facts} facts, ${analyses} analyses of ${messages} ` +
        `messages, category roll-ups sum ${rolled}` +
        (missing.length === 0
          ? ''
          : `; not indexed as classified: ${missing.map((m) => `${m.id} (${m.received_at}, stage ${m.stage})`)}`),
    };
  } finally {
    await db.destroy();
  }
}

async function runOne(setup: Setup, messages: Buffer[], warmup: Buffer[], opts: Options): Promise<RunResult | null> {
  const label = `${setup.dialect}×${setup.processes}${setup.apart ? ' apart' : ''}`;
  const dataDirs = Array.from({ length: setup.processes }, () =>
    fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-bench-scale-')),
  );
  // One database, or one per process when the processes are instances apart.
  const dbCount = setup.apart ? setup.processes : 1;
  const dbOf = (k: number) => (setup.apart ? k : 0);
  const pgNames: string[] = [];
  const databaseUrls: string[] = [];
  let admin: pg.Client | null = null;
  if (setup.dialect === 'postgres') {
    const reason = await postgresUnavailable();
    if (reason !== null) {
      say(`SKIP scale on PostgreSQL: ${PG_ADMIN_URL} does not answer (${reason})`);
      for (const d of dataDirs) fs.rmSync(d, { recursive: true, force: true });
      return null;
    }
    admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    for (let i = 0; i < dbCount; i++) {
      const name = `spamdesk_bench_scale_${randomSecret(6)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, 'x')}`;
      await admin.query(`create database ${name}`);
      pgNames.push(name);
      const u = new URL(PG_ADMIN_URL);
      u.pathname = `/${name}`;
      databaseUrls.push(u.toString());
    }
    // Plans depend on statistics: with autovacuum off nothing is analysed while the stream runs.
    const setting = async (name: string) => (await admin?.query(`show ${name}`))?.rows[0]?.[name] as string;
    say(
      `PostgreSQL ${await setting('server_version')}: autovacuum ${await setting('autovacuum')}, ` +
        `shared_buffers ${await setting('shared_buffers')}`,
    );
  }
  const configs = Array.from({ length: dbCount }, (_, i) =>
    testConfig({ dataDir: dataDirs[i], ...(databaseUrls[i] ? { databaseUrl: databaseUrls[i] } : {}) }),
  );
  const servers: BenchServer[] = [];
  const logCounts = { jobFailures: 0, deadlockLines: 0 };
  let watcher: Watcher | null = null;
  let sampler: PgSampler | null = null;
  try {
    const dbTokens: string[] = [];
    for (const config of configs) {
      const setupDb = openDatabase(config.database);
      await migrateToLatest(setupDb);
      dbTokens.push((await createToken(setupDb, { role: 'reporter', name: 'bench-scale' })).secret);
      await setupDb.destroy();
    }
    const tokens = dataDirs.map((_, k) => dbTokens[dbOf(k)]);

    // Every process of one instance shares the key secret (docs/operations.md); each has its own data dir.
    const keySecret = randomSecret(24);
    for (const [k, dir] of dataDirs.entries()) {
      const databaseUrl = databaseUrls[dbOf(k)];
      const s = await startBenchServer([
        '--data-dir',
        dir,
        ...(databaseUrl ? ['--database-url', databaseUrl] : []),
        '--instance-key-secret',
        keySecret,
        '--http-port',
        '0',
        '--smtp-enabled',
        'false',
        '--dns-mode',
        'offline',
        '--log-level',
        'warn',
        // Worker nodes under steady load keep their analysis threads (docs/operations.md); with the
        // default (0 kept, idle ones end after 10 s) the settle and idle watch below ended every
        // thread the warm-up had compiled, and each process paid its threads' JIT warm-up again
        // inside the measured stream: three processes three times over.
        '--analysis-min-threads',
        process.env.SPAMDESK_BENCH_SCALE_MIN_THREADS ?? '64',
      ]);
      s.proc.stderr?.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n')) {
          if (line.includes('"job failed"')) logCounts.jobFailures++;
          if (line.includes('deadlock detected')) logCounts.deadlockLines++;
        }
      });
      if (s.code !== 'dist') say(`  server ${k + 1}: ${codeLabel(s)}`);
      servers.push(s);
    }
    const pids = servers.map((s) => s.proc.pid ?? 0);
    const watchers = await Promise.all(configs.map((c) => openWatcher(c.database)));
    const watching: Watcher = {
      progress: async () => sumProgress(await Promise.all(watchers.map((w) => w.progress()))),
      close: async () => {
        for (const w of watchers) await w.close();
      },
    };
    watcher = watching;
    const deadlocks0 = admin
      ? Number(
          (await admin.query('select sum(deadlocks) as n from pg_stat_database where datname = any($1)', [pgNames]))
            .rows[0].n,
        )
      : 0;
    if (admin && pgNames.length > 0) {
      sampler = new PgSampler(admin, pgNames);
      sampler.start();
    }
    const loadBefore = load();
    say(
      `--- ${label}: ${messages.length} reports, ${opts.clients} clients over ${servers.length} serve process(es) ` +
        `(pids ${pids.join(', ')}), load average before ${loadBefore}`,
    );
    let kids = pids.map((p) => descendants(p));
    const cpuNow = () => pids.reduce((s, p, i) => s + treeCpuSeconds(p, kids[i]), 0);
    const warmed = await warmUp(servers, tokens, warmup, watching);
    const quiet = await settle(pids, cpuNow, (k) => {
      kids = k;
    });
    say(
      `  warm-up: ${warmup.length} reports through every stage in ${warmed.toFixed(0)} s, then quiet after ` +
        `${quiet.toFixed(0)} s (start-up and warm-up CPU are not counted)`,
    );
    // What the idle processes burn (polling, timers, GC): on a loaded machine the stream takes ten times
    // longer than on a quiet one, and this part grows with the wall time, not with the reports.
    const idle0 = cpuNow();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idleRate = (cpuNow() - idle0) / (IDLE_MS / 1000);
    say(`  idle: the process trees use ${idleRate.toFixed(3)} CPU-s per second`);
    const cpu0 = cpuNow();
    const work0 = admin && pgNames.length > 0 ? await dbWork(admin, pgNames) : null;
    const scans0 = databaseUrls.length > 0 ? await tableScans(databaseUrls) : null;
    let peakRss = 0;
    const agents = servers.map(() => new http.Agent({ keepAlive: true, maxSockets: opts.clients }));
    const latencies: number[] = [];
    const failures = new Map<string, number>();
    let accepted = 0;
    let next = 0;
    const started = performance.now();
    let postedAt = 0;
    const posting = Promise.all(
      Array.from({ length: opts.clients }, async () => {
        for (;;) {
          const i = next++;
          if (i >= messages.length) return;
          // Report i goes to server i mod n, as a round-robin balancer sends it, whichever client
          // posts it: every process's intake takes its share (an instance apart takes its own third
          // of the stream), and one client still gives one intake order.
          const k = i % servers.length;
          if (opts.rate !== null) {
            // Report i is offered at i / rate seconds, whatever the earlier ones took (open loop).
            const wait = started + (i * 1000) / opts.rate - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          }
          const t0 = performance.now();
          const r = await postReport(servers[k].url, agents[k], tokens[k], messages[i]).catch((e: Error) => ({
            status: 0,
            text: e.message,
          }));
          latencies.push(performance.now() - t0);
          if (r.status === 202) accepted++;
          else {
            const key = `${r.status} ${r.text.slice(0, 120)}`;
            failures.set(key, (failures.get(key) ?? 0) + 1);
          }
        }
      }),
    ).then(() => {
      postedAt = performance.now();
    });

    let last: Progress | null = null;
    let lastMove = performance.now();
    let lastRow = -Infinity;
    let doneAt = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      kids = pids.map((p) => descendants(p));
      peakRss = Math.max(
        peakRss,
        pids.reduce((s, p, i) => s + treeRss(p, kids[i]), 0),
      );
      const p = await watching.progress();
      const now = performance.now();
      const t = (now - started) / 1000;
      if (JSON.stringify(p) !== JSON.stringify(last) || postedAt === 0) lastMove = now;
      last = p;
      const finished = postedAt > 0 && allThrough(p, accepted + warmup.length);
      if (finished) {
        doneAt = now;
        break;
      }
      if (t - lastRow >= 10) {
        lastRow = t;
        say(
          `  t ${t.toFixed(0)} s: accepted ${accepted}, waiting analysis ${p.pending['analyse-report']}, ` +
            `campaign ${p.pending['campaign-report']}, actions ${p.pending['actions-report']}, ` +
            `unindexed ${Math.max(0, p.reports - p.indexed)}, dead ${p.dead}`,
        );
      }
      if (now - lastMove > STALL_MS) {
        say(`no progress for ${STALL_MS / 1000} s: stopping with the pipeline unfinished`);
        break;
      }
    }
    await posting;
    sampler?.stop();
    const appCpu = cpuNow() - cpu0;
    const deadlocks = admin
      ? Number(
          (await admin.query('select sum(deadlocks) as n from pg_stat_database where datname = any($1)', [pgNames]))
            .rows[0].n,
        ) - deadlocks0
      : null;
    // Counters reach pg_stat_database up to a second after each transaction.
    if (work0) await new Promise((r) => setTimeout(r, 1_500));
    const work1 = work0 && admin ? await dbWork(admin, pgNames) : null;
    const scans1 = scans0 ? await tableScans(databaseUrls) : null;
    const loadAfter = load();
    for (const a of agents) a.destroy();
    latencies.sort((a, b) => a - b);
    const complete = doneAt > 0;
    const postSeconds = (postedAt - started) / 1000;
    const e2eSeconds = ((complete ? doneAt : performance.now()) - started) / 1000;
    const got = await outcomes(configs);
    const n = Math.max(1, accepted);
    const pgCpu = sampler ? sampler.backendCpu() : null;
    const lockEvents = sampler
      ? [...sampler.lockSamples]
          .sort((a, b) => b[1] - a[1])
          .map(([e, k]) => `${e} ${((k * LOCK_SAMPLE_MS) / 1000).toFixed(1)} s`)
          .join(', ') || 'none seen'
      : 'n/a';
    say(
      `${accepted} of ${messages.length} accepted in ${postSeconds.toFixed(1)} s ` +
        `(${(accepted / postSeconds).toFixed(0)}/s, ` +
        `POST p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms)`,
    );
    for (const [why, k] of failures) say(`  ${k} refused: ${why}`);
    say(
      complete
        ? `end to end: ${accepted} through every stage in ${e2eSeconds.toFixed(1)} s: ` +
            `${(accepted / e2eSeconds).toFixed(1)} reports/s`
        : `end to end: UNFINISHED after ${e2eSeconds.toFixed(1)} s`,
    );
    say(
      `CPU: Spamdesk ${appCpu.toFixed(1)} s = ${((appCpu / n) * 1000).toFixed(1)} ms/report ` +
        `(${(((appCpu - idleRate * e2eSeconds) / n) * 1000).toFixed(1)} net of the idle rate)` +
        (pgCpu !== null
          ? `; PostgreSQL backends ${pgCpu.toFixed(1)} s = ${((pgCpu / n) * 1000).toFixed(1)} ms/report`
          : '') +
        `; peak RSS of the Spamdesk trees ${mb(peakRss)}`,
    );
    if (work0 && work1) {
      const per = (a: number, b: number) => ((b - a) / n).toFixed(1);
      say(
        `PostgreSQL work per report: ${per(work0.commits, work1.commits)} commits, ` +
          `${per(work0.rollbacks, work1.rollbacks)} rollbacks, ${per(work0.rowsRead, work1.rowsRead)} rows read, ` +
          `${per(work0.rowsWritten, work1.rowsWritten)} rows written, ${per(work0.blocks, work1.blocks)} buffer reads`,
      );
    }
    if (scans0 && scans1) {
      // A plan that reads a table whole per report shows here first (2026-12-04: campaign_bands).
      const top = [...scans1]
        .map(([t, v]) => [t, v - (scans0.get(t) ?? 0)] as const)
        .filter(([, v]) => v > 0)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3);
      say(
        `rows read by sequential scans per report: ${
          top.map(([t, v]) => `${t} ${(v / n).toFixed(0)}`).join(', ') || 'none'
        }`,
      );
    }
    if (sampler)
      say(
        `lock waits: ${sampler.lockWaitSeconds().toFixed(1)} backend-s (${lockEvents}), at most ` +
          `${sampler.maxWaiting} at once over ${sampler.samples} samples; deadlocks (pg_stat_database) ${deadlocks}`,
      );
    say(
      `logs: ${logCounts.jobFailures} job failure(s), ${logCounts.deadlockLines} saying deadlock; ` +
        `left behind: ${got.exact}; ${got.campaigns} campaigns; load average before ${loadBefore}, after ${loadAfter}`,
    );
    return {
      setup: label,
      accepted,
      complete,
      e2eRate: accepted / e2eSeconds,
      acceptRate: accepted / postSeconds,
      p99: percentile(latencies, 99),
      appCpuPerReport: appCpu / n,
      pgCpuPerReport: pgCpu === null ? null : pgCpu / n,
      lockWaitSeconds: sampler ? sampler.lockWaitSeconds() : null,
      maxWaiting: sampler ? sampler.maxWaiting : null,
      lockEvents,
      deadlocks,
      jobFailures: logCounts.jobFailures,
      deadlockLines: logCounts.deadlockLines,
      campaigns: got.campaigns,
      partition: got.partition,
      exact: got.exact,
      loadBefore,
      loadAfter,
    };
  } finally {
    sampler?.stop();
    await watcher?.close().catch(() => undefined);
    await Promise.all(
      servers.map(async (s) => {
        if (s.proc.exitCode !== null) return;
        s.proc.kill('SIGTERM');
        await new Promise((r) => s.proc.once('exit', r));
      }),
    );
    if (admin) {
      for (const name of pgNames)
        await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await admin.end();
    }
    for (const d of dataDirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

/** Rows read by sequential scans so far, by table (`pg_stat_user_tables` of the bench database). */
async function tableScans(urls: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const url of urls) {
    const c = new pg.Client({ connectionString: url, application_name: WATCHER_APP_NAME });
    await c.connect();
    try {
      await c.query('select pg_stat_clear_snapshot()');
      const r = await c.query<{ relname: string; n: string }>(
        'select relname, coalesce(seq_tup_read, 0) as n from pg_stat_user_tables',
      );
      for (const x of r.rows) out.set(x.relname, (out.get(x.relname) ?? 0) + Number(x.n));
    } finally {
      await c.end();
    }
  }
  return out;
}

/** Cumulative work of one database from `pg_stat_database`: transactions, rows read and written. */
interface DbWork {
  commits: number;
  rollbacks: number;
  rowsRead: number;
  rowsWritten: number;
  blocks: number;
}

async function dbWork(admin: pg.Client, names: readonly string[]): Promise<DbWork> {
  // Backends flush their counters at most once a second (PostgreSQL 15): ask for a fresh read.
  await admin.query('select pg_stat_clear_snapshot()');
  const r = (
    await admin.query(
      `select sum(xact_commit) as xact_commit, sum(xact_rollback) as xact_rollback,
              sum(tup_returned + tup_fetched) as rows_read,
              sum(tup_inserted + tup_updated + tup_deleted) as rows_written,
              sum(blks_hit + blks_read) as blocks
         from pg_stat_database where datname = any($1)`,
      [names],
    )
  ).rows[0];
  return {
    commits: Number(r.xact_commit),
    rollbacks: Number(r.xact_rollback),
    rowsRead: Number(r.rows_read),
    rowsWritten: Number(r.rows_written),
    blocks: Number(r.blocks),
  };
}

export const scaleBench: Bench = {
  name: 'scale',
  description:
    'scale-out: the corpus stream over 1, 2 and 3 serve processes on one PostgreSQL (and 1 on SQLite) until ' +
    'every report is through every stage; CPU per report, lock waits, deadlocks',
  async run() {
    if (!corpusAvailable()) {
      say(`SKIP scale bench: corpus not found at ${CORPUS_DIR}`);
      return;
    }
    const opts = options();
    const warmCount = opts.warmup * Math.max(...opts.setups.map((x) => x.processes));
    const { messages: all, bySource } = sampleMessages(opts.reports + warmCount);
    const messages = all.slice(0, opts.reports);
    const warmup = all.slice(opts.reports);
    say(
      `sample: ${messages.length} messages (${[...bySource].map(([s, n]) => `${s} ${n}`).join(', ')}), ` +
        `${mb(messages.reduce((s, m) => s + m.length, 0))}; ${os.cpus().length} cores`,
    );
    const results: RunResult[] = [];
    for (const setup of opts.setups) {
      const r = await runOne(setup, messages, warmup, opts);
      if (r) results.push(r);
    }
    if (results.length === 0) return;
    const base = results.find((r) => r.setup === 'postgres×1');
    say('');
    // Messages whose campaign (as a set of messages) differs from the first set-up's: campaigns are
    // founded by whichever message is placed first, so the arrival order of 16 concurrent clients
    // already moves a few between two runs of one process; a second `postgres:1` gives that baseline.
    // Instances apart cluster each their own share: never the reference for `moved`.
    const first = results.find((r) => !r.setup.endsWith('apart')) ?? results[0];
    const groups = (part: Map<string, string>): Map<string, string> => {
      // Each message → the sorted list of its campaign's messages.
      const by = new Map<string, string[]>();
      for (const [sha, key] of part) by.set(key, [...(by.get(key) ?? []), sha]);
      const out = new Map<string, string>();
      for (const shas of by.values()) for (const sha of shas) out.set(sha, shas.sort().join(','));
      return out;
    };
    const firstGroups = groups(first.partition);
    const moved = (r: RunResult): number =>
      [...groups(r.partition)].filter(([sha, mates]) => firstGroups.get(sha) !== mates).length;
    const widths = [17, 8, 10, 9, 8, 11, 11, 12, 10, 12, 10, 10, 12];
    say(
      row(
        [
          'setup',
          'reports',
          'e2e/s',
          'accept/s',
          'p99 ms',
          'app ms/rep',
          'PG ms/rep',
          'total vs 1',
          'lock s',
          'deadlocks',
          'campaigns',
          'moved',
          'load',
        ],
        widths,
      ),
    );
    for (const r of results) {
      const total = r.appCpuPerReport + (r.pgCpuPerReport ?? 0);
      const baseTotal = base ? base.appCpuPerReport + (base.pgCpuPerReport ?? 0) : null;
      say(
        row(
          [
            r.setup,
            r.accepted,
            `${r.e2eRate.toFixed(1)}${r.complete ? '' : ' (unf.)'}`,
            r.acceptRate.toFixed(0),
            r.p99.toFixed(0),
            (r.appCpuPerReport * 1000).toFixed(1),
            r.pgCpuPerReport === null ? 'n/a' : (r.pgCpuPerReport * 1000).toFixed(1),
            baseTotal && r.pgCpuPerReport !== null ? `${((total / baseTotal - 1) * 100).toFixed(0)} %` : 'n/a',
            r.lockWaitSeconds === null ? 'n/a' : r.lockWaitSeconds.toFixed(1),
            r.deadlocks === null ? `n/a/${r.deadlockLines}` : `${r.deadlocks}/${r.deadlockLines}`,
            r.campaigns,
            r === first ? '—' : r.setup.endsWith('apart') ? 'n/a' : moved(r),
            `${r.loadBefore.split(' ')[0]}→${r.loadAfter.split(' ')[0]}`,
          ],
          widths,
        ),
      );
    }
    say('deadlocks: pg_stat_database / log lines; lock s: backend-seconds waiting on heavyweight locks (sampled)');
    // What coordination costs: each shared set-up against the nearest run apart with as many processes
    // (the machine's speed drifts over minutes: the nearest run is the fairest pair).
    for (const [j, r] of results.entries()) {
      if (r.setup.endsWith('apart') || r.pgCpuPerReport === null) continue;
      const near = results
        .map((a, i) => ({ a, d: Math.abs(i - j) }))
        .filter(({ a }) => a.setup === `${r.setup} apart` && a.pgCpuPerReport !== null)
        .sort((x, y) => x.d - y.d)[0];
      const apart = near?.a;
      if (!apart || apart.pgCpuPerReport === null) continue;
      const pct = (x: number, y: number) => `${x >= y ? '+' : ''}${((x / y - 1) * 100).toFixed(0)} %`;
      say(
        `coordination: ${r.setup} against ${apart.setup}: app ${pct(r.appCpuPerReport, apart.appCpuPerReport)}, ` +
          `PG ${pct(r.pgCpuPerReport, apart.pgCpuPerReport)}, total ` +
          pct(r.appCpuPerReport + r.pgCpuPerReport, apart.appCpuPerReport + apart.pgCpuPerReport),
      );
    }
    say(
      `moved: messages whose campaign (as a set of messages) differs from ${first.setup}'s first run; ` +
        'run postgres:1 twice for the arrival-order baseline',
    );
  },
};
