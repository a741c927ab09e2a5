/**
 * A domain a message only names is not what it advertises (`analysis/advertised.ts`): the Nazario PayPal
 * phish that copies PayPal's list of seventeen real U.S. banks as text, reported nine times, lists none
 * of them (before: all seventeen were on the domain list); and a legitimate message that names a domain
 * is still evidence of its legitimacy, while spam that only names one says nothing either way. Both
 * engines; the phish's facts are made from its real analysis by the actions area's own `factsFrom`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { Kysely } from 'kysely';
import { DIALECTS, createTestDatabase } from '../../db/test-databases.ts';
import type { Database } from '../../db/schema.ts';
import type { ReportFactsRow } from '../../db/actions-tables.ts';
import { newId } from '../../core/ids.ts';
import { reportFact } from './test-facts.ts';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { parseActionPolicy } from '../../actions/action-policy.ts';
import { factsFrom } from '../../actions/report-facts.ts';
import { analyse } from '../../analysis/analyse.ts';
import { offlinePorts } from '../../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../../analysis/settings.ts';
import { splitMbox } from '../../analysis/test-support/corpus-messages.ts';
import { runListingPass } from './pass.ts';
import { findListing } from './store.ts';

const NOW = new Date('2026-11-20T12:00:00.000Z');
const HOUR = 3_600_000;
const POLICY = parseActionPolicy({});
const BANKS = ['usbank.com', 'keybank.com', 'bankone.com', '53.com', 'fleet.com', 'washingtonmutual.com', 'uboc.com'];

/** A facts row of one live phishing report with no origin (override what the case needs). */
function fact(o: Partial<ReportFactsRow>): ReportFactsRow {
  return reportFact({
    category: 'phishing',
    message_category: 'phishing',
    origin_asn: null,
    origin_as_name: null,
    origin_country: null,
    named_domains: '[]',
    ...o,
  });
}

async function insert(db: Kysely<Database>, rows: ReportFactsRow[]): Promise<void> {
  await db.insertInto('action_report_facts').values(rows).execute();
}

for (const dialect of DIALECTS) {
  describe(`domains a message only names (${dialect})`, () => {
    async function setup(t: TestContext) {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return null;
      t.after(() => tdb.drop());
      return tdb;
    }

    test('a phish’s copied list of real banks puts none of them on the domain list', async (t) => {
      if (!needsCorpus(t, 'nazario_phishing/phishing0.mbox')) return;
      const tdb = await setup(t);
      if (!tdb) return;
      const raw = splitMbox(fs.readFileSync(path.join(CORPUS_DIR, 'nazario_phishing/phishing0.mbox')))[319];
      const a = await analyse(raw, { ports: offlinePorts(), settings: defaultAnalysisSettings() });
      const made = (i: number) =>
        factsFrom(
          {
            reportId: newId(),
            sha256: a.sha256,
            receivedAt: new Date(NOW.getTime() - HOUR + i).toISOString(),
            campaignId: 'paypal-phish',
            category: 'phishing',
            messageCategory: 'phishing',
            analysis: a,
          },
          POLICY,
        );
      const rows = Array.from({ length: 9 }, (_, i) => ({ ...made(i), created_at: made(i).received_at }));
      for (const bank of BANKS) {
        assert.ok(!JSON.parse(rows[0].advertised_domains ?? '[]').includes(bank), `${bank} not advertised`);
        assert.ok(JSON.parse(rows[0].named_domains ?? '[]').includes(bank), `${bank} named`);
      }
      await insert(tdb.db, rows);
      await runListingPass(tdb.db, tdb.config, POLICY, NOW, { full: true });
      for (const bank of BANKS) assert.equal(await findListing(tdb.db, 'domain', bank), undefined, bank);
      const named = await tdb.db
        .selectFrom('feed_domain_reports')
        .select(['domain', 'named'])
        .where('domain', '=', 'usbank.com')
        .execute();
      assert.equal(named.length, 9, 'indexed as named, for the evidence legitimate mail would give');
      assert.ok(named.every((r) => Number(r.named) === 1));
    });

    test('legitimate mail naming a domain counts against listing it; spam naming it does not count', async (t) => {
      const tdb = await setup(t);
      if (!tdb) return;
      // A scam links to a news site (4 reports); newsletters name it in their text (6 legitimate reports).
      await insert(tdb.db, [
        ...Array.from({ length: 4 }, () => fact({ advertised_domains: '["daily-news-site.com"]' })),
        ...Array.from({ length: 6 }, () =>
          fact({ named_domains: '["daily-news-site.com"]', message_category: 'legitimate', category: 'legitimate' }),
        ),
      ]);
      // A phishing domain linked by 3 reports, and named only in the text of 20 other spams.
      await insert(tdb.db, [
        ...Array.from({ length: 3 }, () => fact({ advertised_domains: '["steal-login.com"]' })),
        ...Array.from({ length: 20 }, () => fact({ named_domains: '["steal-login.com"]' })),
      ]);
      // Named only, by 30 spams: nothing to judge it on.
      await insert(
        tdb.db,
        Array.from({ length: 30 }, () => fact({ named_domains: '["some-real-bank.com"]' })),
      );
      await runListingPass(tdb.db, tdb.config, POLICY, NOW, { full: true });
      assert.notEqual((await findListing(tdb.db, 'domain', 'daily-news-site.com'))?.state, 'listed');
      const listed = await findListing(tdb.db, 'domain', 'steal-login.com');
      assert.equal(listed?.state, 'listed');
      assert.equal(Number(listed?.report_count), 3, 'on the reports that link to it');
      assert.equal(await findListing(tdb.db, 'domain', 'some-real-bank.com'), undefined);
    });
  });
}
