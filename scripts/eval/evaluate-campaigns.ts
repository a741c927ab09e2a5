/**
 * `npm run eval -- campaigns`: clustering quality on a labelled set built from real corpus spams by
 * per-recipient personalisation (`personalise.ts`, seeded). Each chosen corpus spam is one true
 * campaign of 2–8 personalised copies; all copies are analysed by the real pipeline, shuffled and
 * ingested one by one into a fresh SQLite database; the resulting campaigns are compared with the
 * truth by pairwise precision (pairs put together that belong together) and recall (pairs that
 * belong together and were put together).
 *
 * Bases are chosen so that the truth is unambiguous: each has at least 20 template tokens, and a
 * base that already resembles a chosen one (estimated Jaccard ≥ 0.3) or shares a strong link with
 * it (advertised domain, phone, wallet) is skipped — such messages are the same operation, so
 * calling them two campaigns would make the labels wrong, not the clustering.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyse } from '../../src/analysis/analyse.ts';
import { offlinePorts } from '../../src/analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../../src/analysis/settings.ts';
import { corpusMessages } from '../train/corpus.ts';
import { testConfig } from '../../src/core/config.ts';
import { openDatabase } from '../../src/db/dialect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { fingerprintOf } from '../../src/campaigns/fingerprint.ts';
import { ingestFingerprint } from '../../src/campaigns/cluster.ts';
import { similarity } from '../../src/analysis/text/minhash.ts';
import { makeRecipient, personalise, seededRng, type BaseMessage } from '../../src/campaigns/personalise.ts';

export const EVAL_SEED = 4242;
const BASE_STRIDE = 7;

export interface PairwiseScores {
  precision: number;
  recall: number;
  truePairs: number;
  predictedPairs: number;
  agreeingPairs: number;
}

const pairs = (n: number) => (n * (n - 1)) / 2;

/** Pairwise precision and recall of a clustering against the truth (same item order). */
export function pairwiseScores(truth: readonly string[], predicted: readonly string[]): PairwiseScores {
  const joint = new Map<string, number>();
  const t = new Map<string, number>();
  const p = new Map<string, number>();
  for (let i = 0; i < truth.length; i++) {
    joint.set(`${truth[i]}\u0000${predicted[i]}`, (joint.get(`${truth[i]}\u0000${predicted[i]}`) ?? 0) + 1);
    t.set(truth[i], (t.get(truth[i]) ?? 0) + 1);
    p.set(predicted[i], (p.get(predicted[i]) ?? 0) + 1);
  }
  const agreeing = [...joint.values()].reduce((a, n) => a + pairs(n), 0);
  const truePairs = [...t.values()].reduce((a, n) => a + pairs(n), 0);
  const predictedPairs = [...p.values()].reduce((a, n) => a + pairs(n), 0);
  return {
    precision: predictedPairs ? agreeing / predictedPairs : 1,
    recall: truePairs ? agreeing / truePairs : 1,
    truePairs,
    predictedPairs,
    agreeingPairs: agreeing,
  };
}

/** Runs the clustering evaluation and prints its figures. */
export async function evaluateCampaigns(
  corpusDir: string,
  out: (s: string) => void,
  opts: { bases?: number; seed?: number } = {},
): Promise<PairwiseScores> {
  const want = opts.bases ?? Number(process.env.SPAMDESK_EVAL_CAMPAIGN_BASES ?? 300);
  const rng = seededRng(opts.seed ?? EVAL_SEED);
  const ports = offlinePorts(new Date('2026-01-01T00:00:00Z'));
  const settings = defaultAnalysisSettings();
  const chosen: { base: BaseMessage; sig: Uint32Array }[] = [];
  const usedLinks = new Set<string>();
  let seen = 0;
  for (const m of corpusMessages(corpusDir)) {
    if (chosen.length >= want) break;
    // Every BASE_STRIDE-th abusive message, so that all corpora (and years) contribute.
    if (m.label === 'legitimate' || seen++ % BASE_STRIDE !== 0) continue;
    const e = { analysis: await analyse(m.raw, { ports, settings }) };
    const fp = fingerprintOf(e.analysis);
    if (!fp.signature || fp.tokenCount < 20) continue;
    const sig = fp.signature;
    if (fp.links.some((l) => usedLinks.has(`${l.kind}:${l.value}`))) continue;
    if (chosen.some((c) => similarity(c.sig, sig) >= 0.3)) continue;
    for (const l of fp.links) usedLinks.add(`${l.kind}:${l.value}`);
    const urls = e.analysis.indicators.urls.filter((u) => !u.shortener && /^https?:/.test(u.url)).map((u) => u.url);
    chosen.push({
      sig,
      base: {
        subject: e.analysis.parse.subject ?? '',
        from: e.analysis.parse.from[0]?.address ?? 'sender@spam.example',
        text: e.analysis.parse.visibleText,
        urls: [...new Set(urls)].slice(0, 5),
      },
    });
  }
  const copies: { truth: string; raw: Buffer }[] = [];
  chosen.forEach((c, i) => {
    const k = 2 + Math.floor(rng() * 7);
    for (let j = 0; j < k; j++)
      copies.push({ truth: `base-${i}`, raw: personalise(c.base, makeRecipient(rng), rng, copies.length) });
  });
  for (let i = copies.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [copies[i], copies[j]] = [copies[j], copies[i]];
  }
  out(
    `labelled set: ${chosen.length} corpus spams → ${copies.length} personalised copies (seed \
${opts.seed ?? EVAL_SEED})\n`,
  );

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-cluster-eval-'));
  const db = openDatabase(testConfig({ dataDir: dir }).database, { synchronous: 'OFF' });
  try {
    await migrateToLatest(db);
    const shas: string[] = [];
    const t0 = Date.now();
    for (let i = 0; i < copies.length; i++) {
      const a = await analyse(copies[i].raw, { ports, settings });
      shas.push(a.sha256);
      const seenAt = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
      await db.transaction().execute((trx) => ingestFingerprint(trx, fingerprintOf(a), { seenAt, category: null }));
    }
    const rows = await db.selectFrom('campaign_messages').select(['sha256', 'campaign_id']).execute();
    const campaignOf = new Map(rows.map((r) => [r.sha256, r.campaign_id]));
    const predicted = shas.map((s) => campaignOf.get(s) ?? s);
    const scores = pairwiseScores(
      copies.map((c) => c.truth),
      predicted,
    );
    const campaigns = new Set(predicted).size;
    out(
      `clustered ${copies.length} copies in ${((Date.now() - t0) / 1000).toFixed(1)} s into ${campaigns} campaigns \
(truth: ${chosen.length})\n`,
    );
    out(
      `pairwise precision ${(scores.precision * 100).toFixed(2)}%  recall ${(scores.recall * 100).toFixed(2)}%  \
(${scores.agreeingPairs} agreeing of ${scores.predictedPairs} predicted / ${scores.truePairs} true pairs; target ≥ 98 \
/ ≥ 95)\n`,
    );
    return scores;
  } finally {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
