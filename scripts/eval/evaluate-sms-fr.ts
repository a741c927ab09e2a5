/**
 * The French SMS evaluation (`scripts/eval/data/sms-fr.tsv`): French smishing reconstructed from
 * public advisories and legitimate French SMS, each stored as SMS evidence exactly as the SMS intake
 * stores it, analysed by the same pipeline the workers run (offline ports, fixed clock, region FR)
 * and classified. Split into dev / held-out by the hash of the normalised text (the same split as
 * the training corpora, `scripts/train/dataset.ts`): weights and wording are tuned on dev only.
 *
 * Scored twice: as received (the sender the phone showed) and with every sender withheld (as a
 * 33700 forward without the sender's number arrives), so the sender alone cannot carry the result.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyse } from '../../src/analysis/analyse.ts';
import { offlinePorts } from '../../src/analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../../src/analysis/settings.ts';
import { createClassifier, type Classifier } from '../../src/analysis/classify/classify.ts';
import { CATEGORIES, isCategory, type Category } from '../../src/analysis/classify/categories.ts';
import { splitOf, type Split } from '../train/dataset.ts';
import { serializeSmsEvidence } from '../../src/evidence/sms-format.ts';
import { UNKNOWN_SENDER } from '../../src/intake/sms/sms-intake.ts';

export const SMS_FR_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'data/sms-fr.tsv');
const CLOCK = new Date('2026-01-01T00:00:00Z');
const HAM: ReadonlySet<Category> = new Set(['legitimate', 'other']);

export interface SmsFrRow {
  line: number;
  expected: Category;
  sender: string;
  text: string;
  source: string;
  date: string;
}

/** Reads the set; throws on a malformed line (naming it), so a bad edit cannot silently drop rows. */
export function readSmsFr(file: string = SMS_FR_FILE): SmsFrRow[] {
  const rows: SmsFrRow[] = [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.forEach((l, i) => {
    if (l.trim() === '' || l.startsWith('#') || l.startsWith('category\t')) return;
    const f = l.split('\t');
    if (f.length !== 5 || !isCategory(f[0]) || f[1] === '' || f[2] === '' || f[3] === '')
      throw new Error(`${file}:${i + 1}: expected category<TAB>sender<TAB>text<TAB>source<TAB>date`);
    rows.push({ line: i + 1, expected: f[0], sender: f[1], text: f[2], source: f[3], date: f[4] });
  });
  return rows;
}

export interface Judged {
  row: SmsFrRow;
  split: Split;
  category: Category;
  reasons: string[];
}

export interface Figures {
  n: number;
  smishing: number;
  legitimate: number;
  /** Smishing judged anything but legitimate/other, over all smishing. */
  smishingRecall: number;
  /** Legitimate SMS judged a spam category, over all legitimate. */
  legitimateMisjudged: number;
  /** Per expected category: precision and recall of the exact category. */
  perClass: Record<string, { precision: number; recall: number; support: number }>;
  errors: Judged[];
}

/** Analyses and classifies every row (optionally with the sender withheld). */
export async function judgeSmsFr(
  rows: readonly SmsFrRow[],
  opts: { classifier?: Classifier; withholdSender?: boolean } = {},
): Promise<Judged[]> {
  const ports = offlinePorts(CLOCK);
  const settings = defaultAnalysisSettings({ region: 'FR' });
  const classifier = opts.classifier ?? createClassifier({ region: 'FR' });
  const out: Judged[] = [];
  for (const row of rows) {
    const sender = opts.withholdSender ? UNKNOWN_SENDER : row.sender;
    const a = await analyse(serializeSmsEvidence({ sender, text: row.text, receivedAt: null }), { ports, settings });
    const v = classifier.classify(a);
    out.push({
      row,
      split: splitOf(a).split,
      category: v.category,
      reasons: v.reasons.filter((r) => r.name !== 'PRIOR').map((r) => `${r.name} ${r.weight} → ${r.category}`),
    });
  }
  return out;
}

/** The figures of one part of the judged set. */
export function figuresOf(judged: readonly Judged[]): Figures {
  const smishing = judged.filter((j) => !HAM.has(j.row.expected));
  const legit = judged.filter((j) => HAM.has(j.row.expected));
  const caught = smishing.filter((j) => !HAM.has(j.category)).length;
  const misjudged = legit.filter((j) => !HAM.has(j.category)).length;
  const perClass: Figures['perClass'] = {};
  for (const c of CATEGORIES) {
    const support = judged.filter((j) => j.row.expected === c).length;
    const predicted = judged.filter((j) => j.category === c).length;
    if (support === 0 && predicted === 0) continue;
    const tp = judged.filter((j) => j.row.expected === c && j.category === c).length;
    perClass[c] = { precision: tp / Math.max(predicted, 1), recall: tp / Math.max(support, 1), support };
  }
  return {
    n: judged.length,
    smishing: smishing.length,
    legitimate: legit.length,
    smishingRecall: caught / Math.max(smishing.length, 1),
    legitimateMisjudged: misjudged / Math.max(legit.length, 1),
    perClass,
    errors: judged.filter((j) => HAM.has(j.row.expected) !== HAM.has(j.category)),
  };
}

/** Goal of issue 22: smishing recall ≥ 0.95, legitimate misjudged ≤ 1 %. */
export const FR_GOAL = { smishingRecall: 0.95, legitimateMisjudged: 0.01 } as const;

/** `npm run eval -- sms`, French part: prints dev and held-out figures, as received and senders withheld. */
export async function evaluateSmsFr(out: (s: string) => void, file: string = SMS_FR_FILE): Promise<void> {
  const rows = readSmsFr(file);
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  for (const withholdSender of [false, true]) {
    const judged = await judgeSmsFr(rows, { withholdSender });
    const how = withholdSender ? 'every sender withheld' : 'as received';
    out(`\nFrench SMS (${path.relative(process.cwd(), file)}), ${how}:\n`);
    for (const split of ['dev', 'held-out'] as const) {
      const part = judged.filter((j) => (split === 'dev' ? j.split === 'train' : j.split === 'held-out'));
      const f = figuresOf(part);
      out(
        `  ${split.padEnd(8)} ${f.n} SMS (${f.smishing} smishing, ${f.legitimate} legitimate): smishing recall \
${pct(f.smishingRecall)}, legitimate misjudged ${pct(f.legitimateMisjudged)} (goal ≥ ${pct(FR_GOAL.smishingRecall)}, \
≤ ${pct(FR_GOAL.legitimateMisjudged)})\n`,
      );
      for (const [c, m] of Object.entries(f.perClass))
        out(
          `           ${c.padEnd(11)} precision ${pct(m.precision).padStart(7)}  recall ${pct(m.recall).padStart(7)}  \
(${m.support} expected)\n`,
        );
      if (!withholdSender)
        for (const e of f.errors)
          out(
            `           miss: line ${e.row.line} expected ${e.row.expected}, got ${e.category}: ` +
              `${e.row.text.slice(0, 90)}\n`,
          );
    }
  }
}
