/**
 * `spamdesk campaigns held` (the campaigns the gates hold, as text and JSON, page by page), and
 * `spamdesk campaigns recluster` on both engines: campaigns built by older rules that chained two
 * operations together are rebuilt with the current ones; a run cut short resumes where it stopped;
 * the live case against the chained campaign follows the largest piece and waits for review with
 * the split in its history; facts and workbench counts follow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../../db/test-databases.ts';
import { createTestContext } from '../../app/test-context.ts';
import { nowIso } from '../../core/ids.ts';
import { analyse } from '../../analysis/analyse.ts';
import { offlinePorts } from '../../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../../analysis/settings.ts';
import { storeAnalysis } from '../../analysis/repository.ts';
import { makeRecipient, personalise, seededRng, type BaseMessage } from '../../campaigns/personalise.ts';
import { reclusterState } from '../../campaigns/recluster.ts';
import { addReportsToCase, caseHistory, getCase, openCase } from '../../actions/cases/cases.ts';
import { indexAll } from '../../web/indexer.ts';
import { runRecluster } from './campaigns.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { testConfig } from '../../core/config.ts';
import { openDatabase } from '../../db/dialect.ts';
import { REPO_ROOT } from '../../core/test-env.ts';
import { campaignRow } from '../../actions/test-factories.ts';

const LOTTERY: BaseMessage = {
  subject: 'Final notice: your unclaimed award',
  from: 'claims@award-office.example',
  text:
    'We are pleased to inform you that your e-mail address was selected in our annual international promotion ' +
    'draw. Your award is waiting for you and must be claimed before the end of the month, otherwise it will be ' +
    'returned to the treasury. Reply with your full name, address and telephone number to our claims agent. Visit ' +
    'https://award-claims-office.com/start for details.',
  urls: ['https://award-claims-office.com/start'],
};
const PHARMA: BaseMessage = {
  subject: 'Cheap meds without prescription',
  from: 'sales@pills.example',
  text:
    'Our online pharmacy ships discreetly worldwide, with no prescription needed and the lowest prices you will ' +
    'find anywhere on the internet. Choose from hundreds of brand and generic products, pay securely and receive ' +
    'your order within days. Order today at http://pills-discount-store.net/shop and save on every purchase.',
  urls: ['http://pills-discount-store.net/shop'],
};

for (const dialect of DIALECTS) {
  test(`[${dialect}] recluster splits a chained campaign, resumes after an interruption, and holds its case for \
review`, async (t) => {
    const h = await createTestContext(t, dialect);
    if (!h) return;
    try {
      const { db } = h.ctx;
      const rng = seededRng(3);
      const ports = offlinePorts(new Date('2026-01-01T00:00:00Z'));
      const reports: { id: string; sha256: string; base: string }[] = [];
      for (let i = 0; i < 8; i++) {
        const base = i % 2 === 0 ? LOTTERY : PHARMA;
        const raw = personalise(base, makeRecipient(rng), rng, i);
        const stored = await h.ctx.writer.submitOne({
          raw,
          channel: 'api',
          receivedAt: new Date(Date.UTC(2026, 0, 1, 10, i)).toISOString(),
        });
        await storeAnalysis(db, await analyse(raw, { ports, settings: defaultAnalysisSettings() }), 1);
        await db
          .insertInto('classifications')
          .values({
            sha256: stored.sha256,
            category: base === LOTTERY ? 'scam' : 'commercial',
            confidence: 0.9,
            reasons: '[]',
            model_version: 't',
            classified_at: nowIso(),
          })
          .execute();
        reports.push({ id: stored.id, sha256: stored.sha256, base: base === LOTTERY ? 'lottery' : 'pharma' });
      }
      // What older rules left: one campaign chaining both operations, and a live case against it.
      const at = nowIso();
      await db
        .insertInto('campaigns')
        .values({
          id: 'OLDCHAIN',
          merged_into: null,
          category: 'scam',
          core_signature: null,
          core_kind: 'email',
          first_seen_at: at,
          last_seen_at: at,
          message_count: 8,
          report_count: 8,
          created_at: at,
          updated_at: at,
        })
        .execute();
      await db
        .insertInto('campaign_messages')
        .values(
          reports.map((r) => ({
            sha256: r.sha256,
            campaign_id: 'OLDCHAIN',
            kind: 'email',
            via: 'link:domain',
            similarity: 0,
            joined_at: at,
          })),
        )
        .execute();
      const c = await openCase(db, {
        targetKind: 'campaign',
        targetValue: 'OLDCHAIN',
        title: 'scam campaign OLDCHAIN',
        category: 'scam',
        openedBy: 'rule:TEST',
      });
      await addReportsToCase(
        db,
        c.id,
        reports.map((r) => ({ reportId: r.id, sha256: r.sha256 })),
        'rule:TEST',
      );
      await indexAll(db);

      // Cut short after 3 reports (a crash, Ctrl-C): nothing is finished, the state says where.
      assert.equal(await runRecluster(db, { maxReports: 3 }), null);
      assert.deepEqual(await reclusterState(db), { phase: 'clustering', done: 3, total: 8, resumed: true });
      const s = await runRecluster(db);
      assert.ok(s);
      assert.equal(s.resumed, true);
      assert.equal(s.reports, 8);
      assert.equal(s.campaigns, 2);
      assert.deepEqual(s.cases, { retargeted: 1, heldForReview: 1 });

      const members = await db.selectFrom('campaign_messages').select(['sha256', 'campaign_id']).execute();
      const campaignOf = new Map(members.map((m) => [m.sha256, m.campaign_id]));
      for (const base of ['lottery', 'pharma'])
        assert.equal(
          new Set(reports.filter((r) => r.base === base).map((r) => campaignOf.get(r.sha256))).size,
          1,
          `${base} copies together`,
        );
      assert.notEqual(campaignOf.get(reports[0].sha256), campaignOf.get(reports[1].sha256), 'the two operations apart');

      const after = await getCase(db, c.id);
      assert.equal(after.state, 'needs_review');
      assert.ok([campaignOf.get(reports[0].sha256), campaignOf.get(reports[1].sha256)].includes(after.target_value));
      const split = (await caseHistory(db, c.id)).find((e) => e.kind === 'campaign-split');
      assert.match(
        JSON.stringify(split?.detail),
        /campaign OLDCHAIN was re-clustered: its 8 messages are now in 2 campaigns/,
      );
      const index = await db.selectFrom('web_report_index').select(['message_sha256', 'campaign_id']).execute();
      for (const row of index) assert.equal(row.campaign_id, campaignOf.get(row.message_sha256));
      const rollup = await db
        .selectFrom('web_rollup_daily')
        .select(['value', 'n'])
        .where('dim', '=', 'campaign')
        .execute();
      const perCampaign = new Map<string, number>();
      for (const r of rollup) perCampaign.set(r.value, (perCampaign.get(r.value) ?? 0) + Number(r.n));
      assert.deepEqual([...perCampaign.values()], [4, 4]);
      assert.ok(!perCampaign.has('OLDCHAIN'));
      assert.equal(
        (await db.selectFrom('campaign_recluster_old').select('sha256').execute()).length,
        0,
        'the old membership is forgotten',
      );
      assert.equal((await reclusterState(db))?.phase, 'done');
    } finally {
      await h.close();
    }
  });
}

test('spamdesk campaigns held lists the campaigns the gates hold, page by page, as text or JSON', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-held-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) =>
    execFileSync(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'campaigns', 'held', ...args, '--data-dir', dir],
      { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] },
    );
  assert.match(run(), /^0 campaign\(s\) held by the gates\n$/);
  const db = openDatabase(testConfig({ dataDir: dir }).database);
  t.after(() => db.destroy());
  const row = (id: string, category: string, purity: number, legitimateShare: number, day: number) =>
    campaignRow({
      id,
      category,
      purity,
      legitimateShare,
      messages: 4,
      firstSeenAt: '2026-11-01T00:00:00.000Z',
      lastSeenAt: `2026-11-${day}T00:00:00.000Z`,
    });
  await db
    .insertInto('campaigns')
    .values([row('CNEW', 'phishing', 0.75, 0, 20), row('COLD', 'scam', 1, 0.25, 10), row('COK', 'scam', 1, 0, 25)])
    .execute();
  const first = run('--limit', '1');
  assert.match(first, /^2 campaign\(s\) held by the gates, 1 shown\nCNEW {2}phishing {2}4 message\(s\)/);
  assert.match(first, /campaign CNEW mixes categories: its majority \(phishing\) is 75 % of its messages/);
  const cursor = /^more: --before (\S+)$/m.exec(first)?.[1];
  assert.ok(cursor, first);
  const second = run('--limit', '1', '--before', cursor);
  assert.match(second, /\nCOLD {2}scam/);
  assert.match(second, /25 % of campaign COLD's messages are classified legitimate/);
  assert.doesNotMatch(second, /^more:/m);
  const json = JSON.parse(run('--json'));
  assert.deepEqual(
    json.rows.map((c: { id: string }) => c.id),
    ['CNEW', 'COLD'],
  );
  assert.throws(() => run('--limit', '0'), /--limit must be a whole number from 1 to 200, not 0/);
});
