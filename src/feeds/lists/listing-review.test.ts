/**
 * Faults found by `npm run eval -- listings` on the real mixed corpora, one test each, on both
 * databases: values the lists must never publish because listing them blocks innocent mail.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Kysely } from 'kysely';
import { DIALECTS, createTestDatabase } from '../../db/test-databases.ts';
import type { Database } from '../../db/schema.ts';
import type { ReportFactsRow } from '../../db/actions-tables.ts';
import { FACTS_NOW, reportFact } from './test-facts.ts';
import { parseActionPolicy } from '../../actions/action-policy.ts';
import { runListingPass } from './pass.ts';
import { findListing } from './store.ts';
import { isHostingSuffix } from './exclusions.ts';

const NOW = FACTS_NOW;

/** A facts row of one live phishing report (override what the case needs). */
function fact(o: Partial<ReportFactsRow>): ReportFactsRow {
  return reportFact({ category: 'phishing', message_category: 'phishing', ...o });
}

async function reported(db: Kysely<Database>, count: number, o: Partial<ReportFactsRow>): Promise<void> {
  await db
    .insertInto('action_report_facts')
    .values(Array.from({ length: count }, () => fact(o)))
    .execute();
}

test('the private part of the public suffix list names hosting platforms, not ordinary domains', () => {
  for (const d of ['cloudfunctions.net', 'github.io', 'blogspot.com', 'web.app', 'firebaseapp.com'])
    assert.equal(isHostingSuffix(d), true, d);
  for (const d of ['phish-login.com', 'co.uk', 'com', 'example.github.io', 'sign.in'])
    assert.equal(isHostingSuffix(d), false, d);
});

for (const dialect of DIALECTS) {
  describe(`listing review (${dialect})`, () => {
    async function setup(t: TestContext) {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return null;
      t.after(() => tdb.drop());
      return tdb;
    }

    test('a URL shortener advertised in phishing is never listed (it would block every link it carries)', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      await reported(tdb.db, 5, { advertised_domains: JSON.stringify(['t.co', 'tinyurl.com', 'steal-login.com']) });
      await runListingPass(tdb.db, tdb.config, parseActionPolicy({}), NOW);
      assert.equal((await findListing(tdb.db, 'domain', 'steal-login.com'))?.state, 'listed');
      for (const d of ['t.co', 'tinyurl.com']) {
        const row = await findListing(tdb.db, 'domain', d);
        assert.notEqual(row?.state, 'listed', d);
      }
    });

    test('a hosting platform a phishing page sits on is not listed for one customer', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      // The advertised domains are ICANN-registrable: a page on us-central1-x.cloudfunctions.net reads as
      // cloudfunctions.net, the platform of every Google Cloud Functions customer.
      await reported(tdb.db, 4, { advertised_domains: JSON.stringify(['cloudfunctions.net', 'github.io']) });
      await runListingPass(tdb.db, tdb.config, parseActionPolicy({}), NOW);
      for (const d of ['cloudfunctions.net', 'github.io']) {
        const row = await findListing(tdb.db, 'domain', d);
        assert.notEqual(row?.state, 'listed', d);
      }
    });

    test('an origin in the AS of a trusted mailbox provider is its relay: never listed', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      const bot = JSON.stringify(['no-rdns', 'unauthenticated']);
      // Yahoo's mail AS (in the trusted-relay table), an address outside the table's published networks.
      await reported(tdb.db, 6, { origin_ip: '45.33.20.30', origin_asn: 36647, bot_signals: bot });
      // The same reports from an ordinary network are listed: the AS alone makes the difference.
      await reported(tdb.db, 6, { origin_ip: '45.33.20.31', origin_asn: 64500, bot_signals: bot });
      await runListingPass(tdb.db, tdb.config, parseActionPolicy({}), NOW);
      assert.notEqual((await findListing(tdb.db, 'ip', '45.33.20.30'))?.state, 'listed');
      assert.equal((await findListing(tdb.db, 'ip', '45.33.20.31'))?.state, 'listed');
    });

    test('the real domain of a brand the phishing impersonates is never listed', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      // A Chase phishing kit links chase.com for the logo and the privacy page; the form posts elsewhere.
      await reported(tdb.db, 25, {
        advertised_domains: JSON.stringify(['chase.com', 'wellsfargo.com', 'chase-verify.top']),
      });
      await runListingPass(tdb.db, tdb.config, parseActionPolicy({}), NOW);
      assert.equal((await findListing(tdb.db, 'domain', 'chase-verify.top'))?.state, 'listed');
      for (const d of ['chase.com', 'wellsfargo.com'])
        assert.notEqual((await findListing(tdb.db, 'domain', d))?.state, 'listed', d);
    });

    test('a relay of an e-mail service provider or security gateway is never listed: it sends for many', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      const bot = JSON.stringify(['no-rdns', 'unauthenticated']);
      await reported(tdb.db, 6, { origin_ip: '69.72.43.11', origin_asn: 396479, bot_signals: bot });
      await reported(tdb.db, 6, { origin_ip: '91.207.212.192', origin_asn: 52129, bot_signals: bot });
      // Amazon SES shares its AS with EC2: by its published network, or by the recorded reverse DNS.
      await reported(tdb.db, 6, { origin_ip: '54.240.8.33', origin_asn: 14618, bot_signals: bot });
      await reported(tdb.db, 6, {
        origin_ip: '52.1.2.3',
        origin_asn: 14618,
        origin_rdns: 'a52-1-2-3.smtp-out.amazonses.com',
        bot_signals: JSON.stringify(['unauthenticated', 'many-campaigns']),
      });
      // An EC2 machine in the same AS without either is listed like any other.
      await reported(tdb.db, 6, { origin_ip: '52.1.2.4', origin_asn: 14618, bot_signals: bot });
      await runListingPass(tdb.db, tdb.config, parseActionPolicy({}), NOW);
      assert.equal((await findListing(tdb.db, 'ip', '52.1.2.4'))?.state, 'listed');
      for (const ip of ['69.72.43.11', '91.207.212.192', '54.240.8.33', '52.1.2.3']) {
        const row = await findListing(tdb.db, 'ip', ip);
        assert.notEqual(row?.state, 'listed', ip);
      }
    });
  });
}
