/**
 * `npm run eval -- campaigns`, second part: the shared corpora as ONE mixed stream, as a national
 * body receives them — legitimate newsletters and mailing lists (SpamAssassin ham, TREC 2007 ham)
 * interleaved with spam and phishing (SpamAssassin spam, TREC spam, phishing_pot, Nazario). Every
 * message is analysed and classified by the real pipeline and clustered by the real clustering,
 * in a seeded shuffle of the whole set; the campaigns found are then read against the corpora's
 * own labels (the 2023–2025 spam archive rides along as recent abuse):
 *
 * - the **impure share**: messages in campaigns that mix legitimate and abusive labels ÷ messages
 *   in campaigns of two or more (target ≤ 1 %);
 * - **legitimate messages in abusive campaigns of ten or more** (target 0): what automatic
 *   referral and ISP alerts would act on wrongly;
 * - the size distribution, the largest campaigns with their label mix and how their members joined.
 *
 * The labels are the corpora's, not Spamdesk's; a campaign's category is Spamdesk's (its members'
 * majority), so the second figure is exactly the harm a wrong campaign does downstream.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyse } from '../../src/analysis/analyse.ts';
import { offlinePorts } from '../../src/analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../../src/analysis/settings.ts';
import { corpusMessages, type LabelledMessage } from '../train/corpus.ts';
import { createClassifier } from '../../src/analysis/classify/classify.ts';
import { DEFAULT_MODEL_FILE, loadModel } from '../../src/analysis/classify/model.ts';
import { loadScores } from '../../src/analysis/classify/scores.ts';
import { testConfig } from '../../src/core/config.ts';
import { openDatabase } from '../../src/db/dialect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { fingerprintOf } from '../../src/campaigns/fingerprint.ts';
import { ingestFingerprint } from '../../src/campaigns/cluster.ts';
import { seededRng } from '../../src/campaigns/personalise.ts';

/** The corpora of the mixed stream (missing folders are skipped and said). */
export const STREAM_SOURCES = [
  'spamassassin',
  'trec07p',
  'phishing_pot',
  'nazario_phishing',
  'spam_archive_2023_2025',
] as const;
const STREAM_SEED = 20261202;
const ABUSIVE_CATEGORIES = new Set(['phishing', 'malware', 'scam', 'commercial']);

export interface StreamFigures {
  messages: number;
  campaigns: number;
  clusteredMessages: number;
  impureMessages: number;
  impureShare: number;
  /** Legitimate-labelled messages in campaigns of ≥ 10 whose category is abusive. */
  legitimateInLargeAbusive: number;
  largest: number;
}

interface Member {
  label: 'legitimate' | 'abusive';
  source: string;
  id: string;
  via: string;
}

const pct = (a: number, b: number) => (b ? ((a / b) * 100).toFixed(2) : '0.00');

/** Runs the mixed-stream clustering evaluation and prints its figures. */
export async function evaluateCampaignStream(
  corpusDir: string,
  out: (s: string) => void,
  opts: { limit?: number; seed?: number; withoutCategories?: boolean } = {},
): Promise<StreamFigures> {
  const present = STREAM_SOURCES.filter((s) => fs.existsSync(path.join(corpusDir, s)));
  const missing = STREAM_SOURCES.filter((s) => !present.includes(s));
  if (missing.length) out(`(corpora missing, left out: ${missing.join(', ')})\n`);
  const all: LabelledMessage[] = [...corpusMessages(corpusDir, present)];
  const rng = seededRng(opts.seed ?? STREAM_SEED);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  const stream = opts.limit ? all.slice(0, opts.limit) : all;
  const ports = offlinePorts(new Date('2026-01-01T00:00:00Z'));
  const settings = defaultAnalysisSettings();
  const classifier = createClassifier({ model: loadModel(DEFAULT_MODEL_FILE), scores: loadScores(null) });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-stream-eval-'));
  const db = openDatabase(testConfig({ dataDir: dir }).database, { synchronous: 'OFF' });
  const labelOf = new Map<string, Member>();
  let analyseMs = 0;
  let clusterMs = 0;
  try {
    await migrateToLatest(db);
    for (let i = 0; i < stream.length; i++) {
      const m = stream[i];
      const t0 = performance.now();
      const a = await analyse(m.raw, { ports, settings });
      const verdict = classifier.classify(a);
      const t1 = performance.now();
      analyseMs += t1 - t0;
      const seenAt = new Date(Date.UTC(2026, 0, 1) + i * 30_000).toISOString();
      const placement = await db.transaction().execute((trx) =>
        ingestFingerprint(trx, fingerprintOf(a), {
          seenAt,
          category: opts.withoutCategories ? null : verdict.category,
        }),
      );
      clusterMs += performance.now() - t1;
      if (!labelOf.has(a.sha256))
        labelOf.set(a.sha256, {
          label: m.label === 'legitimate' ? 'legitimate' : 'abusive',
          source: m.source,
          id: m.id,
          via: placement.via,
        });
    }
    const rows = await db.selectFrom('campaign_messages').select(['sha256', 'campaign_id']).execute();
    const camps = await db
      .selectFrom('campaigns')
      .select(['id', 'category'])
      .where('merged_into', 'is', null)
      .execute();
    const categoryOf = new Map(camps.map((c) => [c.id, c.category]));
    const members = new Map<string, Member[]>();
    for (const r of rows) {
      const mem = labelOf.get(r.sha256);
      if (!mem) continue;
      const list = members.get(r.campaign_id) ?? [];
      list.push(mem);
      members.set(r.campaign_id, list);
    }
    const sizes = [...members.values()].map((l) => l.length);
    let clustered = 0;
    let impure = 0;
    let legitInLarge = 0;
    const impureCampaigns: { id: string; list: Member[] }[] = [];
    for (const [id, list] of members) {
      if (list.length < 2) continue;
      clustered += list.length;
      const legit = list.filter((x) => x.label === 'legitimate').length;
      if (legit > 0 && legit < list.length) {
        impure += list.length;
        impureCampaigns.push({ id, list });
      }
      if (list.length >= 10 && ABUSIVE_CATEGORIES.has(categoryOf.get(id) ?? '')) legitInLarge += legit;
    }
    // What the actions gates would see: abusive campaigns large enough to act on, by purity.
    const standing = await db
      .selectFrom('campaigns')
      .select(['id', 'category', 'purity', 'legitimate_share', 'message_count'])
      .where('merged_into', 'is', null)
      .where('message_count', '>=', 5)
      .execute();
    const actionable = standing.filter((c) => ABUSIVE_CATEGORIES.has(c.category ?? ''));
    const gate = {
      pure: actionable.filter((c) => Number(c.purity) >= 1).length,
      ninety: actionable.filter((c) => Number(c.purity) >= 0.9).length,
      legit: actionable.filter((c) => Number(c.legitimate_share) > 0.05).length,
    };
    const buckets: [string, number, number][] = [
      ['1', 1, 1],
      ['2–4', 2, 4],
      ['5–9', 5, 9],
      ['10–49', 10, 49],
      ['50–199', 50, 199],
      ['200+', 200, Infinity],
    ];
    out(
      `${opts.withoutCategories ? "[ablation: clustered without the classifier's categories] " : ''}stream: \
${stream.length} messages (${labelOf.size} distinct) from ${present.join(', ')}, seed ${opts.seed ?? STREAM_SEED}\n`,
    );
    out(
      `analysis + classification ${(analyseMs / 1000).toFixed(1)} s; clustering ${(clusterMs / 1000).toFixed(1)} s \
(${((clusterMs / Math.max(1, labelOf.size)) * 1000).toFixed(0)} µs a message)\n`,
    );
    out(
      `campaigns: ${members.size}; sizes: ${buckets
        .map(([n, lo, hi]) => `${n}: ${sizes.filter((s) => s >= lo && s <= hi).length}`)
        .join(', ')}\n`,
    );
    const largest = [...members.entries()].sort((a, b) => b[1].length - a[1].length).slice(0, 5);
    for (const [id, list] of largest) {
      out(`  ${describe(id, list, categoryOf.get(id) ?? null)}\n`);
      const top = await db
        .selectFrom('campaign_facts')
        .select(['kind', 'value', 'count'])
        .where('campaign_id', '=', id)
        .where('kind', 'in', ['domain', 'subject'])
        .orderBy('count', 'desc')
        .limit(4)
        .execute();
      out(`      top: ${top.map((f) => `${f.kind} ${JSON.stringify(f.value.slice(0, 50))} ×${f.count}`).join('; ')}\n`);
    }
    out(
      `impure share: ${impure} of ${clustered} clustered messages (${pct(impure, clustered)} %; target ≤ 1 %) in \
${impureCampaigns.length} campaigns\n`,
    );
    out(`legitimate messages in abusive campaigns of ten or more: ${legitInLarge} (target 0)\n`);
    out(
      `abusive campaigns of five or more: ${actionable.length}; purity 1: ${gate.pure}; purity ≥ 0.9: ${gate.ninety}; \
legitimate share > 5 %: ${gate.legit}\n`,
    );
    for (const c of impureCampaigns.sort((a, b) => b.list.length - a.list.length).slice(0, 8)) {
      out(`  impure ${describe(c.id, c.list, categoryOf.get(c.id) ?? null)}\n`);
      for (const x of c.list.filter((y) => y.label === 'legitimate').slice(0, 3))
        out(`      legitimate: ${x.source}/${x.id} (via ${x.via})\n`);
      for (const x of c.list.filter((y) => y.label === 'abusive').slice(0, 2))
        out(`      abusive:    ${x.source}/${x.id} (via ${x.via})\n`);
    }
    return {
      messages: labelOf.size,
      campaigns: members.size,
      clusteredMessages: clustered,
      impureMessages: impure,
      impureShare: clustered ? impure / clustered : 0,
      legitimateInLargeAbusive: legitInLarge,
      largest: sizes.length ? Math.max(...sizes) : 0,
    };
  } finally {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function describe(id: string, list: readonly Member[], category: string | null): string {
  const bySource = new Map<string, number>();
  const byVia = new Map<string, number>();
  for (const x of list) {
    const k = `${x.source}:${x.label}`;
    bySource.set(k, (bySource.get(k) ?? 0) + 1);
    const v = x.via.startsWith('link:') ? x.via : x.via;
    byVia.set(v, (byVia.get(v) ?? 0) + 1);
  }
  const fmt = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  return `${id} (${category ?? 'no category'}): ${list.length} messages — ${fmt(bySource)}; joined via ${fmt(byVia)}`;
}
