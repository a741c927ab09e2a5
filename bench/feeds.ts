/**
 * Feed lag: from a report's 202 to its listing in the DNS blocklist zone, on a real `spamdesk
 * serve` (SQLite, analysis workers, offline DNS, the listing service writing the rbldnsd zones)
 * fed corpus spam (SpamAssassin public corpus `spam_2`, then phishing_pot) over HTTP at a steady
 * rate. A policy file lowers the thresholds to one report, so every listable value counts: its lag
 * is the time from the 202 of the first report carrying it to the moment its line appears in the
 * zone file (polled every 100 ms). Values the policy never lists (reserved ranges, shared
 * platforms, 2002 origins too old for the infected list…) are not counted. Prints p50/p99/max
 * (goal: under 60 s).
 *
 *   npm run bench -- feeds
 *   SPAMDESK_BENCH_FEEDS_REPORTS=400 SPAMDESK_BENCH_FEEDS_RATE=5 npm run bench -- feeds
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Bench } from './registry.ts';
import { CORPUS_DIR, corpusAvailable, percentile } from './lib.ts';
import { startBenchServer } from './server.ts';
import { testConfig } from '../src/core/config.ts';
import { openDatabase } from '../src/db/dialect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createToken } from '../src/db/tokens.ts';
import { listSourceFiles, readAllEntries } from '../src/intake/import/sources.ts';
import { assertEmailMessage } from '../src/evidence/message-check.ts';
import { jsonList } from '../src/actions/report-facts.ts';
import { parseActionPolicy } from '../src/actions/action-policy.ts';
import { runListingPass } from '../src/feeds/lists/pass.ts';

const ZONES = ['ip4.zone', 'ip6.zone', 'domains.zone'];

async function loadMessages(limit: number): Promise<Buffer[]> {
  const files = await listSourceFiles(
    [path.join(CORPUS_DIR, 'spamassassin', 'spam_2'), path.join(CORPUS_DIR, 'phishing_pot')],
    () => undefined,
  );
  const out: Buffer[] = [];
  for await (const e of readAllEntries(files, { maxMessageBytes: 1024 * 1024, mboxFormat: 'mboxrd' })) {
    if (!e.raw) continue;
    try {
      assertEmailMessage(e.raw);
    } catch {
      continue;
    }
    out.push(e.raw);
    if (out.length >= limit) break;
  }
  return out;
}

/** The values a zone file lists (not the RFC 5782 test entries). */
function zoneValues(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line || '#$:!'.includes(line[0])) continue;
    const v = line
      .split(' ')[0]
      .replace(/\/(32|128)$/, '')
      .replace(/^\./, '');
    if (v !== '127.0.0.2' && v !== '::ffff:7f00:2' && v !== 'test') out.push(v);
  }
  return out;
}

function post(url: string, token: string, body: Buffer): Promise<{ status: number; id: string | null }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/api/v1/reports`,
      {
        method: 'POST',
        headers: {
          'content-type': 'message/rfc822',
          'content-length': String(body.length),
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            id: /"id":"([0-9A-Z]+)"/.exec(Buffer.concat(chunks).toString())?.[1] ?? null,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const feedsBench: Bench = {
  name: 'feeds',
  description: 'feed lag: report 202 → listed in the rbldnsd zone, on a real serve fed corpus spam (p50/p99)',
  async run() {
    if (!corpusAvailable()) {
      process.stdout.write(`SKIP feeds bench: corpus not found at ${CORPUS_DIR}\n`);
      return;
    }
    const total = Number(process.env.SPAMDESK_BENCH_FEEDS_REPORTS ?? 300);
    const rate = Number(process.env.SPAMDESK_BENCH_FEEDS_RATE ?? 5);
    const messages = await loadMessages(total);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-bench-feeds-'));
    const zonesDir = path.join(dataDir, 'zones');
    const policyFile = path.join(dataDir, 'policy.json');
    const one = { minReports: 1, minCampaigns: 1 };
    fs.writeFileSync(
      policyFile,
      JSON.stringify({ listing: { infected: { ...one, minSignals: 1 }, infrastructure: one, domains: one } }),
    );
    const config = testConfig({ dataDir });
    const db = openDatabase(config.database);
    await migrateToLatest(db);
    const token = (await createToken(db, { role: 'reporter', name: 'bench' })).secret;

    const server = await startBenchServer([
      '--data-dir',
      dataDir,
      '--http-port',
      '0',
      '--smtp-enabled',
      'false',
      '--dns-mode',
      'offline',
      '--log-level',
      'warn',
      '--actions-policy',
      policyFile,
      '--feeds-zones-dir',
      zonesDir,
    ]);
    const firstSeen = new Map<string, number>();
    const poll = setInterval(() => {
      const now = Date.now();
      for (const z of ZONES) {
        let text = '';
        try {
          text = fs.readFileSync(path.join(zonesDir, z), 'utf8');
        } catch {
          continue;
        }
        for (const v of zoneValues(text)) if (!firstSeen.has(v)) firstSeen.set(v, now);
      }
    }, 100);
    try {
      const accepted = new Map<string, number>();
      const started = performance.now();
      for (let i = 0; i < messages.length; i++) {
        const due = started + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const r = await post(server.url, token, messages[i]);
        if (r.status === 202 && r.id) accepted.set(r.id, Date.now());
      }
      const sent = (performance.now() - started) / 1000;
      // Wait until every accepted report has its facts (the pipeline's last step), then two more passes.
      const deadline = performance.now() + 300_000;
      let done = 0;
      while (performance.now() < deadline) {
        done = Number(
          (
            await db
              .selectFrom('action_report_facts')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
        if (done >= accepted.size) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      await new Promise((r) => setTimeout(r, 25_000));
      const facts = await db
        .selectFrom('action_report_facts')
        .select(['report_id', 'origin_ip', 'advertised_domains', 'created_at'])
        .execute();
      // Per value: the 202 of the first report carrying it, and when that report's facts were stored.
      const earliest = new Map<string, { at: number; facts: number }>();
      for (const f of facts) {
        const at = accepted.get(f.report_id);
        if (at === undefined) continue;
        for (const v of [f.origin_ip, ...jsonList(f.advertised_domains)]) {
          if (!v) continue;
          const key = v.toLowerCase();
          const prev = earliest.get(key);
          if (!prev || at < prev.at) earliest.set(key, { at, facts: Date.parse(f.created_at) });
        }
      }
      const lags: number[] = [];
      const pipeline: number[] = [];
      const listing: number[] = [];
      for (const [v, seen] of firstSeen) {
        const e = earliest.get(v);
        if (!e) continue;
        lags.push((seen - e.at) / 1000);
        pipeline.push((e.facts - e.at) / 1000);
        listing.push((seen - e.facts) / 1000);
      }
      for (const xs of [lags, pipeline, listing]) xs.sort((a, b) => a - b);
      // What one pass costs: every listed value judged again (the 15-minute full pass), here.
      const fullStarted = performance.now();
      const policy = parseActionPolicy(JSON.parse(fs.readFileSync(policyFile, 'utf8')));
      const full = await runListingPass(db, config, policy, new Date(), { full: true });
      const fullSeconds = (performance.now() - fullStarted) / 1000;
      const p = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(1)} s, p99 ${percentile(xs, 99).toFixed(1)} s`;
      process.stdout.write(
        `${accepted.size} of ${messages.length} reports accepted in ${sent.toFixed(1)} s (${rate}/s); ` +
          `${done} analysed to facts; ${firstSeen.size} value(s) listed in the zones ` +
          `(${lags.length} traced to a 202)\n` +
          `feed lag 202 → zone: ${p(lags)}, max ${(lags.at(-1) ?? 0).toFixed(1)} s (goal < 60 s)\n` +
          `  of which 202 → facts stored (analysis, campaign, actions jobs): ${p(pipeline)}\n` +
          `  and facts → line in the zone (listing pass every 10 s, zone write): ${p(listing)}\n` +
          `a full pass (every value judged again) over ${full.judged} value(s) took ${fullSeconds.toFixed(1)} s\n`,
      );
    } finally {
      clearInterval(poll);
      await db.destroy();
      server.proc.kill('SIGTERM');
      await new Promise((r) => server.proc.once('exit', r));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
