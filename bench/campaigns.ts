/**
 * Campaign clustering at scale, and the fuzzy look-up's latency.
 *
 * What is measured: the clustering path of the `campaign-report` job — fingerprinting (text
 * normalisation, shingling, MinHash, strong links) and placement in SQLite (band-index and link
 * look-ups, membership, story facts, merges) — for N synthetic messages (default 1,000,000;
 * `SPAMDESK_BENCH_CAMPAIGN_MESSAGES`). They are derived from real corpus spams: up to 1,000
 * corpus spams are analysed once by the real pipeline; each synthetic campaign takes one of them,
 * rewrites ~40 % of its words (so campaigns differ from each other as much as unrelated spams do)
 * and its advertised domain, and each message is a per-recipient personalisation of it
 * (`src/campaigns/personalise.ts`). Campaign sizes follow a heavy tail (most small, a few large).
 * The parse/indicator analysis of each synthetic message is not re-run (its cost is the analysis
 * bench's); 100 messages are committed per transaction.
 *
 * Printed: messages/s around 10k, 100k and 1M stored (over the preceding 10 % of messages), peak
 * RSS, then p50/p99 latency of `POST /api/v1/lookup` over loopback HTTP with all of them stored
 * (served from this process, after the ingest state is released), then the look-up as mail
 * filters use it: 16 concurrent clients against a real `spamdesk serve` on that database
 * (`lookup-load.ts`: look-ups/s, p50/p99, server CPU per look-up, peak RSS).
 * `SPAMDESK_BENCH_LOOKUP_SERVE_ARGS="--lookup-workers 1;--lookup-workers 2"` runs it once per
 * `;`-separated list of serve arguments.
 *
 * `SPAMDESK_BENCH_CAMPAIGN_DB=/path/bench.db` keeps the database (and the look-up bodies, in
 * `/path/bench.db.lookups`) instead of deleting them; a later run with the same setting and both
 * files present skips the ingest and measures only the look-up, on a fresh process and cache.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { Bench } from './registry.ts';
import { CORPUS_DIR, corpusAvailable, mb, percentile, sampleRss } from './lib.ts';
import { analyse } from '../src/analysis/analyse.ts';
import { offlinePorts } from '../src/analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../src/analysis/settings.ts';
import { corpusMessages } from '../scripts/train/corpus.ts';
import { testConfig } from '../src/core/config.ts';
import { createContext, closeContext } from '../src/app/context.ts';
import { createToken } from '../src/db/tokens.ts';
import { buildApp } from '../src/app/build-app.ts';
import { bandKeys, minhash, shingleHashes } from '../src/analysis/text/minhash.ts';
import { normaliseText, recipientNameTokens } from '../src/analysis/text/normalise.ts';
import { MIN_TOKENS_FOR_LSH, type Fingerprint } from '../src/campaigns/fingerprint.ts';
import { ingestFingerprint } from '../src/campaigns/cluster.ts';
import {
  makeRecipient,
  personalise,
  personaliseText,
  seededRng,
  type BaseMessage,
  type Rng,
} from '../src/campaigns/personalise.ts';
import { sha256Hex } from '../src/core/ids.ts';
import { measureConcurrentLookups } from './lookup-load.ts';

const TOTAL = Number(process.env.SPAMDESK_BENCH_CAMPAIGN_MESSAGES ?? 1_000_000);
const LOOKUPS = Number(process.env.SPAMDESK_BENCH_LOOKUPS ?? 1000);
const KEEP_DB = process.env.SPAMDESK_BENCH_CAMPAIGN_DB ?? null;
const BATCH = 100;
const MAX_BASES = 1000;

async function corpusBases(): Promise<BaseMessage[]> {
  const ports = offlinePorts(new Date('2026-01-01T00:00:00Z'));
  const settings = defaultAnalysisSettings();
  const out: BaseMessage[] = [];
  let i = 0;
  for (const m of corpusMessages(CORPUS_DIR)) {
    if (m.label === 'legitimate' || i++ % 5 !== 0) continue;
    const a = await analyse(m.raw, { ports, settings });
    if (a.parse.visibleText.split(/\s+/).length < 40) continue;
    out.push({
      subject: a.parse.subject ?? '',
      from: a.parse.from[0]?.address ?? 'x@spam.example',
      text: a.parse.visibleText.slice(0, 4000),
      urls: [],
    });
    if (out.length >= MAX_BASES) break;
  }
  return out;
}

/** One synthetic campaign: a corpus spam with ~40 % of its words rewritten and its own domain. */
function campaignTemplate(base: BaseMessage, c: number, rng: Rng, vocab: readonly string[]): BaseMessage {
  const words = base.text.split(/(\s+)/);
  for (let i = 0; i < words.length; i += 2) if (rng() < 0.4) words[i] = vocab[Math.floor(rng() * vocab.length)];
  const url = `https://www.c${c}-offer.com/go`;
  return {
    subject: `${base.subject} ${vocab[c % vocab.length]}`,
    from: `news@c${c}.example`,
    text: `${words.join('')}\n${url}`,
    urls: [url],
  };
}

/** The fingerprint of one personalised copy (the clustering path's own work). */
function syntheticFingerprint(t: BaseMessage, rng: Rng, n: number): Fingerprint {
  const r = makeRecipient(rng);
  const { subject, body } = personaliseText(t, r, rng);
  const { tokens } = normaliseText(
    `${subject}\n${body}`,
    recipientNameTokens([{ name: `${r.first} ${r.last}`, address: r.address }]),
  );
  const sig = tokens.length >= MIN_TOKENS_FOR_LSH ? minhash(shingleHashes(tokens)) : null;
  const domain = t.urls[0] ? new URL(t.urls[0]).hostname.split('.').slice(-2).join('.') : null;
  return {
    sha256: sha256Hex(`${n}:${body}`),
    kind: 'email',
    signature: sig,
    bands: sig ? bandKeys(sig) : [],
    links: domain ? [{ kind: 'domain', value: domain }] : [],
    facts: [
      { kind: 'subject', value: subject.slice(0, 200) },
      { kind: 'sender', value: t.from },
      ...(domain ? [{ kind: 'domain' as const, value: domain }] : []),
      { kind: 'kind', value: 'email' },
    ],
    tokenCount: tokens.length,
  };
}

function post(port: number, agent: http.Agent, token: string, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/v1/lookup',
        method: 'POST',
        agent,
        headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${token}`, 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Look-up bodies kept beside a bench database: length-prefixed raw messages. */
function writeBodies(file: string, bodies: readonly Buffer[]): void {
  const parts: Buffer[] = [];
  for (const b of bodies) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  }
  fs.writeFileSync(file, Buffer.concat(parts));
}

function readBodies(file: string): Buffer[] {
  const all = fs.readFileSync(file);
  const out: Buffer[] = [];
  for (let o = 0; o < all.length; ) {
    const n = all.readUInt32BE(o);
    out.push(all.subarray(o + 4, o + 4 + n));
    o += 4 + n;
  }
  return out;
}

/** p50/p99 of `POST /api/v1/lookup` over loopback HTTP, one keep-alive connection, after 50 warm-ups. */
async function measureLookups(
  ctx: Awaited<ReturnType<typeof createContext>>,
  bodies: readonly Buffer[],
  what: string,
): Promise<void> {
  const app = await buildApp(ctx);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const token = await createToken(ctx.db, { role: 'partner', name: 'bench' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;
    for (let i = 0; i < 50; i++) await post(port, agent, token.secret, bodies[i]);
    const lat: number[] = [];
    let matched = 0;
    for (const b of bodies) {
      const s = process.hrtime.bigint();
      const { status, body } = await post(port, agent, token.secret, b);
      lat.push(Number(process.hrtime.bigint() - s) / 1e6);
      if (status !== 200) throw new Error(`lookup answered ${status}`);
      if ((JSON.parse(body) as { matches: unknown[] }).matches.length > 0) matched++;
    }
    lat.sort((a, b) => a - b);
    process.stdout.write(
      `lookup over loopback HTTP with ${what}: ${bodies.length} requests (${matched} matched a campaign), p50 \
${percentile(lat, 50).toFixed(2)} ms, p99 ${percentile(lat, 99).toFixed(2)} ms, max ${lat[lat.length - 1].toFixed(2)} \
ms (target p99 < 10 ms; JS heap ${heapMb.toFixed(0)} MB before the look-ups; load average \
${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores)\n`,
    );
  } finally {
    agent.destroy();
    await app.close();
  }
}

/** Server settings the concurrent look-up runs with (`SPAMDESK_BENCH_LOOKUP_SERVE_ARGS`, `;`-separated runs). */
const SERVE_RUNS = (process.env.SPAMDESK_BENCH_LOOKUP_SERVE_ARGS ?? '')
  .split(';')
  .map((r) => r.split(' ').filter(Boolean));

async function concurrentRuns(dbPath: string, bodies: readonly Buffer[], what: string): Promise<void> {
  for (const args of SERVE_RUNS) await measureConcurrentLookups(dbPath, bodies, what, args);
}

export const campaignsBench: Bench = {
  name: 'campaigns',
  description: `clustering ${TOTAL.toLocaleString('en')} synthetic corpus-derived messages into SQLite; lookup latency \
over loopback HTTP`,
  async run() {
    if (!corpusAvailable()) {
      process.stdout.write(`SKIP campaigns bench: corpus ${CORPUS_DIR} not found\n`);
      return;
    }
    if (KEEP_DB && fs.existsSync(KEEP_DB) && fs.existsSync(`${KEEP_DB}.lookups`)) {
      const bodies = readBodies(`${KEEP_DB}.lookups`);
      process.stdout.write(
        `re-using ${KEEP_DB} (${mb(fs.statSync(KEEP_DB).size)}) and its ${bodies.length} look-up bodies: ingest \
skipped\n`,
      );
      const ctx = await createContext(
        testConfig({ dataDir: path.dirname(KEEP_DB), databaseUrl: `sqlite:${KEEP_DB}`, sqliteSynchronous: 'NORMAL' }),
      );
      let what = '';
      try {
        const count = async (table: 'campaign_messages' | 'campaign_reps') =>
          Number(
            (
              await ctx.db
                .selectFrom(table)
                .select((eb) => eb.fn.countAll().as('n'))
                .executeTakeFirstOrThrow()
            ).n,
          ).toLocaleString('en');
        what = `${await count('campaign_messages')} messages stored (${await count('campaign_reps')} representative \
fingerprints)`;
        await measureLookups(ctx, bodies, what);
      } finally {
        await closeContext(ctx);
      }
      await concurrentRuns(path.resolve(KEEP_DB), bodies, what);
      return;
    }
    const t0 = Date.now();
    const bases = await corpusBases();
    const vocab = [...new Set(bases.flatMap((b) => b.text.toLowerCase().match(/[a-z]{3,12}/g) ?? []))].sort();
    process.stdout.write(
      `${bases.length} corpus spams analysed as campaign bases, vocabulary ${vocab.length} words \
(${((Date.now() - t0) / 1000).toFixed(1)} s)\n`,
    );

    const dir = KEEP_DB
      ? path.dirname(path.resolve(KEEP_DB))
      : fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-bench-campaigns-'));
    if (KEEP_DB)
      for (const f of [KEEP_DB, `${KEEP_DB}-wal`, `${KEEP_DB}-shm`, `${KEEP_DB}.lookups`])
        fs.rmSync(f, { force: true });
    const config = testConfig({
      dataDir: dir,
      sqliteSynchronous: 'NORMAL',
      ...(KEEP_DB ? { databaseUrl: `sqlite:${path.resolve(KEEP_DB)}` } : {}),
    });
    const ctx = await createContext(config);
    const rss = sampleRss();
    const rng = seededRng(1234);
    const templates: BaseMessage[] = [];
    const marks = new Set([10_000, 100_000, 1_000_000, TOTAL]);
    let windowStart = Date.now();
    let windowCpu = process.cpuUsage();
    let windowFrom = 0;
    let created = 0;
    let closed = false;
    try {
      for (let n = 0; n < TOTAL; ) {
        const end = Math.min(TOTAL, n + BATCH);
        await ctx.db.transaction().execute(async (trx) => {
          for (; n < end; n++) {
            // Heavy-tailed campaign sizes: usually a new or recent campaign, sometimes an old one.
            const u = rng();
            let c: number;
            if (templates.length === 0 || u < 0.05) {
              c = templates.length;
              templates.push(campaignTemplate(bases[c % bases.length], c, rng, vocab));
            } else if (u < 0.8) c = templates.length - 1 - Math.floor(rng() * Math.min(templates.length, 50));
            else c = Math.floor(rng() ** 2 * templates.length);
            const p = await ingestFingerprint(trx, syntheticFingerprint(templates[c], rng, n), {
              seenAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
              category: 'commercial',
            });
            if (p.created) created++;
          }
        });
        const stored = n;
        if (stored % 50_000 === 0)
          process.stdout.write(
            `  ${stored.toLocaleString('en')} stored, ${created.toLocaleString('en')} campaigns, \
${templates.length.toLocaleString('en')} true campaigns, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`,
          );
        // Rate over the last 10 % before each mark.
        for (const m of marks) {
          if (stored === m - Math.floor(m / 10)) {
            windowStart = Date.now();
            windowCpu = process.cpuUsage();
            windowFrom = stored;
          }
          if (stored === m) {
            const rate = (stored - windowFrom) / ((Date.now() - windowStart) / 1000);
            const cpu = process.cpuUsage(windowCpu);
            // Per CPU-second too: on a shared, loaded machine wall-clock rates measure the neighbours.
            const perCpu = (stored - windowFrom) / ((cpu.user + cpu.system) / 1e6);
            process.stdout.write(
              `at ${stored.toLocaleString('en')} stored: ${rate.toFixed(0)} messages/s wall, ${perCpu.toFixed(0)} \
messages per CPU-second (over the last ${(stored - windowFrom).toLocaleString('en')}; load average \
${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores)\n`,
            );
          }
        }
      }
      process.stdout.write(
        `clustering: ${TOTAL.toLocaleString('en')} messages into ${created.toLocaleString('en')} campaigns (truth \
${templates.length.toLocaleString('en')}), peak RSS ${mb(rss.stop())}, database \
${mb(fs.statSync(config.database.dialect === 'sqlite' ? config.database.path : '').size)}\n`,
      );

      const lrng = seededRng(99);
      const bodies: Buffer[] = [];
      for (let i = 0; i < LOOKUPS; i++) {
        // Half known campaigns (a fresh personalised copy), half corpus spams never ingested.
        const t =
          i % 2 === 0 ? templates[Math.floor(lrng() * templates.length)] : bases[Math.floor(lrng() * bases.length)];
        bodies.push(personalise(t, makeRecipient(lrng), lrng, i));
      }
      if (KEEP_DB) writeBodies(`${KEEP_DB}.lookups`, bodies);
      // A look-up server does not hold an ingest run's state: drop the campaign templates and bases
      // (≈ 200 MB at 1M) so garbage collection in this process measures a server's heap, not the bench's.
      templates.length = 0;
      bases.length = 0;
      vocab.length = 0;
      await measureLookups(ctx, bodies, `${TOTAL.toLocaleString('en')} messages stored`);
      await closeContext(ctx);
      closed = true;
      if (config.database.dialect === 'sqlite')
        await concurrentRuns(config.database.path, bodies, `${TOTAL.toLocaleString('en')} messages stored`);
    } finally {
      if (!closed) await closeContext(ctx);
      if (!KEEP_DB) fs.rmSync(dir, { recursive: true, force: true });
      else
        process.stdout.write(
          `database kept at ${KEEP_DB}; run again with the same SPAMDESK_BENCH_CAMPAIGN_DB to measure look-ups only\n`,
        );
    }
  },
};
