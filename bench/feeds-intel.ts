/**
 * TAXII feed lag: from a report's 202 to its origin address being visible as an indicator in TAXII
 * 2.1. A real `spamdesk serve` (SQLite, one analysis thread, DNS offline, the intel build service at
 * its default interval unless set) receives phishing reports over HTTP, one every
 * SPAMDESK_BENCH_INTEL_GAP_MS (default 500), each from its own public origin address; a TAXII
 * client polls `objects/?match[type]=indicator&added_after=…` every 250 ms, as the specification
 * describes, and notes when each address appears. Prints p50/p99/max lag (goal: under 60 s).
 *
 * Then the cost of one build (every build reads every publishable campaign): a SQLite store seeded
 * with SPAMDESK_BENCH_INTEL_CAMPAIGNS (default 5,000) published campaigns of two reports each (an
 * origin address, a domain and a URL per campaign), built three times — the first publication, a
 * rebuild with nothing changed, a rebuild after 1 % of the campaigns got a report — on the calling
 * thread, as `spamdesk intel build` runs it — then two rebuilds in the build thread `serve` uses
 * (`build-thread.ts`). For each: how long the calling thread's event loop stalled meanwhile (could run
 * nothing else: the background process's pipeline stages, when `serve` built on its main thread); during
 * the thread's builds the calling thread also writes every 5 ms on its own connection, as the stages do,
 * so its stalls include waiting for the build's write lock.
 *
 *   npm run bench -- feeds-intel
 *   SPAMDESK_BENCH_INTEL_REPORTS=100 SPAMDESK_BENCH_INTEL_BUILD_MS=2000 npm run bench -- feeds-intel
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import type { Bench } from './registry.ts';
import { percentile } from './lib.ts';
import { startBenchServer } from './server.ts';
import { testConfig } from '../src/core/config.ts';
import { openDatabase } from '../src/db/dialect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createToken } from '../src/db/tokens.ts';
import { DEFAULT_COLLECTION_ID } from '../src/db/migrations/0131_feeds-intel.ts';
import { phish } from '../src/feeds/intel/test-messages.ts';
import { buildIntel, type BuildSummary } from '../src/feeds/intel/build.ts';
import { buildThread } from '../src/feeds/intel/build-service.ts';
import { closeContext, createContext } from '../src/app/context.ts';
import { createLogger } from '../src/core/logger.ts';
import type { AppContext } from '../src/evidence/context.ts';

const TAXII = 'application/taxii+json;version=2.1';
/** The longest a report is waited for before it counts as never seen. */
const GIVE_UP_MS = 180_000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A public origin address per report (documentation and private ranges are never published). */
function originOf(i: number): string {
  return `81.2.${70 + Math.floor(i / 250)}.${(i % 250) + 1}`;
}

export const feedsIntelBench: Bench = {
  name: 'feeds-intel',
  description: 'TAXII lag: report 202 → its origin address as an indicator in TAXII 2.1 (p50/p99)',
  async run() {
    const reports = Number(process.env.SPAMDESK_BENCH_INTEL_REPORTS ?? 40);
    const gapMs = Number(process.env.SPAMDESK_BENCH_INTEL_GAP_MS ?? 500);
    const buildMs = process.env.SPAMDESK_BENCH_INTEL_BUILD_MS;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-bench-intel-'));
    const db = openDatabase(testConfig({ dataDir }).database);
    await migrateToLatest(db);
    const reporter = (await createToken(db, { role: 'reporter', name: 'bench' })).secret;
    const reader = (await createToken(db, { role: 'analyst', name: 'bench-taxii' })).secret;
    await db.destroy();
    const server = await startBenchServer([
      '--data-dir',
      dataDir,
      '--http-port',
      '0',
      '--workers',
      '1',
      '--smtp-enabled',
      'false',
      '--dns-mode',
      'offline',
      '--log-level',
      'warn',
      ...(buildMs ? ['--intel-build-interval-ms', buildMs] : []),
    ]);
    const sentAt = new Map<string, number>();
    const lag = new Map<string, number>();
    let stop = false;
    const poller = (async () => {
      let after: string | null = null;
      while (!stop) {
        const q = new URLSearchParams({ 'match[type]': 'indicator', limit: '1000' });
        if (after) q.set('added_after', after);
        let url = `${server.url}/taxii2/spamdesk/collections/${DEFAULT_COLLECTION_ID}/objects/?${q}`;
        for (;;) {
          const r = await fetch(url, { headers: { accept: TAXII, authorization: `Bearer ${reader}` } });
          const body = (await r.json()) as { more?: boolean; next?: string; objects?: { pattern?: string }[] };
          const now = Date.now();
          const last = r.headers.get('x-taxii-date-added-last');
          if (last) after = last;
          for (const o of body.objects ?? []) {
            const m = /^\[ipv4-addr:value = '([\d.]+)'\]$/.exec(o.pattern ?? '');
            const ip = m?.[1];
            const t0 = ip ? sentAt.get(ip) : undefined;
            if (ip && t0 !== undefined && !lag.has(ip)) lag.set(ip, now - t0);
          }
          if (!body.more || !body.next) break;
          url = `${server.url}/taxii2/spamdesk/collections/${DEFAULT_COLLECTION_ID}/objects/?next=${body.next}`;
        }
        await sleep(250);
      }
    })();
    try {
      for (let i = 0; i < reports; i++) {
        const ip = originOf(i);
        const raw = phish({
          n: 1000 + i,
          ip,
          to: `bench${i}@mail-users.org`,
          template: (['bank', 'parcel', 'lottery'] as const)[i % 3],
        });
        const r = await fetch(`${server.url}/api/v1/reports`, {
          method: 'POST',
          headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${reporter}` },
          body: new Uint8Array(raw),
        });
        if (r.status !== 202) throw new Error(`report ${i}: HTTP ${r.status} ${await r.text()}`);
        sentAt.set(ip, Date.now());
        await sleep(gapMs);
      }
      const deadline = Date.now() + GIVE_UP_MS;
      while (lag.size < reports && Date.now() < deadline) await sleep(250);
    } finally {
      stop = true;
      await poller;
      server.proc.kill('SIGTERM');
    }
    const lags = [...lag.values()].sort((a, b) => a - b);
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    process.stdout.write(
      `reports ${reports} (one per ${gapMs} ms), seen in TAXII ${lags.length}, build interval ${
        buildMs ?? 'default (10000)'
      } ms\n`,
    );
    if (lags.length > 0)
      process.stdout.write(
        `TAXII lag 202 → indicator: p50 ${s(percentile(lags, 50))}, p99 ${s(percentile(lags, 99))}, max ${s(
          lags[lags.length - 1] ?? 0,
        )} (goal < 60 s)\n`,
      );
    if (lags.length < reports)
      process.stdout.write(`${reports - lags.length} never appeared within ${GIVE_UP_MS / 1000} s\n`);
    fs.rmSync(dataDir, { recursive: true, force: true });
    await buildCost(Number(process.env.SPAMDESK_BENCH_INTEL_CAMPAIGNS ?? 5000));
  },
};

const benchId = (i: number) => `BENCH${String(i).padStart(21, '0')}`;

/**
 * Another connection's writes while a build runs, as the intake's report commits see them: from a
 * thread of its own, a `BEGIN IMMEDIATE` and `COMMIT` every 5 ms on the same SQLite file, each timed
 * from its start until it holds the write lock. `stop()` gives the waits (ms).
 */
function writeProbe(file: string): { stop(): Promise<number[]> } {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const Database = require('better-sqlite3');
     const db = new Database(workerData, { timeout: 600000 });
     const waits = [];
     const timer = setInterval(() => {
       const t0 = performance.now();
       db.exec('BEGIN IMMEDIATE');
       waits.push(performance.now() - t0);
       db.exec('COMMIT');
     }, 5);
     parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.postMessage(waits); });`,
    { eval: true, workerData: file },
  );
  return {
    stop: () =>
      new Promise<number[]>((resolve, reject) => {
        worker.once('message', (waits: number[]) => {
          void worker.terminate();
          resolve(waits);
        });
        worker.once('error', reject);
        worker.postMessage('stop');
      }),
  };
}

/**
 * How long the calling thread's event loop could run nothing else: a 5 ms timer notes each gap between
 * its runs (a build that never yields to the loop, as synchronous SQLite calls under promises do not,
 * shows as one gap as long as itself). `stop()` gives the longest gap and the time in gaps over 50 ms.
 */
function stallMeter(writeTo: BetterSqlite3.Database | null): { stop(): { longest: number; over50: number } } {
  let last = performance.now();
  let longest = 0;
  let over50 = 0;
  const note = () => {
    // As a pipeline stage does: a write on this thread's own connection, waiting (synchronously, in
    // SQLite's busy handler) for any lock another connection holds.
    if (writeTo) {
      writeTo.exec('BEGIN IMMEDIATE');
      writeTo.exec('COMMIT');
    }
    const now = performance.now();
    const gap = now - last;
    last = now;
    longest = Math.max(longest, gap);
    if (gap > 50) over50 += gap;
  };
  const timer = setInterval(note, 5);
  return {
    stop() {
      clearInterval(timer);
      note();
      return { longest, over50 };
    },
  };
}

/** Seeds `n` published campaigns (two live reports each) straight into the tables the build reads. */
async function seed(ctx: AppContext, n: number): Promise<void> {
  const now = new Date().toISOString();
  for (let from = 0; from < n; from += 500) {
    const ids = Array.from({ length: Math.min(500, n - from) }, (_, k) => from + k);
    const stored = await ctx.writer.submit(
      ids.flatMap((i) =>
        [0, 1].map((copy) => ({
          raw: Buffer.from(
            `From: a${i}@sender-${i}.com\r\nTo: r${copy}@mail-users.org\r\nSubject: offer ${i}\r\n` +
              `Message-ID: <${i}.${copy}@bench>\r\n\r\nBuy at https://shop-${i}.com/deal now (${copy}).\r\n`,
          ),
          channel: 'api' as const,
        })),
      ),
    );
    const campaignOf = (k: number) => benchId(from + Math.floor(k / 2));
    await ctx.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('campaigns')
        .values(
          ids.map((i) => ({
            id: benchId(i),
            merged_into: null,
            category: 'scam',
            core_signature: null,
            core_kind: 'email',
            first_seen_at: now,
            last_seen_at: now,
            message_count: 2,
            report_count: 2,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
      await trx
        .insertInto('campaign_messages')
        .values(
          stored.map((r, k) => ({
            sha256: r.sha256,
            campaign_id: campaignOf(k),
            kind: 'email',
            via: 'new',
            similarity: 1,
            joined_at: now,
          })),
        )
        .execute();
      const facts = ids.flatMap((i) => [
        { campaign_id: benchId(i), kind: 'ip', value: originOf(i) },
        { campaign_id: benchId(i), kind: 'domain', value: `shop-${i}.com` },
      ]);
      await trx
        .insertInto('campaign_facts')
        .values(facts.map((f) => ({ ...f, count: 2, first_seen_at: now, last_seen_at: now })))
        .execute();
      await trx
        .insertInto('message_indicators')
        .values(
          stored.map((r, k) => ({
            message_sha256: r.sha256,
            kind: 'url',
            value: `https://shop-${from + Math.floor(k / 2)}.com/deal`,
          })),
        )
        .execute();
      // The actions area's facts of each report, naming its origin as the pipeline would: the build
      // judges each origin address by them (an address no report names is not published).
      await trx
        .insertInto('action_report_facts')
        .values(
          stored.map((r, k) => ({
            report_id: r.id,
            message_sha256: r.sha256,
            campaign_id: campaignOf(k),
            category: 'scam',
            received_at: now,
            origin_ip: originOf(from + Math.floor(k / 2)),
            origin_asn: 20712,
            origin_as_name: 'Andrews & Arnold Ltd',
            origin_country: 'GB',
            origin_rdns: null,
            origin_abuse: null,
            origin_port: null,
            sender_domain: `sender-${from + Math.floor(k / 2)}.com`,
            advertised_domains: JSON.stringify([`shop-${from + Math.floor(k / 2)}.com`]),
            consent_denied: 0,
            unauthenticated: 1,
            bot_signals: '[]',
            created_at: now,
            message_category: 'scam',
            authenticated: 0,
            historical: 0,
            arrived_at: now,
            origin_sent_at: null,
          })),
        )
        .execute();
    });
  }
}

async function buildCost(n: number): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-bench-intel-build-'));
  const config = testConfig({ dataDir, dnsMode: 'offline', intelBuildIntervalMs: 0 });
  const ctx = await createContext(config, { logger: createLogger(config) });
  try {
    const t0 = Date.now();
    await seed(ctx, n);
    process.stdout.write(`seeded ${n} campaigns (${2 * n} reports) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const file = config.database.dialect === 'sqlite' ? config.database.path : null;
    const here = () => buildIntel(ctx.db, config);
    // The calling thread's own writes during a build in the thread (on this thread, a build leaves no turn for them).
    const ownWrites = file ? new BetterSqlite3(file, { timeout: 600_000 }) : null;
    const timed = async (label: string, build: () => Promise<BuildSummary> = here) => {
      const probe = file ? writeProbe(file) : null;
      const stalls = stallMeter(here === build ? null : ownWrites);
      const t0 = Date.now();
      const s = await build();
      const wall = Date.now() - t0;
      const stalled = stalls.stop();
      const waits = (await probe?.stop())?.sort((a, b) => a - b);
      const c = s.collections['spam-campaigns'];
      process.stdout.write(
        `${label}: ${(wall / 1000).toFixed(2)} s, ${s.campaigns} campaigns, ${c?.objects} objects ` +
          `(added ${c?.added}, ` +
          `updated ${c?.updated}, revoked ${c?.revoked}), ${c?.events} MISP events; the calling thread's timers ` +
          `meanwhile: longest stall ${stalled.longest.toFixed(0)} ms, ${(stalled.over50 / 1000).toFixed(1)} s in ` +
          `stalls over 50 ms` +
          (waits && waits.length > 0
            ? `; another connection's writes meanwhile (${waits.length}, one every 5 ms): wait p50 ` +
              `${percentile(waits, 50).toFixed(1)} ms, p99 ${percentile(waits, 99).toFixed(1)} ms, max ` +
              `${(waits.at(-1) ?? 0).toFixed(1)} ms`
            : '') +
          '\n',
      );
    };
    await timed('build, first publication');
    await timed('rebuild, nothing changed');
    const touched = Math.max(1, Math.floor(n / 100));
    for (let i = 0; i < touched; i++)
      await ctx.db
        .updateTable('campaign_facts')
        .set({ count: 3 })
        .where('campaign_id', '=', benchId(i * 100))
        .where('kind', '=', 'ip')
        .execute();
    await timed(`rebuild, ${touched} campaigns changed`);
    const thread = buildThread(config);
    try {
      await timed('in the build thread: rebuild, nothing changed', () => thread.build());
      for (let i = 0; i < touched; i++)
        await ctx.db
          .updateTable('campaign_facts')
          .set({ count: 4 })
          .where('campaign_id', '=', benchId(i * 100 + 1))
          .where('kind', '=', 'ip')
          .execute();
      await timed(`in the build thread: rebuild, ${touched} campaigns changed`, () => thread.build());
    } finally {
      await thread.close();
      ownWrites?.close();
    }
  } finally {
    await closeContext(ctx);
    if (process.env.SPAMDESK_BENCH_INTEL_KEEP) process.stdout.write(`kept ${dataDir}\n`);
    else fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
