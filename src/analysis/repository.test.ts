/**
 * Storing an analysis again for the same message and version (two workers racing on new evidence,
 * `reanalyze`) replaces the row with the new record, column for column, and its indicators.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { prepareMessage, putMessage } from '../evidence/store.ts';
import { analyse } from './analyse.ts';
import { offlinePorts } from './offline-ports.ts';
import { defaultAnalysisSettings } from './settings.ts';
import { getLatestAnalysis, messagesWithIndicator, storeAnalysis } from './repository.ts';

const RAW = Buffer.from(
  [
    'From: "Parcel Service" <notice@parcel-desk.example>',
    'To: client@example.net',
    'Subject: Your parcel is on hold',
    'Date: Tue, 1 Dec 2026 08:30:00 +0000',
    'Message-ID: <hold-1@parcel-desk.example>',
    '',
    'Pay the customs fee at https://parcel-fee-release.com/pay before Friday.',
    '',
  ].join('\r\n'),
);

for (const dialect of DIALECTS) {
  describe(`stored analyses on ${dialect}`, () => {
    test('storing the same message and version again replaces every column and the indicators', async (t) => {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return;
      const { db } = tdb;
      try {
        const a = await analyse(RAW, { ports: offlinePorts(), settings: defaultAnalysisSettings() });
        await putMessage(db, prepareMessage(RAW));
        await storeAnalysis(db, a, 1.5);
        assert.deepEqual(await messagesWithIndicator(db, 'domain', 'parcel-fee-release.com'), [a.sha256]);

        // Every column but the key changes.
        const again = {
          ...a,
          analysedAt: '2026-12-05T09:00:00.000Z',
          error: { code: 'ANALYSIS_TIMEOUT' as const, message: 'took too long' },
          parse: { ...a.parse, subject: 'Your parcel is on hold again' },
          indicators: {
            ...a.indicators,
            urls: [],
            sender: { ...a.indicators.sender, from: 'desk@other-parcel.example' },
          },
          traceback: {
            ...a.traceback,
            origin: { ip: '203.0.113.9', hopIndex: 0, ipVersion: 4 as const, reason: 'test' },
          },
          enrichment: {
            origin: { ip: '203.0.113.9', asn: 64500, asName: 'TEST-AS', country: 'NL', rdns: null, abuseContacts: [] },
          },
        };
        await storeAnalysis(db, again, 2.25);
        const rows = await db.selectFrom('analyses').selectAll().execute();
        assert.equal(rows.length, 1, 'one row per message and version');
        assert.equal(rows[0].subject, 'Your parcel is on hold again');
        assert.equal(rows[0].analysed_at, '2026-12-05T09:00:00.000Z');
        assert.equal(Number(rows[0].duration_ms), 2.25);
        assert.equal(rows[0].error, 'ANALYSIS_TIMEOUT: took too long');
        assert.equal(rows[0].from_address, 'desk@other-parcel.example');
        assert.equal(rows[0].from_domain, 'other-parcel.example');
        assert.equal(rows[0].origin_ip, '203.0.113.9');
        assert.equal(Number(rows[0].origin_asn), 64500);
        assert.equal(rows[0].origin_country, 'NL');
        assert.equal(
          (await getLatestAnalysis(db, a.sha256))?.parse.subject,
          'Your parcel is on hold again',
          'the new JSON',
        );
        assert.deepEqual(
          await messagesWithIndicator(db, 'domain', 'parcel-fee-release.com'),
          [],
          'old indicators gone',
        );
      } finally {
        await tdb.drop();
      }
    });
  });
}
