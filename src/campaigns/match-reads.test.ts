/**
 * The look-up's own SQLite reads (`match-reads.ts`) find what the Kysely reads find: the same
 * campaigns, similarities, link kinds and figures for every probe, on a database clustered from
 * real corpus messages and copies of them (link-only and text joins); each of the four reads gives
 * Kysely's rows in Kysely's order where the corpus database cannot show it (a band key with more
 * representatives than a read returns, a merged campaign, an SMS campaign, links of several kinds);
 * and the same row for a link value that needed making safe.
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
import { MAX_BAND_ROWS, findMatches, ingestFingerprint, kyselyReads } from './cluster.ts';
import { mergeCampaigns } from './campaign-store.ts';
import { openSqliteMatchReads } from './match-reads.ts';
import { serializeSmsEvidence } from '../evidence/sms-format.ts';

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

/** A made-up message of its own words (seeded), advertising `domain`: a campaign of its own when stored. */
function madeUpMail(k: number, domain: string): Buffer {
  let seed = 1000 + k;
  const word = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const n = Math.floor((seed / 2147483648) * 1000);
    const syllables = ['ka', 'lo', 'mi', 'ne', 'su', 'ta', 'ri', 'po', 've', 'du'];
    return `${syllables[n % 10]}${syllables[Math.floor(n / 10) % 10]}${syllables[Math.floor(n / 100)]}`;
  };
  // Links of other kinds than the domain: a phone number, a wallet.
  const extra =
    k === 3 ? ' Appelez le +33 6 12 34 56 78.' : k === 4 ? ' Send 0.1 BTC to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa.' : '';
  const text = Array.from({ length: 80 }, word).join(' ') + extra;
  return Buffer.from(
    `From: news${k}@${domain}\r\nTo: bob@example.org\r\nSubject: offer ${k}\r\nDate: Mon, 05 Jan 2026 10:00:00 \
+0000\r\nMessage-ID: <m${k}@${domain}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n\
https://${domain}/buy\r\n`,
  );
}

test('each read gives Kysely’s rows in its order: a band past the row limit, a merge, an SMS campaign', async (t) => {
  const tdb = await createTestDatabase(t, 'sqlite');
  if (tdb?.config.database.dialect !== 'sqlite') return;
  t.after(() => tdb.drop());
  const db = tdb.db;
  const prints: Fingerprint[] = [];
  for (let k = 0; k < 6; k++) prints.push(await print(madeUpMail(k, `shop${k}.example`)));
  prints.push(
    await print(
      serializeSmsEvidence({
        sender: '+33612345678',
        text: 'Votre colis est en attente, reglez les frais de livraison sur https://colis-suivi.example/p maintenant',
        receivedAt: '2026-01-05T10:00:00.000Z',
      }),
    ),
  );
  const placed: string[] = [];
  for (const [k, fp] of prints.entries())
    placed.push(
      (await db.transaction().execute((trx) => ingestFingerprint(trx, fp, { seenAt: day(k), category: 'spam' })))
        .campaignId,
    );
  assert.equal(new Set(placed).size, prints.length, 'each made-up message founds its own campaign');
  // Campaign 1 merged into campaign 0: its row names the winner.
  await db.transaction().execute((trx) => mergeCampaigns(trx, placed[0], [placed[1]], day(99)));
  // One band key shared by more representatives than a read returns, inserted out of order.
  const key = prints[2].bands[0];
  const reps = (await db.selectFrom('campaign_reps').select(['id', 'campaign_id']).execute()).map((r) => r.id);
  const extra = Array.from({ length: MAX_BAND_ROWS + 60 }, (_, i) => ({
    band_key: key,
    rep_id: `zz${String((i * 7919) % 1000).padStart(4, '0')}`,
    campaign_id: placed[3],
  }));
  for (let i = 0; i < extra.length; i += 100)
    await db
      .insertInto('campaign_bands')
      .values(extra.slice(i, i + 100))
      .execute();
  const own = openSqliteMatchReads(tdb.config.database.path);
  t.after(() => own.close());
  const viaKysely = kyselyReads(db);

  const bands = [...prints[2].bands.slice(0, 4), ...prints[0].bands.slice(0, 4)];
  const rows = await own.bandRows(bands);
  assert.deepEqual(rows, await viaKysely.bandRows(bands));
  // What the statement must give, computed here: every row of those keys, by key then representative, cut at the limit.
  const all = await db
    .selectFrom('campaign_bands')
    .select(['band_key', 'rep_id'])
    .where('band_key', 'in', bands)
    .execute();
  const expected = all
    .sort((a, b) => a.band_key - b.band_key || (a.rep_id < b.rep_id ? -1 : a.rep_id > b.rep_id ? 1 : 0))
    .slice(0, MAX_BAND_ROWS)
    .map((r) => ({ rep_id: r.rep_id }));
  assert.ok(all.length > MAX_BAND_ROWS, `${all.length} rows`);
  assert.deepEqual(rows, expected);

  assert.deepEqual(await own.reps(reps), await viaKysely.reps(reps));
  assert.equal((await own.reps(reps)).length, reps.length);

  const links = prints.flatMap((fp) => fp.links);
  assert.ok(new Set(links.map((l) => l.kind)).size >= 2, links.map((l) => l.kind).join(', '));
  const linkRows = await own.links(links);
  assert.deepEqual(linkRows, await viaKysely.links(links));
  assert.ok(linkRows.length >= prints.length, `${linkRows.length} link rows`);

  const campaigns = await own.campaigns(placed);
  assert.deepEqual(campaigns, await viaKysely.campaigns(placed));
  const byId = new Map(campaigns.map((c) => [c.id, c]));
  assert.equal(byId.get(placed[1])?.merged_into, placed[0]);
  assert.equal(byId.get(placed[6])?.core_kind, 'sms');
  assert.equal(byId.get(placed[2])?.core_kind, 'email');
});
