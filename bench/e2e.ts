/**
 * The whole pipeline end to end (issue 17): N corpus reports (default 3,000, a seeded random sample
 * of the labelled corpora — SpamAssassin, TREC 2007, phishing_pot, Nazario, the 2023–2025 spam
 * archive — in a mixed order) POSTed by 16 concurrent keep-alive clients to a real `spamdesk serve`
 * (defaults: analysis threads = cores, SQLite synchronous=FULL, DNS offline), timed from the first
 * POST until every accepted report is
 *   analysed and classified and in a campaign (its `analyse-report` and `campaign-report` jobs gone),
 *   through the actions job (its `action_report_facts` row written, its `actions-report` job gone),
 *   in the web index (its `web_report_index` row at STAGE_CLASSIFIED).
 * The bench watches through its own read-only connection (SQLite `readonly`, PostgreSQL
 * `default_transaction_read_only`), once a second.
 *
 * Prints the end-to-end reports/s; the acceptance rate and p50/p99 of the POSTs (which all run while
 * the pipeline works behind them); the backlog per stage every few seconds; the server's CPU-seconds
 * per report (/proc: the process with all its threads, plus live and reaped children), and per process
 * its main thread's apart from its other threads'; its peak RSS
 * (VmHWM, and the sampled sum with children); the load average before and after. Each database gets
 * a fresh server; PostgreSQL gets a fresh database, dropped afterwards.
 *
 * With `--warm N`, N other reports of the sample go through the same server first, untimed, until the
 * pipeline is idle again; the figures are then those of a server that has run a while (V8 compiles as a
 * server's stages first meet their work: warm runs cost 9.5–10.4 ms of CPU per report against 12.5–14.9 cold
 * on one machine, no less on another, bench/RESULTS.md 2026-12-04 and 2026-12-07). The peak RSS printed is
 * then the server's over both.
 *
 *   npm run bench -- e2e
 *   npm run bench -- e2e --reports 1000 --db sqlite --clients 16 --every 5
 *   npm run bench -- e2e --db sqlite --warm 3000
 *   SPAMDESK_BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench -- e2e --db sqlite
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { Bench } from './registry.ts';
import { CORPUS_DIR, corpusAvailable, mb, percentile, row } from './lib.ts';
import { codeLabel, prepareServerDatabase, startBenchServer, procStatusBytes } from './server.ts';
import { stageTimes, stageTimesSince } from './stage-times.ts';
import { corpusMessages } from '../scripts/train/corpus.ts';
import { testConfig } from '../src/core/config.ts';
import { randomSecret } from '../src/core/ids.ts';
import { PG_ADMIN_URL, postgresUnavailable } from '../src/db/test-databases.ts';
import { assertEmailMessage } from '../src/evidence/message-check.ts';
import { STAGE_CLASSIFIED } from '../src/web/indexer.ts';

const SAMPLE_SEED = 17;
/** The pipeline's per-report jobs, in order (follow-ups such as `actions-refer` are not per report). */
export const STAGE_JOBS = ['analyse-report', 'campaign-report', 'actions-report'] as const;
/** With no progress at all for this long, the run stops and says what is missing. */
const STALL_MS = 180_000;
const POLL_MS = 250;

interface Options {
  reports: number;
  clients: number;
  dbs: ('sqlite' | 'postgres')[];
  /** Seconds between two rows of the backlog table. */
  every: number;
  /** Reports sent through the server first, untimed (0: a cold server). */
  warm: number;
}

function options(): Options {
  // Names before the first option pick the benches (run.ts); the options are this bench's.
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: false,
    allowPositionals: true,
    options: {
      reports: { type: 'string' },
      clients: { type: 'string' },
      db: { type: 'string' },
      every: { type: 'string' },
      warm: { type: 'string' },
    },
  });
  const num = (v: unknown, env: string | undefined, dflt: number, what: string): number => {
    const s = typeof v === 'string' ? v : (env ?? String(dflt));
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${what} wants a positive whole number, not ${s}`);
    return n;
  };
  const db = typeof values.db === 'string' ? values.db : (process.env.SPAMDESK_BENCH_E2E_DB ?? 'both');
  if (!['sqlite', 'postgres', 'both'].includes(db)) throw new Error(`--db wants sqlite, postgres or both, not ${db}`);
  return {
    reports: num(values.reports, process.env.SPAMDESK_BENCH_E2E_REPORTS, 3000, 'reports'),
    clients: num(values.clients, process.env.SPAMDESK_BENCH_E2E_CLIENTS, 16, 'clients'),
    dbs: db === 'both' ? ['sqlite', 'postgres'] : [db as 'sqlite' | 'postgres'],
    every: num(values.every, process.env.SPAMDESK_BENCH_E2E_EVERY, 5, 'every'),
    warm: warmOption(values.warm, process.env.SPAMDESK_BENCH_E2E_WARM),
  };
}

/** `--warm`: a whole number of reports, 0 (the default) for none. */
export function warmOption(v: unknown, env: string | undefined): number {
  const s = typeof v === 'string' ? v : (env ?? '0');
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--warm wants a whole number of reports (0 for none), not ${s}`);
  return n;
}

/** A small deterministic PRNG (mulberry32), so every run posts the same sample in the same order. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` messages drawn uniformly (reservoir sampling) from every labelled corpus message that is a
 * mail message, then shuffled: ham, spam and phishing of every source interleaved. When the
 * corpora hold fewer than `n`, messages repeat (a report of the same message again).
 */
export function sampleMessages(n: number): { messages: Buffer[]; bySource: Map<string, number> } {
  const random = rng(SAMPLE_SEED);
  const pool: { source: string; raw: Buffer }[] = [];
  let seen = 0;
  for (const m of corpusMessages(CORPUS_DIR)) {
    try {
      assertEmailMessage(m.raw);
    } catch {
      continue;
    }
    seen++;
    if (pool.length < n) pool.push({ source: m.source, raw: m.raw });
    else {
      const j = Math.floor(random() * seen);
      if (j < n) pool[j] = { source: m.source, raw: m.raw };
    }
  }
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  const bySource = new Map<string, number>();
  const messages: Buffer[] = [];
  for (let i = 0; i < n && pool.length > 0; i++) {
    const m = pool[i % pool.length];
    messages.push(m.raw);
    bySource.set(m.source, (bySource.get(m.source) ?? 0) + 1);
  }
  return { messages, bySource };
}

// ---- /proc ---------------------------------------------------------------------------------------

const CLOCK_TICKS = 100;

function statFields(pid: number): string[] | null {
  try {
    return fs
      .readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
  } catch {
    return null;
  }
}

/** Live descendants of `pid` (children started by the server: none today, counted if they appear). */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f) parentOf.set(Number(name), Number(f[1]));
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop() as number;
    for (const [child, parent] of parentOf)
      if (parent === p) {
        out.push(child);
        todo.push(child);
      }
  }
  return out;
}

/**
 * CPU-seconds of the server so far: user + system of the process (all its threads), of its reaped
 * children (cutime, cstime) and of its live descendants (with theirs).
 */
export function treeCpuSeconds(pid: number, kids: number[]): number {
  let ticks = 0;
  for (const p of [pid, ...kids]) {
    const f = statFields(p);
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / CLOCK_TICKS;
}

/**
 * Seconds the threads of the server (and of its live descendants) spent runnable but waiting for a
 * CPU (`/proc/PID/task/TID/schedstat`, second field, ns): what the machine's other load cost it.
 * Threads that ended meanwhile are not counted.
 */
export function treeRunQueueSeconds(pid: number, kids: number[]): number {
  let ns = 0;
  for (const p of [pid, ...kids]) {
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        ns += Number(fs.readFileSync(`/proc/${p}/task/${t}/schedstat`, 'utf8').split(' ')[1]);
      } catch {
        // the thread ended
      }
    }
  }
  return ns / 1e9;
}

/**
 * CPU-seconds of one process so far, all its threads (not its reaped children), and of its main thread alone
 * (`/proc/PID/task/PID/stat`): what the main thread spent, and what its other threads did (analysis and commit
 * threads, libuv's pool, V8's garbage collector and compiler), ended threads included.
 */
export function processCpuSplit(pid: number): { total: number; main: number } | null {
  const f = statFields(pid);
  if (!f) return null;
  let main = 0;
  try {
    const t = fs
      .readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    main = (Number(t[11]) + Number(t[12])) / CLOCK_TICKS;
  } catch {
    // the process ended
  }
  return { total: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS, main };
}

/** `processCpuSplit` of the server and each live descendant, by pid. */
function splitsOf(pids: number[]): Map<number, { total: number; main: number }> {
  const out = new Map<number, { total: number; main: number }>();
  for (const p of pids) {
    const s = processCpuSplit(p);
    if (s) out.set(p, s);
  }
  return out;
}

export function treeRss(pid: number, kids: number[]): number {
  let sum = 0;
  for (const p of [pid, ...kids]) {
    const v = procStatusBytes(p, 'VmRSS');
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

// ---- read-only watcher -------------------------------------------------------------------------------

export interface Progress {
  reports: number;
  /** Per-report jobs queued or running, by kind. */
  pending: Record<(typeof STAGE_JOBS)[number], number>;
  dead: number;
  facts: number;
  indexed: number;
}

/** The `application_name` of the watcher's PostgreSQL connection. */
export const WATCHER_APP_NAME = 'spamdesk-bench-watcher';

export interface Watcher {
  progress(): Promise<Progress>;
  close(): Promise<void>;
}

const JOBS_SQL = `select kind, state, count(*) as n from jobs
  where kind in (${STAGE_JOBS.map((k) => `'${k}'`).join(', ')}) group by kind, state`;
const COUNTS_SQL = `select (select count(*) from reports) as reports,
  (select count(*) from action_report_facts) as facts,
  (select count(*) from web_report_index where stage >= ${STAGE_CLASSIFIED}) as indexed`;

function toProgress(jobs: { kind: string; state: string; n: unknown }[], c: Record<string, unknown>): Progress {
  const pending = { 'analyse-report': 0, 'campaign-report': 0, 'actions-report': 0 };
  let dead = 0;
  for (const j of jobs) {
    if (j.state === 'dead') dead += Number(j.n);
    else pending[j.kind as keyof typeof pending] += Number(j.n);
  }
  return { reports: Number(c.reports), pending, dead, facts: Number(c.facts), indexed: Number(c.indexed) };
}

export async function openWatcher(
  database: { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string },
): Promise<Watcher> {
  if (database.dialect === 'sqlite') {
    const db = new BetterSqlite3(database.path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const jobs = db.prepare(JOBS_SQL);
    const counts = db.prepare(COUNTS_SQL);
    return {
      progress: async () =>
        toProgress(jobs.all() as { kind: string; state: string; n: number }[], counts.get() as Record<string, unknown>),
      close: async () => {
        db.close();
      },
    } satisfies Watcher;
  }
  // Named, so a bench that measures the database's backends can leave the watcher's polling out.
  const client = new pg.Client({ connectionString: database.url, application_name: WATCHER_APP_NAME });
  await client.connect();
  await client.query('set default_transaction_read_only = on');
  return {
    async progress() {
      const jobs = await client.query(JOBS_SQL);
      const counts = await client.query(COUNTS_SQL);
      return toProgress(jobs.rows, counts.rows[0]);
    },
    close: () => client.end(),
  } satisfies Watcher;
}

// ---- one run ---------------------------------------------------------------------------------------

export function postReport(
  url: string,
  agent: http.Agent,
  token: string,
  body: Buffer,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/api/v1/reports`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'message/rfc822',
          'content-length': String(body.length),
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const say = (s: string) => process.stdout.write(`${s}\n`);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

interface RunResult {
  db: string;
  /** How the server ran: the compiled `dist/`, or the TypeScript through tsx (`dist/` missing or stale). */
  code: 'dist' | 'tsx';
  accepted: number;
  complete: boolean;
  e2eRate: number;
  acceptRate: number;
  p50: number;
  p99: number;
  cpuPerReport: number;
  /** Seconds the server's threads waited for a CPU, over the whole run. */
  runQueueSeconds: number;
  peakRss: number;
  loadBefore: string;
  loadAfter: string;
}

/** Whether every one of `accepted` reports (counted from `base`) went through every stage. */
function drained(p: Progress, base: Progress | null, accepted: number): boolean {
  const since = (k: 'reports' | 'facts' | 'indexed') => p[k] - (base?.[k] ?? 0);
  return (
    since('reports') === accepted &&
    STAGE_JOBS.every((k) => p.pending[k] === 0) &&
    since('facts') >= accepted &&
    since('indexed') >= accepted
  );
}

/**
 * Sends `messages` through the server untimed with `clients` clients, then waits until the pipeline is idle
 * (or nothing moves for {@link STALL_MS}). Returns the watcher's count at the end, the base of the timed run.
 */
async function warmUp(url: string, token: string, watching: Watcher, messages: Buffer[], clients: number) {
  const t0 = performance.now();
  const base = await watching.progress();
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  let accepted = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < messages.length; i = next++) {
        const r = await postReport(url, agent, token, messages[i]).catch(() => ({ status: 0 }));
        if (r.status === 202) accepted++;
      }
    }),
  );
  agent.destroy();
  let last = JSON.stringify(base);
  let lastMove = performance.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const p = await watching.progress();
    if (drained(p, base, accepted)) {
      say(
        `warm-up: ${accepted} of ${messages.length} other reports through the whole pipeline in ` +
          `${((performance.now() - t0) / 1000).toFixed(1)} s, untimed; the figures below begin after it`,
      );
      return p;
    }
    if (JSON.stringify(p) !== last) {
      last = JSON.stringify(p);
      lastMove = performance.now();
    } else if (performance.now() - lastMove > STALL_MS) {
      say(`warm-up: no progress for ${STALL_MS / 1000} s; the timed run starts on an unfinished pipeline`);
      return p;
    }
  }
}

async function runOne(
  dialect: 'sqlite' | 'postgres',
  messages: Buffer[],
  opts: Options,
  warm: Buffer[] = [],
): Promise<RunResult | null> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-bench-e2e-'));
  let pgName: string | null = null;
  let databaseUrl: string | undefined;
  if (dialect === 'postgres') {
    const reason = await postgresUnavailable();
    if (reason !== null) {
      say(`SKIP e2e on PostgreSQL: ${PG_ADMIN_URL} does not answer (${reason})`);
      fs.rmSync(dataDir, { recursive: true, force: true });
      return null;
    }
    pgName = `spamdesk_bench_e2e_${randomSecret(6)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${pgName}`);
    // Plans depend on statistics: with autovacuum off nothing is analysed while the stream runs.
    const { rows } = await admin.query<{ autovacuum: string }>('show autovacuum');
    say(`PostgreSQL: autovacuum ${rows[0]?.autovacuum ?? '?'}`);
    await admin.end();
    const u = new URL(PG_ADMIN_URL);
    u.pathname = `/${pgName}`;
    databaseUrl = u.toString();
  }
  const config = testConfig({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
  let server: Awaited<ReturnType<typeof startBenchServer>> | null = null;
  let watcher: Watcher | null = null;
  try {
    // The server's own checkout migrates (SPAMDESK_BENCH_SERVER_ROOT may be an older one).
    const [token] = await prepareServerDatabase(dataDir, [{ role: 'reporter', name: 'bench-e2e' }], databaseUrl);

    server = await startBenchServer([
      '--data-dir',
      dataDir,
      ...(databaseUrl ? ['--database-url', databaseUrl] : []),
      '--http-port',
      '0',
      '--smtp-enabled',
      'false',
      '--dns-mode',
      'offline',
      '--log-level',
      'warn',
    ]);
    const pid = server.proc.pid ?? 0;
    const watching = await openWatcher(config.database);
    watcher = watching;
    const base = warm.length > 0 ? await warmUp(server.url, token, watching, warm, opts.clients) : null;
    const stagesBefore =
      base === null
        ? []
        : await fetch(`${server.url}/metrics`)
            .then(async (r) => stageTimes(await r.text()))
            .catch(() => []);
    const loadBefore = load();
    say(
      `--- ${dialect}: ${messages.length} reports, ${opts.clients} clients, ` +
        `server pid ${pid} (${codeLabel(server)}), load average before ${loadBefore}`,
    );
    const widths = [8, 10, 10, 10, 10, 10, 8, 10, 10];
    say(row(['t (s)', 'accepted', 'analysis', 'campaign', 'actions', 'index', 'dead', 'CPU (s)', 'wait (s)'], widths));

    let kids = descendants(pid);
    const cpu0 = treeCpuSeconds(pid, kids);
    const split0 = splitsOf([pid, ...kids]);
    const wait0 = treeRunQueueSeconds(pid, kids);
    const clientCpu0 = process.cpuUsage();
    let peakTreeRss = treeRss(pid, kids);
    const agent = new http.Agent({ keepAlive: true, maxSockets: opts.clients });
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
          const t0 = performance.now();
          const r = await postReport(server?.url ?? '', agent, token, messages[i]).catch((e: Error) => ({
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

    // Watch until every accepted report went through every stage (or nothing moves for STALL_MS).
    let last: Progress | null = null;
    let lastMove = performance.now();
    let lastRow = -Infinity;
    let doneAt = 0;
    const printRow = (p: Progress, t: number) =>
      say(
        row(
          [
            t.toFixed(0),
            accepted,
            p.pending['analyse-report'],
            p.pending['campaign-report'],
            p.pending['actions-report'],
            Math.max(0, p.reports - p.indexed),
            p.dead,
            (treeCpuSeconds(pid, kids) - cpu0).toFixed(1),
            (treeRunQueueSeconds(pid, kids) - wait0).toFixed(1),
          ],
          widths,
        ),
      );
    for (;;) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      kids = descendants(pid);
      peakTreeRss = Math.max(peakTreeRss, treeRss(pid, kids));
      const p = await watching.progress();
      const now = performance.now();
      const t = (now - started) / 1000;
      if (JSON.stringify(p) !== JSON.stringify(last) || postedAt === 0) lastMove = now;
      last = p;
      const finished = postedAt > 0 && drained(p, base, accepted);
      if (finished) {
        doneAt = now;
        printRow(p, t);
        break;
      }
      if (t - lastRow >= opts.every) {
        lastRow = t;
        printRow(p, t);
      }
      if (now - lastMove > STALL_MS) {
        say(`no progress for ${STALL_MS / 1000} s: stopping with the pipeline unfinished`);
        break;
      }
    }
    await posting;
    const cpu = treeCpuSeconds(pid, kids) - cpu0;
    const split1 = splitsOf([pid, ...kids]);
    const waited = treeRunQueueSeconds(pid, kids) - wait0;
    const clientCpu = process.cpuUsage(clientCpu0);
    const peakRss = Math.max(procStatusBytes(pid, 'VmHWM'), peakTreeRss);
    // Each process's own high-water mark: which of them the sum's peak is made of.
    const peaks = [pid, ...kids]
      .map((p) => procStatusBytes(p, 'VmHWM'))
      .filter((v) => Number.isFinite(v))
      .map((v) => mb(v));
    const loadAfter = load();
    agent.destroy();
    latencies.sort((a, b) => a - b);
    const postSeconds = (postedAt - started) / 1000;
    const complete = doneAt > 0;
    const e2eSeconds = ((complete ? doneAt : performance.now()) - started) / 1000;
    const p = last as Progress;
    say(
      `${accepted} of ${messages.length} accepted in ${postSeconds.toFixed(1)} s: ` +
        `${(accepted / postSeconds).toFixed(0)} reports/s, ` +
        `POST latency p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(1)} ms (target < 150 ms)`,
    );
    for (const [why, n] of failures) say(`  ${n} refused: ${why}`);
    say(
      complete
        ? `end to end: all ${accepted} analysed, classified, in a campaign, through actions and indexed in ` +
            `${e2eSeconds.toFixed(1)} s: ${(accepted / e2eSeconds).toFixed(1)} reports/s ` +
            `(target ≥ ${dialect === 'sqlite' ? 400 : 250})`
        : `end to end: UNFINISHED after ${e2eSeconds.toFixed(1)} s — ${p.reports} reports, ` +
            `${p.facts} through actions, ${p.indexed} indexed, ${p.dead} dead job(s)`,
    );
    say(
      `server CPU ${cpu.toFixed(1)} s = ${((cpu / Math.max(1, accepted)) * 1000).toFixed(1)} ms per report ` +
        `(${(cpu / e2eSeconds).toFixed(2)} cores busy on average); its threads waited ${waited.toFixed(1)} s ` +
        `for a CPU (run queue); peak RSS ${mb(peakRss)} (target < 700 MB; each process's own peak: ` +
        `${peaks.join(', ')}); ` +
        `load average before ${loadBefore}, after ${loadAfter}; ` +
        `the bench's clients and watcher used ${((clientCpu.user + clientCpu.system) / 1e6).toFixed(1)} CPU-s beside`,
    );
    // Where the CPU went: the web process and the background child, each its main thread and the rest.
    const perReport = (sec: number) => ((sec / Math.max(1, accepted)) * 1000).toFixed(1);
    const parts = [...split1].map(([p, end]) => {
      const start = split0.get(p) ?? { total: 0, main: 0 };
      const who = p === pid ? 'web process' : `process ${p}`;
      return (
        `${who}: main thread ${perReport(end.main - start.main)}, ` +
        `its other threads ${perReport(end.total - end.main - (start.total - start.main))}`
      );
    });
    say(`CPU by process, ms per report: ${parts.join('; ')}`);
    // Which stage the run waited on, as the server counts it (its /metrics serves the background child's).
    const stages = await fetch(`${server?.url ?? ''}/metrics`)
      .then(async (r) => stageTimesSince(stagesBefore, stageTimes(await r.text())))
      .catch(() => []);
    if (stages.length > 0)
      say(
        `stages, wall time of their batches: ${stages
          .map((st) => `${st.kind} ${st.seconds.toFixed(1)} s in ${st.batches} batches (${st.done} jobs)`)
          .join(', ')}`,
      );
    return {
      db: dialect,
      code: server.code,
      accepted,
      complete,
      e2eRate: accepted / e2eSeconds,
      acceptRate: accepted / postSeconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      cpuPerReport: cpu / Math.max(1, accepted),
      runQueueSeconds: waited,
      peakRss,
      loadBefore,
      loadAfter,
    };
  } finally {
    await watcher?.close().catch(() => undefined);
    if (server) {
      const proc = server.proc;
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
    }
    if (pgName) {
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query(`drop database if exists ${pgName} with (force)`);
      await admin.end();
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export const e2eBench: Bench = {
  name: 'e2e',
  description:
    'the whole pipeline: corpus reports POSTed by 16 clients to a real serve, until analysed, in a campaign, ' +
    'through actions and indexed (SQLite and PostgreSQL)',
  async run() {
    if (!corpusAvailable()) {
      say(`SKIP e2e bench: corpus not found at ${CORPUS_DIR}`);
      return;
    }
    const opts = options();
    // The warm-up's reports are other messages of the same sample: the timed ones are new to the server.
    const { messages: sample, bySource } = sampleMessages(opts.warm + opts.reports);
    const warm = sample.slice(0, opts.warm);
    const messages = sample.slice(opts.warm);
    const warming = opts.warm > 0 ? `; the first ${warm.length} warm the server` : '';
    say(
      `sample: ${sample.length} messages (${[...bySource].map(([s, n]) => `${s} ${n}`).join(', ')}), ` +
        `${mb(sample.reduce((s, m) => s + m.length, 0))}${warming}`,
    );
    const results: RunResult[] = [];
    for (const dialect of opts.dbs) {
      const r = await runOne(dialect, messages, opts, warm);
      if (r) results.push(r);
    }
    if (results.length === 0) return;
    say('');
    const widths = [11, 9, 12, 12, 10, 10, 12, 12, 10, 16];
    say(
      row(
        [
          'db',
          'reports',
          'e2e/s',
          'accept/s',
          'p50 ms',
          'p99 ms',
          'ms CPU/rep',
          'CPU wait s',
          'peak RSS',
          'load before→after',
        ],
        widths,
      ),
    );
    for (const r of results)
      say(
        row(
          [
            r.code === 'tsx' ? `${r.db} TSX` : r.db,
            r.accepted,
            `${r.e2eRate.toFixed(1)}${r.complete ? '' : ' (unf.)'}`,
            r.acceptRate.toFixed(0),
            r.p50.toFixed(1),
            r.p99.toFixed(1),
            (r.cpuPerReport * 1000).toFixed(1),
            r.runQueueSeconds.toFixed(1),
            mb(r.peakRss),
            `${r.loadBefore.split(' ')[0]}→${r.loadAfter.split(' ')[0]}`,
          ],
          widths,
        ),
      );
    if (results.some((r) => r.code === 'tsx'))
      say(
        'TSX: that server ran the TypeScript through tsx (dist/ missing or stale): not the compiled server a user runs',
      );
  },
};
