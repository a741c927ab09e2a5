/**
 * Issues 13/19, ISP alerts name only infected machines: an "infected machine" alert goes only to
 * the operator of an access network (a subscriber line or dynamic pool), with botnet signals that
 * say one fact counted once. Real corpus messages, analysed by the real pipeline (offline ports:
 * the shipped ASN data, the reverse DNS the receiving host recorded), classified by the shipped
 * model and reported as live reports, on both databases.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { DIALECTS, createTestDatabase } from '../../db/test-databases.ts';
import type { DB } from '../../db/dialect.ts';
import { newId } from '../../core/ids.ts';
import { createLogger } from '../../core/logger.ts';
import { analyse } from '../../analysis/analyse.ts';
import { offlinePorts } from '../../analysis/offline-ports.ts';
import { staticPorts } from '../../analysis/ports/index.ts';
import type { Analysis } from '../../analysis/analysis-schema.ts';
import { defaultAnalysisSettings } from '../../analysis/settings.ts';
import { createClassifier } from '../../analysis/classify/classify.ts';
import { DEFAULT_MODEL_FILE, loadModel } from '../../analysis/classify/model.ts';
import { loadScores } from '../../analysis/classify/scores.ts';
import { messageTimes } from '../../analysis/message-times.ts';
import { factsFrom, saveFacts } from '../report-facts.ts';
import { parseActionPolicy } from '../action-policy.ts';
import { registerOperator } from './operators.ts';
import { judgeOrigins, runIspDigests } from './isp-digests.ts';

const POLICY = parseActionPolicy({});
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const classifier = createClassifier({ model: loadModel(DEFAULT_MODEL_FILE), scores: loadScores(null) });

/** phishing_pot: a phishing run from an M247 server (no PTR record, unauthenticated). */
const SERVER = { file: 'phishing_pot/email/sample-1070.eml', ip: '80.96.157.86' };
/** trec07p: two spams from a bot on a Comcast cable line. */
const BOT = { files: ['trec07p/data/inmail.1424', 'trec07p/data/inmail.1425'], ip: '76.108.106.83' };

const analysed = new Map<string, { a: Analysis; category: string; at: Date }>();

/** The analysis (the eval's ports: static DNS, the shipped ASN data) an hour after the message was sent. */
async function analysedAt(file: string) {
  const known = analysed.get(file);
  if (known) return known;
  const raw = fs.readFileSync(path.join(CORPUS_DIR, file));
  const probe = await analyse(raw, { ports: offlinePorts(new Date()), settings: defaultAnalysisSettings() });
  const sent = Date.parse(messageTimes(probe).originSentAt ?? probe.parse.date?.iso ?? '');
  assert.ok(Number.isFinite(sent), `${file} carries its sending time`);
  const at = new Date(sent + HOUR);
  const a = await analyse(raw, { ports: staticPorts({}, at), settings: defaultAnalysisSettings() });
  const r = { a, category: classifier.classify(a).category, at };
  analysed.set(file, r);
  return r;
}

/**
 * Reports `file` `times` times as live reports received in the hour after its origin sent it, each
 * message its own campaign (no campaign id). Returns when the last report arrived.
 */
async function report(db: DB, file: string, times: number): Promise<Date> {
  const { a, category, at } = await analysedAt(file);
  for (let i = 0; i < times; i++)
    await saveFacts(
      db,
      factsFrom(
        {
          reportId: newId(),
          sha256: a.sha256,
          receivedAt: new Date(at.getTime() - (i + 1) * 60_000).toISOString(),
          campaignId: null,
          category,
          messageCategory: category,
          analysis: a,
        },
        POLICY,
      ),
    );
  return at;
}

for (const dialect of DIALECTS) {
  describe(`ISP alerts name only infected machines, on corpus messages (${dialect})`, () => {
    async function setup(t: TestContext, corpus: string[]) {
      for (const c of corpus) if (!needsCorpus(t, c)) return null;
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return null;
      t.after(() => tdb.drop());
      return tdb;
    }

    test('a hosting server without reverse DNS is not alerted as an infected machine, and says why', async (t) => {
      const tdb = await setup(t, ['phishing_pot']);
      if (!tdb) return;
      // Before: `no-rdns` and `unauthenticated` counted as two bot signals, so this M247 server was
      // reported to its network as an infected machine.
      const now = await report(tdb.db, SERVER.file, 5);
      const skipped: { ip: string; reason: string }[] = [];
      const from = new Date(now.getTime() - DAY).toISOString();
      const judged = await judgeOrigins(tdb.db, POLICY, from, now.toISOString(), skipped);
      assert.deepEqual(
        judged.map((j) => j.ip),
        [],
      );
      const why = skipped.find((s) => s.ip === SERVER.ip)?.reason ?? '';
      assert.match(why, /not a subscriber line, so not an infected machine: .*M247/);
    });

    test('a bot on a cable line is alerted to its operator; the hosting server’s operator gets nothing', async (t) => {
      const tdb = await setup(t, ['trec07p', 'phishing_pot']);
      if (!tdb) return;
      const serverNow = await report(tdb.db, SERVER.file, 5);
      let botNow = new Date(0);
      for (const f of BOT.files) {
        const at = await report(tdb.db, f, 2);
        if (at > botNow) botNow = at;
      }
      const skipped: { ip: string; reason: string }[] = [];
      const from = new Date(botNow.getTime() - DAY).toISOString();
      const judged = await judgeOrigins(tdb.db, POLICY, from, botNow.toISOString(), skipped);
      assert.deepEqual(
        judged.map((j) => j.ip),
        [BOT.ip],
        JSON.stringify(skipped),
      );
      const bot = judged[0];
      assert.match(bot.network, /c-76-108-106-83\.hsd1\.fl\.comcast\.net/);
      assert.equal(bot.reportCount, 4);
      assert.ok(bot.signals.includes('dynamic-rdns'), bot.signals.join(', '));
      assert.ok(!bot.signals.includes('access-network'), 'a dynamic name already says "a subscriber line"');

      // The whole run, one digest period after each: operators registered for both networks.
      const asnOf = async (ip: string) =>
        Number(
          (
            await tdb.db
              .selectFrom('action_report_facts')
              .select('origin_asn')
              .where('origin_ip', '=', ip)
              .executeTakeFirstOrThrow()
          ).origin_asn,
        );
      const botAsn = await asnOf(BOT.ip);
      const serverAsn = await asnOf(SERVER.ip);
      assert.ok(botAsn > 0 && serverAsn > 0 && botAsn !== serverAsn, `ASNs known: ${botAsn}, ${serverAsn}`);
      await registerOperator(tdb.db, {
        name: 'Cable',
        abuseAddress: 'abuse@cable.example',
        format: 'xarf',
        asns: [botAsn],
      });
      await registerOperator(tdb.db, {
        name: 'Hosting',
        abuseAddress: 'abuse@hosting.example',
        format: 'arf',
        asns: [serverAsn],
      });
      const logger = createLogger(tdb.config);
      const serverRun = await runIspDigests(tdb.db, tdb.config, logger, new Date(serverNow.getTime() + 1000));
      assert.equal(serverRun.digests.length, 0);
      assert.match(serverRun.skipped.find((s) => s.ip === SERVER.ip)?.reason ?? '', /not a subscriber line.*M247/);
      const botRun = await runIspDigests(tdb.db, tdb.config, logger, new Date(botNow.getTime() + 1000));
      assert.equal(botRun.digests.length, 1, JSON.stringify(botRun.skipped));
      assert.equal(botRun.digests[0].alerts, 1);
      const alerts = await tdb.db.selectFrom('action_isp_alerts').select(['ip', 'evidence']).execute();
      assert.deepEqual(
        alerts.map((a) => a.ip),
        [BOT.ip],
      );
      assert.match(alerts[0].evidence, /comcast\.net names an access line/);
    });
  });
}
