/**
 * The look-up's own SQLite reads (`match-reads.ts`) find what the Kysely reads find: the same
 * campaigns, similarities, link kinds and figures for every probe, on a database clustered from
 * real corpus messages and copies of them — merges, link-only joins and text joins
 * included — and the same row for a link value that needed making safe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import { corpusMessages } from '../analysis/test-support/corpus-messages.ts';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { createTestDatabase } from '../db/test-databases.ts';
import { fingerprintOf, type Fingerprint } from './fingerprint.ts';
import { findMatches, ingestFingerprint } from './cluster.ts';
import { openSqliteMatchReads } from './match-reads.ts';

const ports = offlinePorts(new Date('2026-01-01T00:00:00Z'));
const settings = defaultAnalysisSettings();
const day = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();

async function print(raw: Buffer): Promise<Fingerprint> {
  return fingerprintOf(await analyse(raw, { ports, settings }));
}

/** Another copy of `raw` (other bytes, a header of its own): the same text and links. */
function copyOf(raw: Buffer, k: number): Buffer {
  return Buffer.concat([Buffer.from(`X-Copy: ${k}\r\n`), raw]);
}

test('the look-up’s own SQLite reads match exactly what the Kysely reads match', async (t) => {
  if (!needsCorpus(t, 'spamassassin') || !needsCorpus(t, 'phishing_pot')) return;
  const tdb = await createTestDatabase(t, 'sqlite');
  if (tdb?.config.database.dialect !== 'sqlite') return;
  const file = tdb.config.database.path;
  t.after(() => tdb.drop());
  // Spam and phishing, each stored with two copies: campaigns of three, some merged or linked.
  const raws = ['spamassassin', 'phishing_pot'].flatMap((s) =>
    corpusMessages(path.join(CORPUS_DIR, s), 300)
      .filter((_, i) => i % 5 === 0)
      .map((m) => m.raw),
  );
  const stored = raws.slice(0, 80);
  let n = 0;
  for (const raw of stored) {
    for (const r of [raw, copyOf(raw, n), copyOf(raw, n + 1)]) {
      const fp = await print(r);
      await tdb.db.transaction().execute((trx) => ingestFingerprint(trx, fp, { seenAt: day(n), category: 'spam' }));
      n++;
    }
  }
  // Probes: fresh copies of stored messages, and messages never stored.
  const probes = await Promise.all([
    ...stored.map((raw, k) => print(copyOf(raw, 10_000 + k))),
    ...raws.slice(80).map((raw) => print(raw)),
  ]);
  const reads = openSqliteMatchReads(file);
  t.after(() => reads.close());
  let matched = 0;
  const by = new Set<string>();
  for (const fp of probes) {
    const viaKysely = await findMatches(tdb.db, fp);
    const viaOwn = await findMatches(reads, fp);
    assert.deepEqual(viaOwn, viaKysely);
    if (viaKysely.length > 0) matched++;
    for (const m of viaKysely) for (const b of m.matchedBy) by.add(b);
  }
  // Not a comparison of empty answers: most copies match, by text and by links.
  assert.ok(matched >= 60, `only ${matched} of ${probes.length} probes matched`);
  assert.ok(by.has('text') && by.has('domain'), [...by].join(', '));
});

test('a link value made safe on writing is found by the look-up’s own reads as by Kysely', async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite');
  if (tdb?.config.database.dialect !== 'sqlite') return;
  t.after(() => tdb.drop());
  // A lone surrogate and a NUL: stored as U+FFFD by the main connection, asked for as written.
  const odd = 'pay\u0000-\ud800.example';
  const fp: Fingerprint = {
    sha256: 'a'.repeat(64),
    kind: 'email',
    signature: null,
    bands: [],
    links: [{ kind: 'wallet', value: odd }],
    facts: [],
    tokenCount: 0,
  };
  await tdb.db.transaction().execute((trx) => ingestFingerprint(trx, fp, { seenAt: day(0), category: 'scam' }));
  const reads = openSqliteMatchReads(tdb.config.database.path);
  t.after(() => reads.close());
  const probe = { ...fp, sha256: 'b'.repeat(64) };
  const viaKysely = await findMatches(tdb.db, probe);
  assert.equal(viaKysely.length, 1);
  assert.deepEqual(await findMatches(reads, probe), viaKysely);
});
