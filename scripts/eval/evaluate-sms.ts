/**
 * `npm run eval -- sms`: the UCI SMS Spam Collection (Almeida & Gómez Hidalgo, 2011) stored as SMS
 * evidence exactly as the SMS intake stores it, analysed by the same pipeline the workers run
 * (offline ports, fixed clock) and classified. The collection labels ham/spam only, so a verdict
 * counts as correct when `legitimate`/`other` meets ham and any spam category (commercial, scam,
 * phishing, malware) meets spam. `npm run train` learns from the training part of the collection
 * (hash split of `scripts/train/dataset.ts`), so the scores are on its held-out part only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { analyse } from '../../src/analysis/analyse.ts';
import { offlinePorts } from '../../src/analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../../src/analysis/settings.ts';
import { createClassifier } from '../../src/analysis/classify/classify.ts';
import { CATEGORIES, type Category } from '../../src/analysis/classify/categories.ts';
import { splitOf } from '../train/dataset.ts';
import { serializeSmsEvidence } from '../../src/evidence/sms-format.ts';
import { UNKNOWN_SENDER } from '../../src/intake/sms/sms-intake.ts';
import { evaluateSmsFr } from './evaluate-sms-fr.ts';

const CLOCK = new Date('2026-01-01T00:00:00Z');
const HAM_CATEGORIES: ReadonlySet<Category> = new Set(['legitimate', 'other']);

/** Runs the English (UCI) and French (`evaluate-sms-fr.ts`) evaluations and writes their tables with `out`. */
export async function evaluateSms(corpusDir: string, out: (s: string) => void): Promise<void> {
  out('English SMS (UCI SMS Spam Collection):\n');
  await evaluateSmsEnglish(corpusDir, out);
  await evaluateSmsFr(out);
}

async function evaluateSmsEnglish(corpusDir: string, out: (s: string) => void): Promise<void> {
  const file = path.join(corpusDir, 'sms_spam_collection', 'SMSSpamCollection');
  if (!fs.existsSync(file)) {
    out(`SKIP: ${file} not found (set SPAMDESK_CORPUS_DIR)\n`);
    return;
  }
  const rows = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => /^(ham|spam)\t(.*)$/.exec(l.replace(/\r$/, '')))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ label: m[1] === 'spam' ? 'spam' : 'ham', text: m[2] }));
  const ports = offlinePorts(CLOCK);
  // The collection comes from UK (Grumbletext) and Singapore sources: parse phone numbers as UK ones.
  const settings = defaultAnalysisSettings({ region: 'GB' });
  const classifier = createClassifier({ region: settings.region });
  const matrix: Record<'ham' | 'spam', Record<Category, number>> = { ham: zero(), spam: zero() };
  let withUrl = 0;
  let withPhone = 0;
  const seen = new Set<string>();
  const started = Date.now();
  for (const r of rows) {
    const raw = serializeSmsEvidence({ sender: UNKNOWN_SENDER, text: r.text, receivedAt: null });
    const a = await analyse(raw, { ports, settings });
    if (a.indicators.urls.length > 0) withUrl++;
    if (a.indicators.phones.length > 0) withPhone++;
    // Scored: distinct SMS of the held-out part, which `npm run train` never reads.
    if (seen.has(a.sha256) || splitOf(a).split !== 'held-out') continue;
    seen.add(a.sha256);
    matrix[r.label === 'spam' ? 'spam' : 'ham'][classifier.classify(a).category]++;
  }
  const seconds = (Date.now() - started) / 1000;
  const n = CATEGORIES.reduce((s, c) => s + matrix.ham[c] + matrix.spam[c], 0);
  const sum = (label: 'ham' | 'spam', pred: (c: Category) => boolean) =>
    CATEGORIES.filter(pred).reduce((s, c) => s + matrix[label][c], 0);
  const tp = sum('spam', (c) => !HAM_CATEGORIES.has(c));
  const fn = sum('spam', (c) => HAM_CATEGORIES.has(c));
  const tn = sum('ham', (c) => HAM_CATEGORIES.has(c));
  const fp = sum('ham', (c) => !HAM_CATEGORIES.has(c));
  out(
    `${rows.length} SMS analysed in ${seconds.toFixed(1)} s (${(rows.length / Math.max(seconds, 0.001)).toFixed(0)} \
SMS/s); scored: the ${n} distinct SMS of the held-out split (${tp + fn} spam, ${tn + fp} ham); model \
${classifier.smsModelVersion}, region ${settings.region}\n`,
  );
  out(`\nlabel \\ category  ${CATEGORIES.map((c) => c.padStart(11)).join('')}\n`);
  for (const label of ['ham', 'spam'] as const)
    out(`${label.padEnd(17)} ${CATEGORIES.map((c) => String(matrix[label][c]).padStart(11)).join('')}\n`);
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  out(`\ncategory accuracy (legitimate/other = ham, any spam category = spam): ${pct((tp + tn) / Math.max(n, 1))}\n`);
  out(`baseline (always ham, the majority label): ${pct((tn + fp) / Math.max(n, 1))}\n`);
  out(`spam precision ${pct(tp / Math.max(tp + fp, 1))}, spam recall ${pct(tp / Math.max(tp + fn, 1))}\n`);
  out(
    `ham  precision ${pct(tn / Math.max(tn + fn, 1))}, ham recall ${pct(tn / Math.max(tn + fp, 1))} (ham judged spam: \
${fp} of ${tn + fp})\n`,
  );
  out(`indicators (all ${rows.length} SMS): ${withUrl} SMS with a URL, ${withPhone} with a phone number\n`);
}

function zero(): Record<Category, number> {
  const r = {} as Record<Category, number>;
  for (const c of CATEGORIES) r[c] = 0;
  return r;
}
