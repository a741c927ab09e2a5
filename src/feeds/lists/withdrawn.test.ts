/**
 * Evidence withdrawn: when the reports a listing stands on are traced again and no longer name the
 * value (`spamdesk reanalyze` rebuilds their facts, `src/actions/refresh-facts.ts`), it leaves the
 * lists at the next full pass; when they merely age out of the window, it stays until it expires.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestDatabase } from '../../db/test-databases.ts';
import { newId } from '../../core/ids.ts';
import { parseActionPolicy } from '../../actions/action-policy.ts';
import { factsFrom, saveFacts } from '../../actions/report-facts.ts';
import type { ReportFactsRow } from '../../db/actions-tables.ts';
import { runListingPass } from './pass.ts';
import { findListing } from './store.ts';

const POLICY = parseActionPolicy({
  listing: {
    infrastructure: { enabled: true, minReports: 3, minCampaigns: 1, windowDays: 7, expiryDays: 30 },
    domains: {
      enabled: true,
      minReports: 3,
      minCampaigns: 1,
      windowDays: 7,
      expiryDays: 30,
      categories: ['phishing', 'malware', 'scam', 'commercial', 'other'],
    },
  },
});
const IP = '185.220.1.77';
const DOMAIN = 'secure-login-check.com';

function row(receivedAt: string, origin: string | null, domains: string[]): ReportFactsRow {
  const sha = newId().padEnd(64, '0');
  const input = { reportId: newId(), sha256: sha, receivedAt, campaignId: null, category: 'phishing' };
  const f = factsFrom({ ...input, messageCategory: 'phishing', analysis: null }, POLICY);
  return { ...f, origin_ip: origin, advertised_domains: JSON.stringify(domains) };
}

for (const dialect of DIALECTS) {
  /** A database where three live phishing reports list {@link IP} and {@link DOMAIN}; null without the engine. */
  async function listedOnThreeReports(t: TestContext) {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return null;
    t.after(() => tdb.drop());
    const { db, config } = tdb;
    const now = new Date('2026-11-20T12:00:00Z');
    const hourAgo = new Date(now.getTime() - 3_600_000).toISOString();
    const rows = [row(hourAgo, IP, [DOMAIN]), row(hourAgo, IP, [DOMAIN]), row(hourAgo, IP, [DOMAIN])];
    for (const r of rows) await saveFacts(db, r);
    await runListingPass(db, config, POLICY, now, { full: true });
    assert.equal((await findListing(db, 'ip', IP))?.state, 'listed');
    assert.equal((await findListing(db, 'domain', DOMAIN))?.state, 'listed');
    return { db, config, now, rows };
  }

  describe(`listings whose evidence is withdrawn (${dialect})`, () => {
    test('reports traced again withdraw an address and a domain at once', async (t) => {
      const fx = await listedOnThreeReports(t);
      if (!fx) return;
      const { db, config, now, rows } = fx;

      // Traced again: the same reports now name another origin and advertise nothing (as refreshFacts
      // writes them, the domain index of those reports dropped).
      const later = new Date(now.getTime() + 60_000);
      for (const r of rows) {
        await saveFacts(db, {
          ...r,
          origin_ip: '192.0.2.200',
          advertised_domains: '[]',
          created_at: later.toISOString(),
        });
        await db.deleteFrom('feed_domain_reports').where('report_id', '=', r.report_id).execute();
      }
      await runListingPass(db, config, POLICY, later, { full: true });
      assert.equal((await findListing(db, 'ip', IP))?.state, 'expired', 'the address leaves at once');
      assert.equal((await findListing(db, 'domain', DOMAIN))?.state, 'expired', 'the domain leaves at once');
    });

    test('reports that aged out of the window leave the listing to its expiry', async (t) => {
      const fx = await listedOnThreeReports(t);
      if (!fx) return;
      const { db, config, now } = fx;
      // Eight days later the reports are out of the 7-day window; the listings stay until they expire (30 days).
      const later = new Date(now.getTime() + 8 * 86_400_000);
      await runListingPass(db, config, POLICY, later, { full: true });
      const ip = await findListing(db, 'ip', IP);
      assert.equal(ip?.state, 'listed', `stays listed until ${ip?.expires_at}`);
      assert.equal((await findListing(db, 'domain', DOMAIN))?.state, 'listed');
    });
  });
}
