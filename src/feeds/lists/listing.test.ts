/**
 * The listing policy on both databases: which origin goes on which list with which return code,
 * what is never listed (reserved ranges, trusted relays, verified senders, shared platforms,
 * legitimate mail), what the gates hold, expiry after the last report, and delisting (rate limits,
 * the rule for cleaned machines, an analyst's decision, relisting only on newer reports).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Kysely } from 'kysely';
import { DIALECTS, createTestDatabase } from '../../db/test-databases.ts';
import type { Database } from '../../db/schema.ts';
import type { ReportFactsRow } from '../../db/actions-tables.ts';
import { newId } from '../../core/ids.ts';
import { reportFact } from './test-facts.ts';
import { AppError } from '../../core/errors.ts';
import { parseActionPolicy, type ActionPolicy } from '../../actions/action-policy.ts';
import { RETURN_CODES } from '../../actions/listing-policy.ts';
import { runListingPass } from './pass.ts';
import { findListing, listingState } from './store.ts';
import { decideDelisting, requestDelisting } from './delisting.ts';
import { explainListing } from './explain.ts';
import { insertReportRows } from '../../evidence/store-units.ts';

const NOW = new Date('2026-11-20T12:00:00.000Z');
const HOUR = 3_600_000;

function at(msBefore: number): string {
  return new Date(NOW.getTime() - msBefore).toISOString();
}

/** A facts row as the actions area stores it for one live report (override what the scenario needs). */
function fact(o: Partial<ReportFactsRow>): ReportFactsRow {
  return reportFact(o);
}

async function insertFacts(db: Kysely<Database>, rows: ReportFactsRow[]): Promise<void> {
  await db.insertInto('action_report_facts').values(rows).execute();
}

async function campaign(db: Kysely<Database>, o: { purity?: number; legitimateShare?: number; category?: string }) {
  const id = newId();
  await db
    .insertInto('campaigns')
    .values({
      id,
      merged_into: null,
      category: o.category ?? 'phishing',
      core_signature: null,
      core_kind: 'email',
      purity: o.purity ?? 1,
      legitimate_share: o.legitimateShare ?? 0,
      first_seen_at: at(48 * HOUR),
      last_seen_at: at(HOUR),
      message_count: 10,
      report_count: 10,
      created_at: at(48 * HOUR),
      updated_at: at(HOUR),
    })
    .execute();
  return id;
}

const BOT = JSON.stringify(['dynamic-rdns', 'unauthenticated']);

function policy(listing: Record<string, unknown> = {}): ActionPolicy {
  return parseActionPolicy({ listing });
}

for (const dialect of DIALECTS) {
  describe(`listing policy (${dialect})`, () => {
    async function setup(t: TestContext) {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return null;
      t.after(() => tdb.drop());
      return tdb;
    }

    test('an origin with botnet signals and enough reports is listed as an infected machine (127.0.0.2)', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      const ip = '45.33.10.20';
      await insertFacts(tdb.db, [
        fact({ origin_ip: ip, bot_signals: BOT, origin_rdns: 'dyn-45-33-10-20.pool.example.net' }),
        fact({ origin_ip: ip, bot_signals: BOT, received_at: at(2 * HOUR) }),
      ]);
      const r = await runListingPass(tdb.db, tdb.config, policy(), NOW);
      assert.equal(r.changed, 1);
      const row = await findListing(tdb.db, 'ip', ip);
      assert.equal(row?.state, 'listed');
      assert.equal(row?.list, 'infected');
      assert.equal(row?.return_code, RETURN_CODES.infected);
      assert.equal(row?.report_count, 2);
      assert.equal(row?.expires_at, new Date(NOW.getTime() - HOUR + 7 * 24 * HOUR).toISOString());
      assert.equal((await listingState(tdb.db)).revision, 1);
    });

    test('an origin without botnet signals is spam infrastructure (127.0.0.3) from five reports on', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      const ip = '2a01:4f8:10:20::5';
      const rows = Array.from({ length: 4 }, (_, i) =>
        fact({ origin_ip: ip, origin_rdns: 'mail.bulk-sender.example.net', received_at: at((i + 1) * HOUR) }),
      );
      await insertFacts(tdb.db, rows);
      await runListingPass(tdb.db, tdb.config, policy(), NOW);
      assert.equal(await findListing(tdb.db, 'ip', ip), undefined, 'four reports are below the threshold');
      await insertFacts(tdb.db, [fact({ origin_ip: ip, origin_rdns: 'mail.bulk-sender.example.net' })]);
      await runListingPass(tdb.db, tdb.config, policy(), NOW);
      const row = await findListing(tdb.db, 'ip', ip);
      assert.equal(row?.list, 'infrastructure');
      assert.equal(row?.return_code, RETURN_CODES.infrastructure);
    });

    test('reserved ranges, trusted relays, verified senders and the never-list are never listed', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      const gmailRelay = '209.85.128.10';
      const verified = '51.15.20.30';
      const never = '62.210.1.2';
      const ips = ['10.1.2.3', '100.64.0.9', '192.0.2.7', gmailRelay, verified, never];
      await insertFacts(
        tdb.db,
        ips.flatMap((ip) => [fact({ origin_ip: ip, bot_signals: BOT }), fact({ origin_ip: ip, bot_signals: BOT })]),
      );
      const senderId = newId();
      await tdb.db
        .insertInto('action_senders')
        .values({ id: senderId, name: 'News', feedback_address: 'fbl@news.example', user_id: null, created_at: at(0) })
        .execute();
      await tdb.db
        .insertInto('action_sender_identities')
        .values({
          id: newId(),
          sender_id: senderId,
          kind: 'ip',
          value: verified,
          token: 'x',
          verified_at: at(0),
          created_at: at(0),
        })
        .execute();
      await runListingPass(tdb.db, tdb.config, policy({ neverList: { networks: ['62.210.0.0/16'] } }), NOW);
      for (const ip of ips) assert.equal(await findListing(tdb.db, 'ip', ip), undefined, ip);
    });

    test('an origin whose reports are legitimate or authenticated mail is a mail server: not listed', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      const ip = '91.121.5.6';
      await insertFacts(tdb.db, [
        ...Array.from({ length: 5 }, () => fact({ origin_ip: ip, bot_signals: BOT })),
        fact({ origin_ip: ip, authenticated: 1 }),
      ]);
      await runListingPass(tdb.db, tdb.config, policy(), NOW);
      assert.equal(await findListing(tdb.db, 'ip', ip), undefined);
    });

    test('neither the address a reporter reported from nor their own domain is ever listed', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      const ip = '91.121.10.1';
      const rows = Array.from({ length: 5 }, () =>
        fact({ origin_ip: ip, bot_signals: BOT, advertised_domains: JSON.stringify(['acme-widgets.fr']) }),
      );
      await insertFacts(tdb.db, rows);
      for (const [i, r] of rows.entries()) {
        await tdb.db
          .insertInto('messages')
          .values({
            sha256: r.message_sha256,
            kind: 'email',
            size: 1,
            codec: 'identity',
            content: Buffer.from('x'),
            first_seen_at: r.received_at,
          })
          .execute();
        await insertReportRows(tdb.db, [
          {
            id: r.report_id,
            message_sha256: r.message_sha256,
            channel: 'web',
            received_at: r.received_at,
            reporter_user_id: null,
            reporter_token_id: null,
            reporter_address: 'jane@acme-widgets.fr',
            client_ip: i === 0 ? ip : '192.0.2.1',
            note: null,
            quality: 'full',
            dedup_key: null,
            context: null,
            tracking_token: newId(),
          },
        ]);
      }
      await runListingPass(tdb.db, tdb.config, policy(), NOW);
      assert.equal(await findListing(tdb.db, 'ip', ip), undefined);
      assert.equal(await findListing(tdb.db, 'domain', 'acme-widgets.fr'), undefined);
    });

    test('historical imports never list anything', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      const ip = '91.121.5.7';
      await insertFacts(tdb.db, [
        fact({ origin_ip: ip, bot_signals: BOT, historical: 1 }),
        fact({ origin_ip: ip, bot_signals: BOT, historical: 1 }),
      ]);
      await runListingPass(tdb.db, tdb.config, policy(), NOW);
      assert.equal(await findListing(tdb.db, 'ip', ip), undefined);
    });

    test('reports of a campaign the gates hold keep the value held, out of the lists, with the reasons', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      const mixed = await campaign(tdb.db, { purity: 0.6 });
      const ip = '91.121.5.8';
      await insertFacts(tdb.db, [
        fact({ origin_ip: ip, bot_signals: BOT, campaign_id: mixed }),
        fact({ origin_ip: ip, bot_signals: BOT, campaign_id: mixed }),
      ]);
      const r = await runListingPass(tdb.db, tdb.config, policy(), NOW);
      assert.equal(r.changed, 0, 'a held value changes no feed');
      const row = await findListing(tdb.db, 'ip', ip);
      assert.equal(row?.state, 'held');
      assert.equal(row?.return_code, null);
      assert.match(row?.evidence ?? '', /mixes categories/);
      const view = await explainListing(tdb.db, ip);
      assert.equal(view?.listed, false, 'the public sees a held value as not listed');
      assert.deepEqual(view?.reasons, []);
    });

    test('advertised domains are listed by category; shared platforms and verified senders never', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      const phish = await campaign(tdb.db, { category: 'phishing' });
      const ads = JSON.stringify(['secure-bank-verify.com', 'paypal.com', 'news-sender.fr']);
      await insertFacts(
        tdb.db,
        Array.from({ length: 3 }, () =>
          fact({ campaign_id: phish, category: 'phishing', message_category: 'phishing', advertised_domains: ads }),
        ),
      );
      const senderId = newId();
      await tdb.db
        .insertInto('action_senders')
        .values({ id: senderId, name: 'News', feedback_address: 'fbl@news.example', user_id: null, created_at: at(0) })
        .execute();
      await tdb.db
        .insertInto('action_sender_identities')
        .values({
          id: newId(),
          sender_id: senderId,
          kind: 'domain',
          value: 'news-sender.fr',
          token: 'x',
          verified_at: at(0),
          created_at: at(0),
        })
        .execute();
      await runListingPass(tdb.db, tdb.config, policy(), NOW);
      const row = await findListing(tdb.db, 'domain', 'secure-bank-verify.com');
      assert.equal(row?.state, 'listed');
      assert.equal(row?.return_code, RETURN_CODES['domain:phishing']);
      assert.equal(row?.category, 'phishing');
      assert.equal(await findListing(tdb.db, 'domain', 'paypal.com'), undefined);
      assert.equal(await findListing(tdb.db, 'domain', 'news-sender.fr'), undefined);
      const view = await explainListing(tdb.db, 'login.secure-bank-verify.com');
      assert.equal(view?.value, 'secure-bank-verify.com', 'a host is looked up by its registrable domain');
      assert.equal(view?.listed, true);
      assert.equal(view?.reports.length, 3);
      assert.equal(view?.campaigns[0]?.id, phish);
    });

    test('a listing expires after its last report; a new report lists it again', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      const ip = '91.121.5.9';
      await insertFacts(tdb.db, [
        fact({ origin_ip: ip, bot_signals: BOT, created_at: at(2 * HOUR) }),
        fact({ origin_ip: ip, bot_signals: BOT, created_at: at(2 * HOUR) }),
      ]);
      const p = policy();
      await runListingPass(tdb.db, tdb.config, p, NOW);
      const later = new Date(NOW.getTime() + 8 * 24 * HOUR);
      const before = await runListingPass(tdb.db, tdb.config, p, new Date(NOW.getTime() + 6 * 24 * HOUR), {
        full: true,
      });
      assert.equal(before.changed + before.expired, 0, 'still listed before its expiry, though its window is empty');
      const r = await runListingPass(tdb.db, tdb.config, p, later);
      assert.equal(r.expired, 1);
      assert.equal((await findListing(tdb.db, 'ip', ip))?.state, 'expired');
      const fresh = (ms: number) =>
        fact({
          origin_ip: ip,
          bot_signals: BOT,
          received_at: new Date(later.getTime() - ms).toISOString(),
          created_at: new Date(later.getTime() - ms).toISOString(),
        });
      await insertFacts(tdb.db, [fresh(60_000), fresh(120_000)]);
      await runListingPass(tdb.db, tdb.config, p, later);
      assert.equal((await findListing(tdb.db, 'ip', ip))?.state, 'listed');
    });

    test('delisting: an analyst decides, the rule grants a cleaned machine, rate limits answer 429', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      const p = policy({ delisting: { requestsPerHourPerClient: 2, autoInfectedQuietHours: 24 } });
      const infra = '91.121.6.1';
      const infected = '91.121.6.2';
      await insertFacts(tdb.db, [
        ...Array.from({ length: 5 }, () => fact({ origin_ip: infra })),
        ...Array.from({ length: 5 }, () => fact({ origin_ip: '91.121.6.3' })),
        fact({ origin_ip: infected, bot_signals: BOT, received_at: at(30 * HOUR) }),
        fact({ origin_ip: infected, bot_signals: BOT, received_at: at(30 * HOUR) }),
      ]);
      await runListingPass(tdb.db, tdb.config, p, NOW);
      assert.equal((await findListing(tdb.db, 'ip', infected))?.list, 'infected');
      const ask = (value: string, clientIp = '198.18.0.1') =>
        requestDelisting(
          tdb.db,
          p,
          { value, reason: 'We fixed the server.', contact: null, clientIp, actor: 'anonymous' },
          NOW,
        );

      const first = await ask(infra);
      assert.equal(first.request.state, 'pending');
      assert.equal((await ask(infra)).created, false, 'asking again returns the pending request');
      const auto = await ask(infected);
      assert.equal(auto.request.state, 'granted', 'no report for 30 h: the rule grants it');
      assert.equal(auto.request.decided_by, 'rule:DELIST_INFECTED_QUIET');
      assert.equal((await findListing(tdb.db, 'ip', infected))?.state, 'delisted');
      await assert.rejects(ask('91.121.9.9'), /not listed/);
      await assert.rejects(ask('91.121.6.3'), (e: Error) => e instanceof AppError && e.code === 'RATE_LIMITED');
      assert.equal((await ask('91.121.6.3', '198.18.0.2')).created, true, 'another client is not limited');

      const decided = await decideDelisting(tdb.db, first.request.id, 'refuse', 'still spamming', 'user:x', null, NOW);
      assert.equal(decided.state, 'refused');
      await assert.rejects(
        decideDelisting(tdb.db, first.request.id, 'grant', '', 'user:x', null, NOW),
        /already refused/,
      );
      const audit = await tdb.db.selectFrom('audit_log').select('action').execute();
      assert.ok(audit.some((a) => a.action === 'feeds.delist.request'));
      assert.ok(audit.some((a) => a.action === 'feeds.delist.granted'));
      assert.ok(audit.some((a) => a.action === 'feeds.delist.refused'));

      // The delisted machine's old reports do not list it again; new spam does.
      await runListingPass(tdb.db, tdb.config, p, NOW, { full: true });
      assert.equal((await findListing(tdb.db, 'ip', infected))?.state, 'delisted');
      await insertFacts(tdb.db, [
        fact({ origin_ip: infected, bot_signals: BOT, received_at: at(-60_000), created_at: at(-60_000) }),
        fact({ origin_ip: infected, bot_signals: BOT, received_at: at(-60_000), created_at: at(-60_000) }),
      ]);
      await runListingPass(tdb.db, tdb.config, p, new Date(NOW.getTime() + 120_000));
      assert.equal((await findListing(tdb.db, 'ip', infected))?.state, 'listed');
    });
  });
}
