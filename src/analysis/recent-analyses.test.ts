/**
 * An analysis handed on in the process is the one the later stages would have read back, and only
 * while it is still the latest stored for its message.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { nowIso } from '../core/ids.ts';
import { analyse } from './analyse.ts';
import { offlinePorts } from './offline-ports.ts';
import { defaultAnalysisSettings } from './settings.ts';
import { getLatestAnalysis, storeAnalysis } from './repository.ts';
import { forgetAnalyses, latestAnalyses, recentAnalysisStats, rememberAnalysis } from './recent-analyses.ts';

const RAW = Buffer.from(
  'From: "Prize Office" <office@lottery-win.example>\r\nTo: you@example.org\r\nSubject: You have won\r\n' +
    'Date: Mon, 5 Jan 2026 10:00:00 +0000\r\nMessage-ID: <r1@lottery-win.example>\r\n\r\nClaim your prize at ' +
    'https://claim-prize-office.com/form today.\r\n',
);

for (const dialect of DIALECTS) {
  describe(`recent analyses on ${dialect}`, () => {
    test('a remembered analysis is handed on while latest; a newer stored one is read back instead', async (t) => {
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
        await storeAnalysis(db, a, 1);
        rememberAnalysis(a);
        const before = recentAnalysisStats().hits;
        const got = (await latestAnalyses(db, [a.sha256])).get(a.sha256);
        assert.equal(got, a, 'the very record, not a copy');
        assert.equal(recentAnalysisStats().hits, before + 1);
        assert.deepEqual(got, await getLatestAnalysis(db, a.sha256), 'equal to the record read back');
        assert.throws(() => {
          (got as { sha256: string }).sha256 = 'x';
        }, 'frozen: no stage changes what the next sees');

        // Another process stores a newer analysis of the message: it wins over the remembered one.
        const newer = { ...a, analysedAt: new Date(Date.parse(a.analysedAt) + 60_000).toISOString() };
        await storeAnalysis(db, { ...newer, analyserVersion: `${a.analyserVersion}-next` }, 1);
        const read = (await latestAnalyses(db, [a.sha256])).get(a.sha256);
        assert.notEqual(read, a);
        assert.equal(read?.analysedAt, newer.analysedAt);

        // Forgotten, or never stored: read back, or absent.
        forgetAnalyses([a.sha256]);
        assert.equal((await latestAnalyses(db, [a.sha256])).get(a.sha256)?.analysedAt, newer.analysedAt);
        assert.equal((await latestAnalyses(db, ['0'.repeat(64)])).size, 0);

        // One batch of all three: the remembered record as it is, the forgotten ones read back
        // together (one statement), the unknown one absent.
        const rawB = Buffer.from(RAW.toString('latin1').replace(/^Subject: .*$/m, 'Subject: another one'), 'latin1');
        const b = await analyse(rawB, { ports: offlinePorts(), settings: defaultAnalysisSettings() });
        assert.notEqual(b.sha256, a.sha256);
        await db
          .insertInto('messages')
          .values({
            sha256: b.sha256,
            kind: 'email',
            size: rawB.length,
            codec: 'identity',
            content: rawB,
            first_seen_at: nowIso(),
          })
          .execute();
        await storeAnalysis(db, b, 1);
        rememberAnalysis(b);
        const batch = await latestAnalyses(db, [a.sha256, '0'.repeat(64), b.sha256, a.sha256]);
        assert.deepEqual([...batch.keys()].sort(), [a.sha256, b.sha256].sort());
        assert.equal(batch.get(b.sha256), b);
        assert.deepEqual(batch.get(a.sha256), await getLatestAnalysis(db, a.sha256));
      } finally {
        await tdb.drop();
      }
    });
  });
}
