/**
 * The regulator's monthly report on real corpus mail, through the whole pipeline (analysis worker
 * threads with offline DNS, classification and clustering, the actions area's rules, referral by
 * routing): every figure is checked against an independent count of the stored facts, campaigns
 * carry readable labels, a referral's delay is measured; then the report is queued once for the
 * authority that asks for it, whatever is run again or at the same time, with its CSV, JSON, HTML
 * and (where Chromium is installed) PDF.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import PostalMime from 'postal-mime';
import { DIALECTS, createTestDatabase } from '../../db/test-databases.ts';
import { closeContext, createContext } from '../../app/context.ts';
import { createLogger } from '../../core/logger.ts';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { startWorkers } from '../../workers/runner.ts';
import { jobHandlers } from '../../app/pipeline.ts';
import { createAuthority } from '../cases/authorities.ts';
import { buildMonthlyReport, median, monthBounds, previousMonth, UNKNOWN } from './build.ts';
import { monthlyReportCsv } from './render.ts';
import { sendMonthlyReports } from './send.ts';
import { canPrintPdf } from './pdf.ts';
import type { Channel } from '../../evidence/report-writer.ts';

/** A fixed, mixed sample: phishing, a recent spam archive, classic spam and a little legitimate mail. */
function corpusSample(): Buffer[] {
  const pick = (dir: string, n: number, filter: (f: string) => boolean = () => true) =>
    fs
      .readdirSync(path.join(CORPUS_DIR, dir))
      .filter(filter)
      .sort()
      .slice(0, n)
      .map((f) => fs.readFileSync(path.join(CORPUS_DIR, dir, f)));
  return [
    ...pick('phishing_pot/email', 14, (f) => f.endsWith('.eml')),
    ...pick('spam_archive_2023_2025/2024', 10, (f) => f.endsWith('.eml')),
    ...pick('spamassassin/spam', 8),
    ...pick('spamassassin/easy_ham', 4),
  ];
}

const CHANNELS: Channel[] = ['web', 'smtp', 'addon', 'import'];

function tally<T>(items: T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of items) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

for (const dialect of DIALECTS) {
  test(`${dialect}: the monthly report of real mail agrees with the facts and is sent once`, async (t) => {
    if (!needsCorpus(t, 'phishing_pot/email')) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-monthly-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const policyFile = path.join(dir, 'policy.json');
    fs.writeFileSync(
      policyFile,
      JSON.stringify({
        cases: {
          rules: [
            { name: 'CAMPAIGN_VOLUME', kind: 'campaign-volume', minReports: 2, windowDays: 30, excludeCategories: [] },
          ],
          autoRefer: true,
          referDelayMinutes: 0,
        },
        routing: { routes: [{ categories: ['*'], competence: 'consumer_protection' }] },
      }),
    );
    const tdb = await createTestDatabase(t, dialect, {
      logLevel: 'error',
      dnsMode: 'offline',
      actionsPolicyFile: policyFile,
      outboxFrom: 'desk@spamdesk.example',
      region: 'FR',
    });
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
    const runner = startWorkers(ctx, jobHandlers());
    t.after(async () => {
      await runner.stop();
      await closeContext(ctx, { keepDb: true });
      await tdb.drop();
    });
    const { db, config } = tdb;
    const dgccrf = await createAuthority(db, {
      name: 'DGCCRF',
      country: 'FR',
      competence: 'consumer_protection',
      contactKind: 'email',
      contact: 'signalements@dgccrf.example',
      monthlyReport: true,
    });
    // Reported in the current month (a few minutes ago), so the referrals made now are in it too.
    const now = new Date();
    const month = now.toISOString().slice(0, 7);
    const startOfMonth = Date.parse(monthBounds(month).from);
    const sample = corpusSample();
    const stored = await ctx.writer.submit(
      sample.map((raw, i) => ({
        raw,
        channel: CHANNELS[i % CHANNELS.length],
        reporterUserId: null,
        receivedAt: new Date(Math.max(startOfMonth, now.getTime() - (i + 1) * 60_000)).toISOString(),
      })),
    );
    const deadline = Date.now() + 240_000;
    for (;;) {
      await runner.drain();
      const busy = await db
        .selectFrom('jobs')
        .select('id')
        .where('state', 'in', ['queued', 'running'])
        .executeTakeFirst();
      if (!busy) break;
      if (Date.now() > deadline) {
        // Say which jobs are left and why (a failed job waits out its back-off as `queued`).
        const left = await db
          .selectFrom('jobs')
          .selectAll()
          .where('state', 'in', ['queued', 'running'])
          .limit(5)
          .execute();
        const why = left.map((j) => JSON.stringify(j).slice(0, 400)).join('\n');
        throw new Error(`the pipeline did not finish in 240 s; jobs left:\n${why}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    const r = await buildMonthlyReport(db, month, now);
    // Independent count of what is stored.
    const reports = await db
      .selectFrom('reports as r')
      .leftJoin('action_report_facts as f', 'f.report_id', 'r.id')
      .select([
        'r.id',
        'r.channel',
        'f.category',
        'f.message_category',
        'f.origin_country',
        'f.sender_domain',
        'f.campaign_id',
      ])
      .execute();
    const distinct = new Set(stored.map((s) => s.id)).size;
    assert.equal(r.totals.reports, distinct);
    assert.equal(reports.length, distinct);
    const asMap = (rows: { key: string; n: number }[]) => new Map(rows.map((x) => [x.key, x.n]));
    assert.deepEqual(
      asMap(r.byChannel),
      tally(reports, (x) => x.channel),
    );
    assert.deepEqual(
      asMap(r.byCategory),
      tally(reports, (x) => x.message_category ?? x.category ?? UNKNOWN),
    );
    assert.deepEqual(
      asMap(r.byCountry),
      tally(reports, (x) => x.origin_country ?? UNKNOWN),
    );
    assert.ok(r.byCategory.length >= 2, `several categories in a mixed sample: ${JSON.stringify(r.byCategory)}`);
    const byCampaign = tally(
      reports.filter((x) => x.campaign_id),
      (x) => x.campaign_id ?? '',
    );
    assert.equal(r.topCampaigns.length, Math.min(50, byCampaign.size));
    for (const c of r.topCampaigns) {
      assert.equal(c.n, byCampaign.get(c.id), c.id);
      assert.doesNotMatch(c.label, /^[0-9A-Z]{26}$/, 'a readable label, not a ULID');
      assert.doesNotMatch(c.label, /@(?!redacted\.invalid)[\w-]+\.[\w.-]+/, `no address in a label: ${c.label}`);
    }
    for (let i = 1; i < r.topCampaigns.length; i++) assert.ok(r.topCampaigns[i - 1].n >= r.topCampaigns[i].n);
    const byDomain = tally(
      reports.filter((x) => x.sender_domain),
      (x) => x.sender_domain ?? '',
    );
    assert.equal(r.topSenderDomains.length, Math.min(50, byDomain.size));
    for (const d of r.topSenderDomains) assert.equal(d.n, byDomain.get(d.key), d.key);

    // Cases and referrals, counted independently.
    const cases = await db.selectFrom('action_cases').select(['id', 'state']).execute();
    const referrals = await db.selectFrom('action_referrals').select(['id', 'case_id', 'created_at']).execute();
    assert.ok(referrals.length > 0, 'the volume rule referred at least one campaign of the sample');
    assert.equal(r.totals.casesOpened, cases.filter((c) => c.state !== 'merged').length);
    assert.equal(r.totals.referrals, referrals.length);
    assert.deepEqual(
      r.authorities.map((a) => [a.id, a.referred]),
      [[dgccrf.id, referrals.length]],
    );
    const caseReports = await db.selectFrom('action_case_reports').select(['case_id', 'report_id']).execute();
    const received = new Map(
      (await db.selectFrom('reports').select(['id', 'received_at']).execute()).map((x) => [x.id, x.received_at]),
    );
    const firstReferral = new Map<string, number>();
    for (const cr of caseReports)
      for (const x of referrals.filter((y) => y.case_id === cr.case_id)) {
        const at = Date.parse(x.created_at);
        firstReferral.set(cr.report_id, Math.min(firstReferral.get(cr.report_id) ?? at, at));
      }
    const hours = [...firstReferral].map(([id, at]) => (at - Date.parse(received.get(id) ?? '')) / 3_600_000);
    assert.equal(r.referredReports, hours.length);
    assert.equal(r.medianHoursToReferral, Math.round((median(hours) ?? 0) * 10) / 10);

    const csv = monthlyReportCsv(r);
    assert.match(csv, /^section,key,label,metric,value\r\n/);
    assert.ok(csv.includes(`summary,,,reports,${distinct}\r\n`));

    // Sent once, on the first day of the next month, whatever runs again or at the same time.
    const firstOfNext = new Date(monthBounds(month).to);
    firstOfNext.setUTCHours(6);
    assert.equal(previousMonth(firstOfNext), month);
    const [a, b] = await Promise.all([
      sendMonthlyReports(db, config, { now: firstOfNext }),
      sendMonthlyReports(db, config, { now: firstOfNext }),
    ]);
    assert.equal(a.queued.length + b.queued.length, 1, 'two schedulers at once queue it once');
    assert.deepEqual((await sendMonthlyReports(db, config, { now: firstOfNext })).queued, [], 'and never again');
    const sent = await db.selectFrom('action_outbox').selectAll().where('purpose', '=', 'monthly-report').execute();
    assert.equal(sent.length, 1);
    assert.equal(sent[0].destination, 'signalements@dgccrf.example');
    const mail = await PostalMime.parse(sent[0].body);
    assert.equal(mail.subject, `Rapport mensuel ${month}`, 'in the language of the instance’s region (FR)');
    const names = mail.attachments.map((x) => x.filename).sort();
    const base = `spamdesk-monthly-${month}`;
    const expected = [`${base}.csv`, `${base}.html`, `${base}.json`, ...(canPrintPdf() ? [`${base}.pdf`] : [])].sort();
    assert.deepEqual(names, expected);
    const json = mail.attachments.find((x) => x.filename?.endsWith('.json'));
    assert.ok(json);
    const parsed: unknown = JSON.parse(Buffer.from(json.content as ArrayBuffer).toString('utf8'));
    assert.equal((parsed as { totals: { reports: number } }).totals.reports, distinct);
    const pdf = mail.attachments.find((x) => x.filename?.endsWith('.pdf'));
    if (pdf)
      assert.equal(
        Buffer.from(pdf.content as ArrayBuffer)
          .subarray(0, 5)
          .toString(),
        '%PDF-',
      );
    else process.stderr.write('\n*** monthly report: Chromium absent, the mail carries no PDF ***\n');
  });
}
