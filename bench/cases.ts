/**
 * The case workbench's queries at scale in SQLite (issue 18): the case list (first page, a deep
 * keyset page, each filter, an authority's scoped list), the state counts and filter choices, an
 * authority's referral list, and the case page of the largest case (reports page, timeline,
 * indicators, origins). Rows are generated directly: SPAMDESK_BENCH_CASES_REPORTS reports
 * (default 1,000,000) with their facts, spread over 20,000 cases by a Zipf law (the largest case
 * holds about a tenth of them), 20 authorities and referrals for a third of the cases.
 * Target: < 200 ms per query, as for the other web pages.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { encodeTime } from 'ulid';
import type { Bench } from './registry.ts';
import { REPO_ROOT, percentile, pick, row, zipf } from './lib.ts';
import { openDatabase } from '../src/db/dialect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { buildMonthlyReport } from '../src/actions/monthly-report/build.ts';
import { monthlyReport } from '../src/actions/monthly-report/snapshots.ts';
import { mulberry32 } from '../src/core/prng.ts';
import { caseFilterChoices, caseStateCounts, listCasePage } from '../src/actions/cases/case-list.ts';
import { caseFactsTally, caseReportsPage, caseTimeline } from '../src/actions/cases/case-view.ts';
import { computeCaseTally, rebuildCaseTally } from '../src/actions/cases/case-tally.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../src/db/schema.ts';
import { listReferralPage } from '../src/actions/referrals/referrals.ts';

const REPORTS = Number(process.env.SPAMDESK_BENCH_CASES_REPORTS ?? 1_000_000);
const CASES = 20_000;
const AUTHORITIES = 20;
const DB_PATH = path.join(REPO_ROOT, 'bench', 'out', `cases-${REPORTS}.db`);
const RUNS = 15;
const TARGET_MS = 200;
const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 23);
const START = END - 365 * DAY;
const STATES: [string, number][] = [
  ['open', 0.3],
  ['needs_review', 0.05],
  ['referred', 0.3],
  ['closed', 0.3],
  ['merged', 0.05],
];
const CATEGORIES = ['phishing', 'malware', 'scam', 'commercial', 'consent'];
const RULES = ['rule:CAMPAIGN_VOLUME', 'rule:PHISHING_CAMPAIGN', 'rule:SENDER_CONSENT'];

/** A ULID-shaped id at `ms` with a fixed-width sequence (ids sort by time, as newId's do). */
function idAt(ms: number, seq: number): string {
  return encodeTime(ms, 10) + seq.toString(36).toUpperCase().padStart(16, '0');
}

async function build(): Promise<void> {
  fs.mkdirSync(path.dirname(DB_PATH), { recursive: true });
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(DB_PATH + suffix, { force: true });
  const kdb = openDatabase({ dialect: 'sqlite', path: DB_PATH }, { synchronous: 'OFF' });
  await migrateToLatest(kdb);
  await kdb.destroy();
  const db = new BetterSqlite3(DB_PATH);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  // Only the tables this bench reads are filled (no messages behind the reports).
  db.pragma('foreign_keys = OFF');
  const rand = mulberry32(18);
  const caseOf = zipf(CASES, rand);
  const iso = (ms: number) => new Date(ms).toISOString();
  const cases: { id: string; created: number }[] = [];
  const insCase = db.prepare(
    'insert into action_cases (id, target_kind, target_value, title, category, state, merged_into, opened_by, ' +
      'created_at, updated_at) values (?, ?, ?, ?, ?, ?, null, ?, ?, ?)',
  );
  const insAuth = db.prepare(
    'insert into action_authorities (id, name, country, competence, contact_kind, contact, evidence_mode, user_id, ' +
      "active, created_at) values (?, ?, 'FR', 'cybercrime', 'email', ?, 'original-and-redacted', null, 1, ?)",
  );
  const insRef = db.prepare(
    'insert into action_referrals (id, case_id, authority_id, state, package_sha256, package_size, package, ' +
      "created_at, updated_at, outbox_id) values (?, ?, ?, 'sent', ?, 1000, ?, ?, ?, null)",
  );
  db.transaction(() => {
    for (let a = 0; a < AUTHORITIES; a++) insAuth.run(`A${a}`, `Authority ${a}`, `a${a}@authority.example`, iso(START));
    for (let i = 0; i < CASES; i++) {
      const created = START + Math.floor((i / CASES) * 365 * DAY);
      const id = idAt(created, i);
      cases.push({ id, created });
      const state = pick(rand, STATES);
      insCase.run(
        id,
        'campaign',
        `C${i}`,
        `Campaign ${i}`,
        CATEGORIES[i % CATEGORIES.length],
        state,
        i % 4 === 0 ? `user:U${i % 7}(analyst${i % 7}@example.org):analyst` : RULES[i % RULES.length],
        iso(created),
        iso(created),
      );
      if (state === 'referred' || state === 'closed' || i % 3 === 0)
        insRef.run(
          idAt(created + 3_600_000, i),
          id,
          `A${i % AUTHORITIES}`,
          'ab'.repeat(32),
          Buffer.from('x'),
          iso(created),
          iso(created),
        );
    }
  })();
  // The keys every stored report has (evidence/store-units.ts writes them in the same transaction).
  const insKey = db.prepare('insert into report_keys (report_id, dedup_key, tracking_token) values (?, null, ?)');
  const insRep = db.prepare(
    'insert into reports (id, message_sha256, channel, received_at, quality, tracking_token) values (?, ?, ?, ?, ?, ?)',
  );
  const insFact = db.prepare(
    'insert into action_report_facts (report_id, message_sha256, campaign_id, category, received_at, origin_ip, ' +
      'origin_asn, origin_as_name, origin_country, sender_domain, advertised_domains, consent_denied, ' +
      'unauthenticated, created_at, authenticated, historical) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 1, ?, 0, 0)',
  );
  const insCr = db.prepare(
    'insert into action_case_reports (case_id, report_id, message_sha256, added_at, received_at) ' +
      'values (?, ?, ?, ?, ?)',
  );
  const ipOf = zipf(5000, rand);
  const domOf = zipf(3000, rand);
  for (let base = 0; base < REPORTS; base += 20_000) {
    db.transaction(() => {
      for (let i = base; i < Math.min(REPORTS, base + 20_000); i++) {
        const k = caseOf();
        const c = cases[k];
        const at = c.created + Math.floor(rand() * Math.max(DAY, END - c.created));
        const id = idAt(at, i);
        const sha = i.toString(16).padStart(64, '0');
        const ip = ipOf();
        const when = iso(at);
        insKey.run(id, `t${i}`);
        insRep.run(id, sha, 'smtp', when, 'full', `t${i}`);
        insFact.run(
          id,
          sha,
          `C${k}`,
          CATEGORIES[k % CATEGORIES.length],
          when,
          `198.51.${ip >> 8}.${ip & 255}`,
          64_500 + (ip % 300),
          `NET-${ip % 300}`,
          ['NL', 'US', 'RU', 'CN', 'BR', 'FR'][ip % 6],
          `sender${domOf()}.example`,
          JSON.stringify([`shop${domOf()}.example`, `cdn${ip % 50}.example`]),
          when,
        );
        insCr.run(c.id, id, sha, when, when);
      }
    })();
  }
  db.prepare("insert into web_state (key, value) values ('bench.cases.rows', ?)").run(String(REPORTS));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('analyze');
  db.close();
}

function ready(): boolean {
  if (!fs.existsSync(DB_PATH)) return false;
  try {
    const db = new BetterSqlite3(DB_PATH, { readonly: true });
    const r = db.prepare("select value from web_state where key = 'bench.cases.rows'").get() as
      | { value: string }
      | undefined;
    db.close();
    return r?.value === String(REPORTS);
  } catch {
    return false;
  }
}

/**
 * The rows are generated without the repository functions, so each case's tally (migration 0180)
 * is built here as a case from before the migration is on its first read; the largest case's
 * build is timed apart (it is what a giant pre-0180 case costs once).
 */
async function tallyAll(db: Kysely<Database>): Promise<void> {
  const t0 = performance.now();
  const have = await db
    .selectFrom('action_case_tallies')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('kind', '=', 'total')
    .executeTakeFirst();
  const cases = await db.selectFrom('action_cases').select('id').execute();
  if (Number(have?.n ?? 0) >= cases.length) return;
  let largest = { id: '', ms: 0 };
  for (const c of cases) {
    const t = performance.now();
    await rebuildCaseTally(db, c.id);
    const ms = performance.now() - t;
    if (ms > largest.ms) largest = { id: c.id, ms };
  }
  process.stdout.write(
    `tallied ${cases.length} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s \
(slowest, the largest case, ${largest.ms.toFixed(0)} ms)\n`,
  );
}

async function time(fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

export const casesBench: Bench = {
  name: 'cases',
  description: `case list, referral list and case page queries over ${REPORTS.toLocaleString('en')} reports in \
${CASES.toLocaleString('en')} cases (SQLite)`,
  async run() {
    const t0 = performance.now();
    if (!ready()) await build();
    process.stdout.write(`data ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (${DB_PATH})\n`);
    const db = openDatabase({ dialect: 'sqlite', path: DB_PATH });
    try {
      await migrateToLatest(db);
      await tallyAll(db);
      const largest = await db
        .selectFrom('action_case_reports')
        .select(['case_id', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('case_id')
        .orderBy('n', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow();
      // The case at the middle of the report-count ranking of cases with 100 reports or more.
      const sizes = await db
        .selectFrom('action_case_reports')
        .select(['case_id', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('case_id')
        .having((eb) => eb.fn.countAll(), '>=', 100)
        .orderBy('n', 'desc')
        .execute();
      const typical = sizes[Math.floor(sizes.length / 2)] ?? largest;
      const mid = await db
        .selectFrom('action_cases')
        .select('id')
        .orderBy('id')
        .offset(CASES / 2)
        .limit(1)
        .executeTakeFirstOrThrow();
      // The monthly report of the busiest month: as the page reads it (the stored copy, built by the
      // scheduler; the first read builds it) and, for reference, built from the reports as before 0288.
      const busiest = await db
        .selectFrom('reports')
        .select([(eb) => eb.fn('substr', [eb.ref('received_at'), eb.val(1), eb.val(7)]).as('m')])
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .groupBy('m')
        .orderBy('n', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow();
      const month = String(busiest.m);
      const queries: [string, () => Promise<unknown>][] = [
        ['cases: first page', () => listCasePage(db, {})],
        ['cases: deep page (cursor)', () => listCasePage(db, {}, { cursor: mid.id })],
        ['cases: needs review', () => listCasePage(db, { state: 'needs_review' })],
        ['cases: category', () => listCasePage(db, { category: 'consent' })],
        ['cases: rule', () => listCasePage(db, { rule: 'SENDER_CONSENT' })],
        ['cases: by hand', () => listCasePage(db, { rule: 'manual' })],
        ['cases: authority filter', () => listCasePage(db, { authority: 'A3' })],
        ['cases: one month', () => listCasePage(db, { from: '2026-03-01', to: '2026-03-31' })],
        ['cases: target', () => listCasePage(db, { targetKind: 'campaign', target: 'C42' })],
        ['cases: authority scope', () => listCasePage(db, {}, { authorityIds: ['A5'] })],
        ['cases: state counts', () => caseStateCounts(db)],
        ['cases: filter choices', () => caseFilterChoices(db)],
        ['referrals: authority page', () => listReferralPage(db, { authorityIds: ['A5'], closed: false }, null)],
        [`case page: reports (${largest.n})`, () => caseReportsPage(db, largest.case_id, null)],
        ['case page: timeline', () => caseTimeline(db, largest.case_id)],
        ['case page: indicators and origins', () => caseFactsTally(db, largest.case_id)],
        ['(before 0180) largest case: its reports grouped', () => computeCaseTally(db, largest.case_id)],
        [`typical case (${typical.n}): reports`, () => caseReportsPage(db, typical.case_id, null)],
        ['typical case: timeline', () => caseTimeline(db, typical.case_id)],
        ['typical case: indicators and origins', () => caseFactsTally(db, typical.case_id)],
        [`monthly report page (${month}, ${busiest.n} reports)`, () => monthlyReport(db, month)],
        ['(before 0288) monthly report built per view', () => buildMonthlyReport(db, month)],
      ];
      const widths = [34, 10, 10, 6];
      process.stdout.write(`${row(['query', 'p50 ms', 'p99 ms', 'ok'], widths)}\n`);
      for (const [name, fn] of queries) {
        const r = await time(fn);
        process.stdout.write(
          `${row([name, r.p50.toFixed(1), r.p99.toFixed(1), r.p50 < TARGET_MS ? 'yes' : 'NO'], widths)}\n`,
        );
      }
    } finally {
      await db.destroy();
    }
  },
};
