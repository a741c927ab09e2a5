/**
 * `npm run train`: rebuilds the shipped text model (`models/text-model.json`) from the public
 * corpora — reproducibly: fixed seed, fixed corpus order, fixed analysis clock, training split
 * only (the held-out split of `dataset.ts` is never read here). Analyst relabels stored in a
 * Spamdesk database are added as training examples when one is named:
 *
 *   npm run train [-- --database-url sqlite:./data/spamdesk.db] [--corpus DIR] [--out FILE]
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { CORPUS_DIR } from '../src/core/test-env.ts';
import { MODEL_CLASSES, isCategory, modelClassOf } from '../src/analysis/classify/categories.ts';
import { HELD_OUT_PERCENT, TRAINING_CLOCK, VALIDATION_PERCENT, isValidation, loadDataset } from '../src/analysis/classify/dataset.ts';
import { featuresOf, FEATURE_BITS } from '../src/analysis/classify/features.ts';
import { DEFAULT_MODEL_FILE, DEFAULT_TRAIN_OPTIONS, predictProba, serialiseModel, trainModel } from '../src/analysis/classify/model.ts';
import { ANALYSER_VERSION } from '../src/analysis/analysis-schema.ts';
import { analyse } from '../src/analysis/analyse.ts';
import { offlinePorts } from '../src/analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../src/analysis/settings.ts';
import { openDatabase } from '../src/db/dialect.ts';
import { loadConfig } from '../src/core/config.ts';
import { latestRelabels } from '../src/campaigns/relabel.ts';
import { getMessageRaw } from '../src/evidence/store.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const corpus = arg('corpus') ?? CORPUS_DIR;
const out = path.resolve(arg('out') ?? DEFAULT_MODEL_FILE);
const databaseUrl = arg('database-url');
if (!fs.existsSync(corpus)) {
  process.stderr.write(`train: corpus ${corpus} not found (set SPAMDESK_CORPUS_DIR or --corpus)\n`);
  process.exit(2);
}

const started = Date.now();
process.stdout.write(`train: analysing ${corpus} (training split only; ${HELD_OUT_PERCENT}% held out by normalised-text hash)\n`);
const examples = await loadDataset(corpus, { want: 'train', onProgress: (n) => process.stdout.write(`  ${n} messages analysed\n`) });
const rows = examples.map((e) => ({ x: featuresOf(e.analysis), y: MODEL_CLASSES.indexOf(e.label), id: `${e.source}/${e.id}`, validation: isValidation(e.dupKey) }));

let relabelled = 0;
if (databaseUrl) {
  const config = loadConfig({ env: {}, flags: { databaseUrl, logLevel: 'silent' } });
  const db = openDatabase(config.database);
  try {
    const ports = offlinePorts(TRAINING_CLOCK);
    const settings = defaultAnalysisSettings();
    for (const r of await latestRelabels(db)) {
      if (!isCategory(r.category)) continue;
      const cls = modelClassOf(r.category);
      const raw = await getMessageRaw(db, r.message_sha256);
      if (!cls || !raw) continue;
      const a = await analyse(raw, { ports, settings });
      rows.push({ x: featuresOf(a), y: MODEL_CLASSES.indexOf(cls), id: `relabel/${r.message_sha256}`, validation: false });
      relabelled++;
    }
  } finally {
    await db.destroy();
  }
}

const counts = Object.fromEntries(MODEL_CLASSES.map((c, i) => [c, rows.filter((r) => r.y === i).length]));
process.stdout.write(`train: ${rows.length} examples ${JSON.stringify(counts)}, ${relabelled} from analyst relabels\n`);
// Calibration of the legitimate offset: a false report wrongly believed hurts an innocent sender,
// so a legitimate message judged abusive costs FALSE_POSITIVE_COST misses. Fit on the training
// split minus a validation slice, pick the offset (added to the legitimate logit) with the lowest
// validation cost, then fit again on the whole training split. The held-out split is not used.
const FALSE_POSITIVE_COST = 10;
const LEGIT = MODEL_CLASSES.indexOf('legitimate');
const fit = rows.filter((r) => !r.validation);
const validation = rows.filter((r) => r.validation);
const probe = trainModel(fit, DEFAULT_TRAIN_OPTIONS);
const logits = validation.map((r) => predictProba(probe, r.x).map((p) => Math.log(Math.max(p, 1e-12))));
let legitimateOffset = 0;
let bestCost = Infinity;
for (let step = 0; step <= 24; step++) {
  const offset = step * 0.25;
  let cost = 0;
  validation.forEach((r, i) => {
    const z = logits[i].slice();
    z[LEGIT] += offset;
    const pred = z.indexOf(Math.max(...z));
    if (r.y === LEGIT && pred !== LEGIT) cost += FALSE_POSITIVE_COST;
    else if (r.y !== LEGIT && pred === LEGIT) cost += 1;
  });
  if (cost < bestCost) {
    bestCost = cost;
    legitimateOffset = offset;
  }
}
process.stdout.write(`train: calibrated on ${validation.length} validation examples (${VALIDATION_PERCENT}% slice): legitimate offset ${legitimateOffset} (cost ${bestCost}, FP weight ${FALSE_POSITIVE_COST})\n`);
const model = trainModel(rows, DEFAULT_TRAIN_OPTIONS);
model.bias[LEGIT] += legitimateOffset;
const trainingSet = createHash('sha256').update(rows.map((r) => r.id).join('\n')).digest('hex');
const text = serialiseModel(model, {
  analyserVersion: ANALYSER_VERSION,
  featureBits: FEATURE_BITS,
  options: DEFAULT_TRAIN_OPTIONS,
  examples: counts,
  relabels: relabelled,
  heldOutPercent: HELD_OUT_PERCENT,
  validationPercent: VALIDATION_PERCENT,
  legitimateOffset,
  falsePositiveCost: FALSE_POSITIVE_COST,
  trainingSetSha256: trainingSet,
});
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, text);
process.stdout.write(
  `train: wrote ${out} (${(text.length / 1024).toFixed(0)} KiB, sha256 ${createHash('sha256').update(text).digest('hex').slice(0, 16)}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
);
