/**
 * Web queries at 1,000,000 reports in SQLite, through the same functions the pages call: the
 * report list (first page, a deep keyset page, each filter and search), the network operators'
 * lists (one and several ASes), the dashboard (daily series and top-N tables over 30 and 365 days
 * and an odd range, each whole page), a campaign timeline, the public statistics page and the dead
 * letters; the campaign labels each page shows (from `campaign_facts`, filled from the generated
 * subjects, senders and advertised domains); the top-N lines say how the threshold algorithm
 * answered (blocks, depth, values read by key). Rows are generated directly with realistic
 * skew (Zipf-distributed campaigns, networks, countries, domains and subject words; a year of
 * growing volume; channels and categories in plausible shares). Target: < 200 ms per query.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { encodeTime } from 'ulid';
import type { Bench } from './registry.ts';
import { REPO_ROOT, mb, percentile, pick, row, sampleRss, zipf } from './lib.ts';
import { openDatabase, type DB } from '../src/db/dialect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { TERM, UNKNOWN } from '../src/web/indexer.ts';
import {
  dailySeries,
  listReports,
  rangeOf,
  topValues,
  totalReports,
  valueSeries,
  type Cursor,
  type ListFilters,
} from '../src/web/queries.ts';
import { topValuesBySum, type TopPlan } from '../src/web/top-values.ts';
import { listDeadLetters } from '../src/web/dead-letters.ts';
import { campaignLabels } from '../src/campaigns/label.ts';
import { sql } from 'kysely';
import { mulberry32 } from '../src/core/prng.ts';
import { PG_ADMIN_URL, postgresUnavailable } from '../src/db/test-databases.ts';
import pg from 'pg';

export const REPORTS = Number(process.env.SPAMDESK_BENCH_WEB_REPORTS ?? 1_000_000);
const DB_PATH = path.join(REPO_ROOT, 'bench', 'out', `web-${REPORTS}.db`);
const RUNS = 15;
const TARGET_MS = 200;
const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 23);
export const START = END - 365 * DAY;

const COUNTRIES = (
  'US CN RU BR IN VN DE FR NL UA ID TR KR PL GB IT ES JP AR MX RO TH PK IR CO ZA EG NG BG KZ CL PE TW MY PH SA HK SG ' +
  'CA AU SE CZ HU BD VE MA DZ KE BY LT LV EE PT GR AT CH BE DK FI NO IE'
).split(' ');
const WORDS = (
  'account verify prize winner urgent payment invoice parcel delivery bank security update password offer free ' +
  'bitcoin investment loan cheap pharmacy meeting dating lottery refund tax customs suspended confirm reward gift ' +
  'card crypto wallet profit click limited exclusive deal newsletter order shipping bonus casino insurance'
).split(' ');

/** One generated report: its message, report row, index row and search terms. */
export interface GeneratedRow {
  id: string;
  iso: string;
  sha: string;
  channel: string;
  kind: string;
  token: string;
  subject: string;
  sender: string;
  senderDomain: string;
  ip: string | null;
  country: string | null;
  asn: number | null;
  category: string | null;
  campaignId: string | null;
  stage: number;
  terms: string[];
}

/**
 * The synthetic reports, in time order, with the daily roll-ups they add up to. The same seed gives
 * the same rows whichever database they go to.
 */
export function generator(): { row(i: number): GeneratedRow; rollup: Map<string, number> } {
  const rand = mulberry32(20261123);
  const campaign = zipf(20_000, rand);
  const asn = zipf(3_000, rand);
  const country = zipf(COUNTRIES.length, rand);
  const domain = zipf(50_000, rand);
  const word = zipf(WORDS.length, rand, 0.8);
  const message = zipf(200_000, rand, 0.9);
  const rollup = new Map<string, number>();
  const bump = (dim: string, day: string, value: string) => {
    const k = `${dim}\u0000${day}\u0000${value}`;
    rollup.set(k, (rollup.get(k) ?? 0) + 1);
  };
  // Volume grows over the year (x3 from start to end); times are sorted so ids follow them.
  const times = new Float64Array(REPORTS);
  // Density ∝ 1 + 2x over the year (x in [0, 1]): CDF (x + x²) / 2, inverted.
  for (let i = 0; i < REPORTS; i++) times[i] = START + ((Math.sqrt(1 + 8 * rand()) - 1) / 2) * 365 * DAY;
  times.sort();
  return {
    rollup,
    row(i: number): GeneratedRow {
      const t = Math.floor(Math.min(END + DAY - 1, Math.max(START, times[i])));
      const iso = new Date(t).toISOString();
      const day = iso.slice(0, 10);
      const id = encodeTime(t, 10) + String(i).padStart(16, '0');
      const m = message();
      const sha = m.toString(16).padStart(64, '0');
      const channel = pick(rand, [
        ['addon', 0.35],
        ['smtp', 0.3],
        ['web', 0.2],
        ['api', 0.1],
        ['sms', 0.05],
      ] as [string, number][]);
      const recent = END - t < 2 * DAY;
      const stage = recent && rand() < 0.3 ? 0 : 2;
      const cat =
        stage < 2
          ? null
          : pick(rand, [
              ['commercial', 0.4],
              ['phishing', 0.2],
              ['scam', 0.2],
              ['malware', 0.05],
              ['legitimate', 0.08],
              ['other', 0.07],
            ] as [string, number][]);
      const c = campaign();
      const campaignId = stage < 2 ? null : `C${String(c).padStart(7, '0')}`;
      const a = 64_500 + asn();
      const cc = COUNTRIES[country()];
      const ip = `198.${(a >> 8) & 255}.${a & 255}.${(i * 7) & 255}`;
      const d = `shop${domain()}.example`;
      const sdom = `mail${c % 5000}.example`;
      const w1 = WORDS[word()];
      const w2 = WORDS[word()];
      const subject = `${w1[0].toUpperCase()}${w1.slice(1)} ${w2} #${c % 1000}`;
      bump('category', day, cat ?? UNKNOWN);
      bump('channel', day, channel);
      bump('country', day, stage >= 1 ? cc : UNKNOWN);
      bump('asn', day, stage >= 1 ? String(a) : UNKNOWN);
      if (campaignId) bump('campaign', day, campaignId);
      bump('domain', day, d);
      return {
        id,
        iso,
        sha,
        channel,
        kind: channel === 'sms' ? 'sms' : 'email',
        token: `t${i}`,
        subject,
        sender: `news@${sdom}`,
        senderDomain: sdom,
        ip: stage >= 1 ? ip : null,
        country: stage >= 1 ? cc : null,
        asn: stage >= 1 ? a : null,
        category: cat,
        campaignId,
        stage,
        terms: [
          ...new Set([
            TERM.word + w1,
            TERM.word + w2,
            `${TERM.sender}news@${sdom}`,
            TERM.sender + sdom,
            TERM.domain + d,
            TERM.advertised + d,
            TERM.ip + ip,
          ]),
        ],
      };
    },
  };
}

export const CHUNK = 20_000;

async function buildSqlite(): Promise<void> {
  fs.mkdirSync(path.dirname(DB_PATH), { recursive: true });
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(DB_PATH + suffix, { force: true });
  const kdb = openDatabase({ dialect: 'sqlite', path: DB_PATH }, { synchronous: 'OFF' });
  await migrateToLatest(kdb);
  await kdb.destroy();
  const db = new BetterSqlite3(DB_PATH);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('foreign_keys = ON');
  db.pragma('cache_size = -262144');
  // Load without the secondary indexes and build them afterwards (one sort each instead of a
  // million random B-tree inserts); the schema ends up exactly as the migrations made it.
  const indexes = db
    .prepare(
      "select name, sql from sqlite_master where type = 'index' and sql is not null and tbl_name in ('reports', " +
        "'web_report_index', 'web_report_terms', 'messages')",
    )
    .all() as { name: string; sql: string }[];
  for (const ix of indexes) db.exec(`drop index ${ix.name}`);
  const insMsg = db.prepare(
    'insert or ignore into messages (sha256, kind, size, codec, content, first_seen_at) values (?, ?, ?, ?, ?, ?)',
  );
  const insRep = db.prepare(
    'insert into reports (id, message_sha256, channel, received_at, reporter_user_id, reporter_token_id, ' +
      'reporter_address, client_ip, note, quality, dedup_key, context, tracking_token) values (?, ?, ?, ?, null, ' +
      "null, null, null, null, 'full', null, null, ?)",
  );
  // The keys every stored report has (evidence/store-units.ts writes them in the same transaction).
  const insKey = db.prepare('insert into report_keys (report_id, dedup_key, tracking_token) values (?, null, ?)');
  const insIdx = db.prepare(
    'insert into web_report_index (report_id, received_at, channel, kind, message_sha256, reporter_user_id, subject, ' +
      'sender, sender_domain, origin_ip, origin_country, origin_asn, category, campaign_id, stage, false_report, ' +
      'updated_at) values (?, ?, ?, ?, ?, null, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)',
  );
  const insTerm = db.prepare('insert or ignore into web_report_terms (term, received_at, report_id) values (?, ?, ?)');
  const gen = generator();
  for (let base = 0; base < REPORTS; base += CHUNK) {
    db.transaction(() => {
      for (let i = base; i < Math.min(REPORTS, base + CHUNK); i++) {
        const r = gen.row(i);
        insMsg.run(r.sha, r.kind, 2048, 'identity', Buffer.from('x'), r.iso);
        insKey.run(r.id, r.token);
        insRep.run(r.id, r.sha, r.channel, r.iso, r.token);
        insIdx.run(
          r.id,
          r.iso,
          r.channel,
          r.kind,
          r.sha,
          r.subject,
          r.sender,
          r.senderDomain,
          r.ip,
          r.country,
          r.asn,
          r.category,
          r.campaignId,
          r.stage,
          r.iso,
        );
        for (const term of r.terms) insTerm.run(term, r.iso, r.id);
      }
    })();
  }
  const insRoll = db.prepare('insert into web_rollup_daily (dim, day, value, n) values (?, ?, ?, ?)');
  db.transaction(() => {
    for (const [k, n] of gen.rollup) {
      const [dim, day, value] = k.split('\u0000');
      insRoll.run(dim, day, value, n);
    }
  })();
  for (const ix of indexes) db.exec(ix.sql);
  // Monthly rows, as the indexer keeps them (same statement as migration 0052).
  db.exec(
    "insert into web_rollup_daily (dim, day, value, n) select dim || ':m', substr(day, 1, 7), value, sum(n) from " +
      "web_rollup_daily where dim not like '%:m' group by dim, substr(day, 1, 7), value",
  );
  db.prepare("insert into web_state (key, value) values ('bench.rows', ?)").run(String(REPORTS));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('analyze');
  db.close();
}

/** The same rows into a PostgreSQL database (created fresh), columns sent as arrays through unnest. */
async function buildPostgres(url: string): Promise<void> {
  const kdb = openDatabase({ dialect: 'postgres', url });
  await migrateToLatest(kdb);
  await kdb.destroy();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('set synchronous_commit = off');
    // Secondary indexes are built after the load, as for SQLite (constraint indexes stay).
    const { rows: indexes } = await client.query<{ indexname: string; indexdef: string }>(
      "select indexname, indexdef from pg_indexes where schemaname = current_schema() and tablename in ('reports', " +
        "'web_report_index', 'web_report_terms', 'messages') and indexname not in (select conname from pg_constraint)",
    );
    for (const ix of indexes) await client.query(`drop index ${ix.indexname}`);
    const gen = generator();
    const seen = new Set<string>();
    for (let base = 0; base < REPORTS; base += CHUNK) {
      const rows: GeneratedRow[] = [];
      for (let i = base; i < Math.min(REPORTS, base + CHUNK); i++) rows.push(gen.row(i));
      await writePgChunk(client, rows, seen);
    }
    const roll = [...gen.rollup].map(([k, n]) => [...k.split('\u0000'), n] as [string, string, string, number]);
    await client.query(
      'insert into web_rollup_daily (dim, day, value, n) select * from unnest($1::text[], $2::text[], $3::text[], ' +
        '$4::int[])',
      [roll.map((x) => x[0]), roll.map((x) => x[1]), roll.map((x) => x[2]), roll.map((x) => x[3])],
    );
    // A partitioned table's index is listed as `ON ONLY` (the parent alone): recreated as such it
    // stays invalid with no index on any partition, and every query scans whole partitions.
    for (const ix of indexes) await client.query(ix.indexdef.replace(' ON ONLY ', ' ON '));
    await client.query(
      "insert into web_rollup_daily (dim, day, value, n) select dim || ':m', substr(day, 1, 7), value, sum(n) from " +
        "web_rollup_daily where dim not like '%:m' group by dim, substr(day, 1, 7), value",
    );
    await client.query("insert into web_state (key, value) values ('bench.rows', $1)", [String(REPORTS)]);
    // What autovacuum does to an insert-only table soon after a load: without the visibility map
    // set, index-only scans visit the heap, and the planner fetched every row of the first word of
    // a two-word search (636 ms p50 at 1M) instead of merging the two terms' index ranges (32 ms).
    await client.query('vacuum analyze');
  } finally {
    await client.end();
  }
}

async function ready(): Promise<boolean> {
  if (!fs.existsSync(DB_PATH)) return false;
  try {
    const db = new BetterSqlite3(DB_PATH, { readonly: true });
    const r = db.prepare("select value from web_state where key = 'bench.rows'").get() as { value: string } | undefined;
    db.close();
    return r?.value === String(REPORTS);
  } catch {
    return false;
  }
}

async function time(fn: () => Promise<unknown>): Promise<{ p50: number; p99: number; max: number }> {
  await fn(); // warm the page cache once
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms[ms.length - 1] };
}

/**
 * The campaigns' story facts the labels read (subjects, senders, advertised domains with their
 * counts), as the clustering keeps them, from the generated rows; once per database.
 */
async function ensureCampaignFacts(db: DB): Promise<void> {
  const any = await db.selectFrom('campaign_facts').select('campaign_id').limit(1).executeTakeFirst();
  if (any) return;
  const t0 = performance.now();
  await sql`insert into campaign_facts (campaign_id, kind, value, count, first_seen_at, last_seen_at)
    select campaign_id, 'subject', subject, count(*), min(received_at), max(received_at) from web_report_index
      where campaign_id is not null and subject is not null group by campaign_id, subject
    union all
    select campaign_id, 'sender', sender, count(*), min(received_at), max(received_at) from web_report_index
      where campaign_id is not null and sender is not null group by campaign_id, sender
    union all
    select i.campaign_id, 'domain', substr(t.term, 3), count(*), min(i.received_at), max(i.received_at)
      from web_report_terms t join web_report_index i on i.report_id = t.report_id
      where t.term >= ${TERM.domain} and t.term < ${`${TERM.domain.slice(0, -1)};`} and i.campaign_id is not null
      group by i.campaign_id, t.term`.execute(db);
  process.stdout.write(`campaign facts filled in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

/** How `campaignLabels` read facts before issue 18's batching: three queries per campaign (for comparison). */
async function labelsOneByOne(db: DB, ids: readonly string[]): Promise<number> {
  let n = 0;
  for (const id of new Set(ids))
    for (const kind of ['subject', 'sender', 'domain'])
      n += (
        await db
          .selectFrom('campaign_facts')
          .select(['kind', 'value', 'count'])
          .where('campaign_id', '=', id)
          .where('kind', '=', kind)
          .orderBy('count', 'desc')
          .orderBy('value')
          .limit(50)
          .execute()
      ).length;
  return n;
}

/** Runs every page query against `db` and prints its latencies. */
export async function measure(db: DB, label: string, rss: { stop(): number }, rows = REPORTS): Promise<void> {
  // A database built by an older version of this bench gets the newer migrations (e.g. monthly roll-ups).
  await migrateToLatest(db);
  await ensureCampaignFacts(db);
  const all = { kind: 'all' } as const;
  const deep: Cursor = await (async () => {
    const mid = await db
      .selectFrom('web_report_index')
      .select(['received_at', 'report_id'])
      .orderBy('received_at')
      .limit(1)
      .offset(Math.floor(rows / 2))
      .executeTakeFirstOrThrow();
    return { receivedAt: mid.received_at, reportId: mid.report_id };
  })();
  const topCampaign = (await topValues(db, 'campaign', rangeOf('2000-01-01', '2100-01-01'), 1))[0]?.value ?? 'C0000000';
  const list =
    (f: ListFilters, c: Cursor | null = null) =>
    () =>
      listReports(db, all, f, c);
  const r30 = rangeOf(undefined, '2026-11-23', 30);
  const r90 = rangeOf(undefined, '2026-11-23', 90);
  const r365 = rangeOf(undefined, '2026-11-23', 365);
  const rOdd = rangeOf('2026-02-17', '2026-09-04');
  const last: { plan: TopPlan | null } = { plan: null };
  const planSeen = (): TopPlan | null => last.plan;
  const top =
    (dim: Parameters<typeof topValues>[1], r: typeof r30, limit = 10) =>
    () =>
      topValues(db, dim, r, limit, (p) => (last.plan = p));
  const dashboard = (r: typeof r30) => () =>
    Promise.all([
      dailySeries(db, 'category', r),
      dailySeries(db, 'channel', r),
      topValues(db, 'campaign', r),
      topValues(db, 'asn', r),
      topValues(db, 'country', r),
      topValues(db, 'domain', r),
      totalReports(db, r),
    ]);
  const campaignsOf = (rows: { campaign_id: string | null }[]) =>
    rows.flatMap((r) => (r.campaign_id ? [r.campaign_id] : []));
  const newestCampaigns = campaignsOf((await listReports(db, all, {}, null)).rows);
  const largest50 = (await topValues(db, 'campaign', r365, 50)).map((v) => v.value);
  const cases: [string, () => Promise<unknown>][] = [
    ['list: newest page', list({})],
    ['list: page at the middle (keyset)', list({}, deep)],
    ['list: category=malware', list({ category: 'malware' })],
    ['list: channel=sms', list({ channel: 'sms' })],
    ['list: search word "refund"', list({ q: 'refund' })],
    ['list: two words "casino bonus"', list({ q: 'casino bonus' })],
    ['list: sender domain', list({ sender: 'mail42.example' })],
    ['list: advertised domain', list({ domain: 'shop7.example' })],
    ['list: campaign (largest)', list({ campaign: topCampaign })],
    ['list: date range one day', list({ from: '2026-06-01', to: '2026-06-01' })],
    [
      "list: reporter's own reports (account page)",
      () => listReports(db, { kind: 'own', userId: 'U-bench', tokenId: null }, {}, null, 100),
    ],
    ['network: AS64501 (operator scope)', () => listReports(db, { kind: 'networks', asns: [64_501] }, {}, null)],
    [
      'network: three largest ASes',
      () => listReports(db, { kind: 'networks', asns: [64_500, 64_501, 64_502] }, {}, null),
    ],
    [
      'network: three ASes, page at the middle',
      () => listReports(db, { kind: 'networks', asns: [64_500, 64_501, 64_502] }, {}, deep),
    ],
    ['network: a small AS (AS67499)', () => listReports(db, { kind: 'networks', asns: [67_499] }, {}, null)],
    [
      'network: three ASes, one day',
      () =>
        listReports(
          db,
          { kind: 'networks', asns: [64_500, 64_501, 64_502] },
          { from: '2026-06-01', to: '2026-06-01' },
          null,
        ),
    ],
    ['dash: category per day, 30 d', () => dailySeries(db, 'category', r30)],
    ['dash: channel per day, 365 d', () => dailySeries(db, 'channel', r365)],
    ['dash: top campaigns, 30 d', top('campaign', r30)],
    ['dash: top campaigns, 365 d', top('campaign', r365)],
    ['dash: top campaigns, 2026-02-17..09-04', top('campaign', rOdd)],
    ['dash: top networks, 365 d', top('asn', r365)],
    ['dash: top countries, 365 d', top('country', r365)],
    ['dash: top domains, 30 d', top('domain', r30)],
    ['dash: top domains, 365 d', top('domain', r365)],
    ['dash: top domains, 2026-02-17..09-04', top('domain', rOdd)],
    ['dash: total, 365 d', () => totalReports(db, r365)],
    ['dash: whole dashboard page (7 queries), 30 d', dashboard(r30)],
    ['dash: whole dashboard page (7 queries), 365 d', dashboard(r365)],
    [
      'dash: whole page with its campaign labels, 365 d',
      async () => {
        const [, , top10] = await dashboard(r365)();
        return campaignLabels(
          db,
          top10.map((v) => v.value),
        );
      },
    ],
    [
      `labels: newest report page (${new Set(newestCampaigns).size} campaigns)`,
      () => campaignLabels(db, newestCampaigns),
    ],
    [
      'list: newest page with its labels',
      async () => campaignLabels(db, campaignsOf((await listReports(db, all, {}, null)).rows)),
    ],
    ['labels: the 50 largest campaigns', () => campaignLabels(db, largest50)],
    ['campaign page: timeline of the largest, 365 d', () => valueSeries(db, 'campaign', topCampaign, r365)],
    ['dead letters: waiting page', () => listDeadLetters(db, 'open', null)],
    [
      'stats page (3 queries), 90 d',
      () => Promise.all([dailySeries(db, 'category', r90), topValues(db, 'country', r90, 10), totalReports(db, r90)]),
    ],
  ];
  // The plain sum over the same roll-up rows, for comparison only (no page runs it for a top 10).
  const reference: [string, () => Promise<unknown>][] = [
    ['(reference) top campaigns, 365 d, plain sum', () => topValuesBySum(db, 'campaign', r365)],
    ['(reference) top domains, 365 d, plain sum', () => topValuesBySum(db, 'domain', r365)],
    ['(before) labels of the newest report page, 3 queries per campaign', () => labelsOneByOne(db, newestCampaigns)],
  ];
  const widths = [50, 10, 10, 10, 6, 0];
  process.stdout.write(`${row(['query', 'p50 ms', 'p99 ms', 'max ms', `<${TARGET_MS}`, 'top-N plan'], widths)}\n`);
  let over = 0;
  for (const [name, fn] of cases) {
    last.plan = null;
    const r = await time(fn);
    if (r.p99 >= TARGET_MS) over++;
    const p = planSeen();
    const how =
      p === null
        ? ''
        : p.kind === 'sum'
          ? `sum of ${p.blocks} blocks`
          : `${p.blocks} blocks, depth ${p.depth}, ${p.survivors} by key`;
    process.stdout.write(
      `\
${row([name, r.p50.toFixed(1), r.p99.toFixed(1), r.max.toFixed(1), r.p99 < TARGET_MS ? 'yes' : 'NO', how], widths)}\n`,
    );
  }
  for (const [name, fn] of reference) {
    const r = await time(fn);
    process.stdout.write(`${row([name, r.p50.toFixed(1), r.p99.toFixed(1), r.max.toFixed(1), '', ''], widths)}\n`);
  }
  process.stdout.write(
    `${label}: ${cases.length - over}/${cases.length} queries under ${TARGET_MS} ms at p99; peak RSS \
${mb(rss.stop())}\n`,
  );
}

/** `true` once the PostgreSQL bench database holds this many generated reports. */
async function pgReady(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const r = await client.query<{ value: string }>("select value from web_state where key = 'bench.rows'");
    return r.rows[0]?.value === String(REPORTS);
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const webBench: Bench = {
  name: 'web',
  description: `workbench list and dashboard queries at ${REPORTS.toLocaleString('en')} reports (SQLite; PostgreSQL \
too with SPAMDESK_BENCH_WEB_POSTGRES=1)`,
  async run() {
    let rss = sampleRss();
    if (!(await ready())) {
      const t0 = performance.now();
      process.stdout.write(
        `generating ${REPORTS.toLocaleString('en')} reports into ${path.relative(REPO_ROOT, DB_PATH)} …\n`,
      );
      await buildSqlite();
      process.stdout.write(
        `generated in ${((performance.now() - t0) / 1000).toFixed(1)} s (${mb(fs.statSync(DB_PATH).size)})\n`,
      );
    }
    const db: DB = openDatabase({ dialect: 'sqlite', path: DB_PATH }, { synchronous: 'NORMAL' });
    try {
      await measure(db, 'SQLite', rss);
    } finally {
      await db.destroy();
    }

    if (process.env.SPAMDESK_BENCH_WEB_POSTGRES !== '1') {
      process.stdout.write(
        'PostgreSQL: not run (SPAMDESK_BENCH_WEB_POSTGRES=1 runs the same queries on a PostgreSQL copy; the first ' +
          'run generates it)\n',
      );
      return;
    }
    const problem = await postgresUnavailable();
    if (problem) {
      process.stdout.write(`SKIP web bench on PostgreSQL: ${problem}\n`);
      return;
    }
    // A kept database (like the SQLite file): generating a million reports takes minutes.
    const name = `spamdesk_bench_web_${REPORTS}`;
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    if (!(await pgReady(url.toString()))) {
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      try {
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      const t0 = performance.now();
      process.stdout.write(`generating ${REPORTS.toLocaleString('en')} reports into PostgreSQL database ${name} …\n`);
      await buildPostgres(url.toString());
      process.stdout.write(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    rss = sampleRss();
    const pdb: DB = openDatabase({ dialect: 'postgres', url: url.toString() });
    try {
      await measure(pdb, 'PostgreSQL', rss);
    } finally {
      await pdb.destroy();
    }
  },
};

/**
 * One chunk of generated rows into the indexed tables, in one transaction of multi-row inserts:
 * messages, report keys and reports (as evidence/store-units.ts stores them), the report index and
 * its search terms (as web/indexer.ts), the action facts (as the facts job).
 */
export async function writePgChunk(client: pg.Client, rows: GeneratedRow[], seen: Set<string>): Promise<void> {
  const fresh = rows.filter((r) => {
    if (seen.has(r.sha)) return false;
    seen.add(r.sha);
    return true;
  });
  await client.query('begin');
  await client.query(
    "insert into messages (sha256, kind, size, codec, content, first_seen_at) select s, k, 2048, 'identity', " +
      "'\\x78'::bytea, t from unnest($1::text[], $2::text[], $3::text[]) as u(s, k, t) on conflict do nothing",
    [fresh.map((r) => r.sha), fresh.map((r) => r.kind), fresh.map((r) => r.iso)],
  );
  await client.query(
    'insert into report_keys (report_id, tracking_token) select * from unnest($1::text[], $2::text[])',
    [rows.map((r) => r.id), rows.map((r) => r.token)],
  );
  await client.query(
    'insert into reports (id, message_sha256, channel, received_at, quality, tracking_token) select id, s, c, t, ' +
      "'full', tk from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) as u(id, s, c, t, tk)",
    [
      rows.map((r) => r.id),
      rows.map((r) => r.sha),
      rows.map((r) => r.channel),
      rows.map((r) => r.iso),
      rows.map((r) => r.token),
    ],
  );
  await client.query(
    'insert into web_report_index (report_id, received_at, channel, kind, message_sha256, subject, sender, ' +
      'sender_domain, origin_ip, origin_country, origin_asn, category, campaign_id, stage, false_report, updated_at) ' +
      'select id, t, c, k, s, subj, snd, sd, ip, cc, asn, cat, camp, st, 0, t from unnest($1::text[], $2::text[], ' +
      '$3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::int[], ' +
      '$12::text[], $13::text[], $14::int[]) as u(id, t, c, k, s, subj, snd, sd, ip, cc, asn, cat, camp, st)',
    [
      rows.map((r) => r.id),
      rows.map((r) => r.iso),
      rows.map((r) => r.channel),
      rows.map((r) => r.kind),
      rows.map((r) => r.sha),
      rows.map((r) => r.subject),
      rows.map((r) => r.sender),
      rows.map((r) => r.senderDomain),
      rows.map((r) => r.ip),
      rows.map((r) => r.country),
      rows.map((r) => r.asn),
      rows.map((r) => r.category),
      rows.map((r) => r.campaignId),
      rows.map((r) => r.stage),
    ],
  );
  const terms = rows.flatMap((r) => r.terms.map((term) => [term, r.iso, r.id] as const));
  await client.query(
    'insert into web_report_terms (term, received_at, report_id) select * from unnest($1::text[], $2::text[], ' +
      '$3::text[]) on conflict do nothing',
    [terms.map((x) => x[0]), terms.map((x) => x[1]), terms.map((x) => x[2])],
  );
  await client.query(
    'insert into action_report_facts (report_id, message_sha256, campaign_id, category, received_at, origin_ip, ' +
      'origin_asn, origin_country, sender_domain, created_at) select id, s, camp, cat, t, ip, asn, cc, sd, t ' +
      'from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], ' +
      '$9::text[]) as u(id, s, camp, cat, t, ip, asn, cc, sd)',
    [
      rows.map((r) => r.id),
      rows.map((r) => r.sha),
      rows.map((r) => r.campaignId),
      rows.map((r) => r.category),
      rows.map((r) => r.iso),
      rows.map((r) => r.ip),
      rows.map((r) => r.asn),
      rows.map((r) => r.country),
      rows.map((r) => r.senderDomain),
    ],
  );
  await client.query('commit');
}
