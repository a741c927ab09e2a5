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

        const again = {
          ...a,
          analysedAt: '2026-12-05T09:00:00.000Z',
          parse: { ...a.parse, subject: 'Your parcel is on hold again' },
          indicators: { ...a.indicators, urls: [] },
        };
        await storeAnalysis(db, again, 2.25);
        const rows = await db.selectFrom('analyses').selectAll().execute();
        assert.equal(rows.length, 1, 'one row per message and version');
        assert.equal(rows[0].subject, 'Your parcel is on hold again');
        assert.equal(rows[0].analysed_at, '2026-12-05T09:00:00.000Z');
        assert.equal(Number(rows[0].duration_ms), 2.25);
        assert.equal(rows[0].from_domain, 'parcel-desk.example');
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
