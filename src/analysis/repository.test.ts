/**
 * Storing an analysis again for the same message and version (two workers racing on new evidence,
 * `reanalyze`) replaces the row with the new record, column for column, and its indicators.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { nowIso } from '../core/ids.ts';
import { analyse } from './analyse.ts';
import { offlinePorts } from './offline-ports.ts';
import { defaultAnalysisSettings } from './settings.ts';
import { getLatestAnalysis, messagesWithIndicator, storeAnalysis } from './repository.ts';

const RAW = Buffer.from(
  'From: "Prize Office" <office@lottery-win.example>\r\nTo: you@example.org\r\nSubject: You have won\r\n' +
    'Date: Mon, 5 Jan 2026 10:00:00 +0000\r\nMessage-ID: <r1@lottery-win.example>\r\n\r\nClaim your prize at ' +
    'https://claim-prize-office.com/form today.\r\n',
);

for (const dialect of DIALECTS) {
  describe(`stored analyses on ${dialect}`, () => {
    test('storing the same message and version again replaces every column and the indicators', async (t) => {
      const tdb = await createTestDatabase(t, dialect);
      if (!tdb) return;
      const { db } = tdb;
      try {
        const a = await analyse(RAW, { ports: offlinePorts(), settings: defaultAnalysisSettings() });
        await db
          .insertInto('messages')
          .values({
            sha256: a.sha256,
            kind: 'email',
            size: RAW.length,
            codec: 'identity',
            content: RAW,
            first_seen_at: nowIso(),
          })
          .execute();
        await storeAnalysis(db, a, 1.5);
        assert.deepEqual(await messagesWithIndicator(db, 'domain', 'claim-prize-office.com'), [a.sha256]);

        const again = {
          ...a,
          analysedAt: '2026-12-05T09:00:00.000Z',
          parse: { ...a.parse, subject: 'You have won again' },
          indicators: { ...a.indicators, urls: [] },
        };
        await storeAnalysis(db, again, 2.25);
        const rows = await db.selectFrom('analyses').selectAll().execute();
        assert.equal(rows.length, 1, 'one row per message and version');
        assert.equal(rows[0].subject, 'You have won again');
        assert.equal(rows[0].analysed_at, '2026-12-05T09:00:00.000Z');
        assert.equal(Number(rows[0].duration_ms), 2.25);
        assert.equal(rows[0].from_domain, 'lottery-win.example');
        assert.equal((await getLatestAnalysis(db, a.sha256))?.parse.subject, 'You have won again', 'the new JSON');
        assert.deepEqual(
          await messagesWithIndicator(db, 'domain', 'claim-prize-office.com'),
          [],
          'old indicators gone',
        );
      } finally {
        await tdb.drop();
      }
    });
  });
}
