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
import { loadAddressRefusals } from '../address-refusals.ts';
import { insertReportRows } from '../../evidence/store-units.ts';
import type { ActionPolicy } from '../action-policy.ts';
import type { Config } from '../../core/config.ts';

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

/** The alerts at their most eager (one report, one botnet fact), as the listings evaluation runs them. */
const EAGER: ActionPolicy = { ...POLICY, isp: { ...POLICY.isp, minReports: 1, minSignals: 1 } };

/** The alerts' judge over the day before `to` (one digest period), with the address rules read as a run reads them. */
async function judgeDay(db: DB, config: Config, policy: ActionPolicy, to: Date) {
  const skipped: { ip: string; reason: string }[] = [];
  const refusals = await loadAddressRefusals(db, config, policy);
  const from = new Date(to.getTime() - DAY).toISOString();
  const judged = await judgeOrigins(db, policy, refusals, from, to.toISOString(), skipped);
  return { judged, ips: judged.map((j) => j.ip), why: (ip: string) => skipped.find((s) => s.ip === ip)?.reason ?? '' };
}

/**
 * Reports `file` once as a live report received at `receivedAt`, its origin's sending time moved with it
 * (as the listings evaluation streams the corpora); with `clientIp`, a report row sent from that address.
 */
async function reportOn(db: DB, file: string, receivedAt: Date, clientIp?: string): Promise<void> {
  const { a, category } = await analysedAt(file);
  const row = factsFrom(
    {
      reportId: newId(),
      sha256: a.sha256,
      receivedAt: receivedAt.toISOString(),
      campaignId: null,
      category,
      messageCategory: category,
      analysis: a,
    },
    POLICY,
  );
  const shift = receivedAt.getTime() - Date.parse(row.arrived_at ?? row.received_at);
  row.arrived_at = row.received_at;
  if (row.origin_sent_at)
    row.origin_sent_at = new Date(Math.min(Date.parse(row.origin_sent_at) + shift, receivedAt.getTime())).toISOString();
  await saveFacts(db, row);
  if (clientIp === undefined) return;
  await db
    .insertInto('messages')
    .values({
      sha256: a.sha256,
      kind: 'email',
      size: 1,
      codec: 'identity',
      content: Buffer.from('x'),
      first_seen_at: row.received_at,
    })
    .onConflict((oc) => oc.column('sha256').doNothing())
    .execute();
  await insertReportRows(db, [
    {
      id: row.report_id,
      message_sha256: a.sha256,
      channel: 'web',
      received_at: row.received_at,
      reporter_user_id: null,
      reporter_token_id: null,
      reporter_address: 'reporter@example.net',
      client_ip: clientIp,
      note: null,
      quality: 'full',
      dedup_key: null,
      context: null,
      tracking_token: newId(),
    },
  ]);
}

/**
 * spamassassin: www.wireless.org.au (202.161.127.82, TPG's AS), the server of a newsletter: three of its
 * messages are ham (hard_ham), one the corpus calls spam.
 */
const NEWSLETTER = {
  ip: '202.161.127.82',
  ham: [
    'spamassassin/hard_ham/00175.9836fe00dafac45b3ad3f454ac7e8ee3',
    'spamassassin/hard_ham_20021010/0193.db3e40c7d92cc223f91149f8d3a4e1b2',
    'spamassassin/hard_ham/00222.57ad2fdad6b9fceaf7058603664df7e2',
  ],
  spam: 'spamassassin/spam_2/01297.6899dd73603e94dcefaba9970c3cfb69',
};

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
      const day = await judgeDay(tdb.db, tdb.config, POLICY, now);
      assert.deepEqual(day.ips, []);
      const why = day.why(SERVER.ip);
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
      const { judged, ips, why } = await judgeDay(tdb.db, tdb.config, POLICY, botNow);
      assert.deepEqual(ips, [BOT.ip], why(SERVER.ip));
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

    test('a mail server whose month is mostly legitimate mail is not alerted for the one spam of a digest period \
(the listings evaluation found one alerted as an infected machine)', async (t) => {
      const tdb = await setup(t, ['spamassassin']);
      if (!tdb) return;
      const to = new Date('2026-11-20T12:00:00.000Z');
      for (const [i, f] of NEWSLETTER.ham.entries()) await reportOn(tdb.db, f, new Date(to.getTime() - (5 - i) * DAY));
      await reportOn(tdb.db, NEWSLETTER.spam, new Date(to.getTime() - HOUR));
      const day = await judgeDay(tdb.db, tdb.config, EAGER, to);
      // Before: judged on the digest period alone (one report, spam), it was alerted to TPG as infected.
      assert.deepEqual(day.ips, []);
      assert.match(day.why(NEWSLETTER.ip), /^3 of its 4 reports in the last 30 days are legitimate mail/);
    });

    test('the address a reporter reported from, a never-listed network and a verified sender are not alerted, \
as they are not listed', async (t) => {
      const tdb = await setup(t, ['trec07p']);
      if (!tdb) return;
      const { at } = await analysedAt(BOT.files[1]);
      const judge = async (policy: ActionPolicy) => {
        const day = await judgeDay(tdb.db, tdb.config, policy, new Date(at.getTime() + HOUR));
        return { judged: day.ips, why: day.why(BOT.ip) };
      };
      for (const f of BOT.files)
        for (const minutes of [10, 20]) await reportOn(tdb.db, f, new Date(at.getTime() - minutes * 60_000));
      const alone = await judge(POLICY);
      assert.deepEqual(alone.judged, [BOT.ip], alone.why);
      const never = await judge({
        ...POLICY,
        listing: { ...POLICY.listing, neverList: { ...POLICY.listing.neverList, networks: ['76.108.0.0/16'] } },
      });
      assert.deepEqual(never.judged, []);
      assert.match(never.why, /^never listed by policy \(76\.108\.0\.0\/16\)/);

      const senderId = newId();
      await tdb.db
        .insertInto('action_senders')
        .values({
          id: senderId,
          name: 'Home',
          feedback_address: 'fbl@home.example',
          user_id: null,
          created_at: at.toISOString(),
        })
        .execute();
      const identity = newId();
      await tdb.db
        .insertInto('action_sender_identities')
        .values({
          id: identity,
          sender_id: senderId,
          kind: 'ip',
          value: BOT.ip,
          token: 'x',
          verified_at: at.toISOString(),
          created_at: at.toISOString(),
        })
        .execute();
      const verified = await judge(POLICY);
      assert.deepEqual(verified.judged, []);
      assert.equal(verified.why, 'address of a verified sender');
      await tdb.db.deleteFrom('action_sender_identities').where('id', '=', identity).execute();

      // A fifth report of the same spam, sent by a reporter from the bot's own line (a forward from the machine).
      await reportOn(tdb.db, BOT.files[0], new Date(at.getTime() - 5 * 60_000), BOT.ip);
      const reporter = await judge(POLICY);
      assert.deepEqual(reporter.judged, []);
      assert.equal(reporter.why, 'the address a reporter reported from');
    });
  });
}
