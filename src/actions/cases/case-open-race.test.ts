/**
 * Two processes (two contexts, two connection pools on one PostgreSQL) handling reports of the same
 * campaign at the same moment open one case for it, not two: the case target is locked before the
 * live case is looked for (seen in the three-node test before the lock existed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '../../db/test-databases.ts';
import { openDatabase } from '../../db/dialect.ts';
import { closeContext, createContext } from '../../app/context.ts';
import { createLogger } from '../../core/logger.ts';
import { processReports } from '../actions-jobs.ts';
import { ACTIONS_NEXT } from '../../app/pipeline.ts';
import { analysisFor, spamMessage } from '../test-factories.ts';

test('postgres: two processes handling one campaign at once open one case, and every report joins it', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-race-policy-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const policyFile = path.join(dir, 'policy.json');
  fs.writeFileSync(
    policyFile,
    JSON.stringify({
      cases: {
        rules: [{ name: 'CAMPAIGN_VOLUME', kind: 'campaign-volume', minReports: 1, windowDays: 7 }],
        autoRefer: false,
      },
    }),
  );
  const tdb = await createTestDatabase(t, 'postgres', { actionsPolicyFile: policyFile });
  if (!tdb) return;
  const log = createLogger(tdb.config);
  const a = await createContext(tdb.config, { db: tdb.db, logger: log, migrate: false });
  const b = await createContext(tdb.config, { db: openDatabase(tdb.config.database), logger: log, migrate: false });
  t.after(async () => {
    await closeContext(b);
    await closeContext(a, { keepDb: true });
    await tdb.drop();
  });
  const ROUNDS = 8;
  for (let round = 0; round < ROUNDS; round++) {
    const campaignId = `camp-race-${round}`;
    const batch = async (ctx: typeof a, n: number) => {
      const raw = spamMessage({ n, ip: `203.0.113.${n}`, to: 'someone@victim.example' });
      const stored = await ctx.writer.submitOne({ raw, channel: 'api', reporterAddress: 'someone@victim.example' });
      const analysis = await analysisFor(raw, {
        ip: `203.0.113.${n}`,
        asn: 64500,
        rdns: null,
        abuse: [],
        authenticated: true,
        category: 'commercial',
      });
      return { p: { reportId: stored.id, sha256: stored.sha256, campaignId }, analysis };
    };
    const [one, two] = await Promise.all([batch(a, 2 * round + 1), batch(b, 2 * round + 2)]);
    // Both processes decide at the same moment, each in its own transaction.
    await Promise.all([processReports(a, [one], ACTIONS_NEXT), processReports(b, [two], ACTIONS_NEXT)]);
    const cases = await tdb.db
      .selectFrom('action_cases')
      .select('id')
      .where('target_kind', '=', 'campaign')
      .where('target_value', '=', campaignId)
      .execute();
    assert.equal(cases.length, 1, `round ${round}: one case for the campaign, not ${cases.length}`);
    const members = await tdb.db
      .selectFrom('action_case_reports')
      .select('report_id')
      .where('case_id', '=', cases[0].id)
      .execute();
    assert.deepEqual(
      members.map((m) => m.report_id).sort(),
      [one.p.reportId, two.p.reportId].sort(),
      `round ${round}: both reports in the case`,
    );
  }
});
