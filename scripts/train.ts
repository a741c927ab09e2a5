/**
 * `npm run train`: rebuilds the shipped text models from the public corpora — the e-mail model
 * (`models/text-model.json`: legitimate / phishing / spam) from the e-mail corpora and the SMS
 * model (`models/sms-model.json`: legitimate / spam) from the UCI SMS Spam Collection —
 * reproducibly: fixed seed, fixed corpus order, fixed analysis clock, training split only (the
 * held-out split of `dataset.ts` is never read here). Analyst relabels stored in a Spamdesk
 * database are added as training examples (to the model of their kind) when one is named:
 *
 *   npm run train [-- --database-url sqlite:./data/spamdesk.db] [--corpus DIR] [--out FILE] [--sms-out FILE]
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { CORPUS_DIR } from '../src/core/test-env.ts';
import { MODEL_CLASSES, type ModelClass } from '../src/analysis/classify/categories.ts';
import { HELD_OUT_PERCENT, TRAINING_CLOCK, VALIDATION_PERCENT, isValidation, loadDataset } from './train/dataset.ts';
import { featuresOf, FEATURE_BITS } from '../src/analysis/classify/features.ts';
import {
  DEFAULT_MODEL_FILE,
  DEFAULT_SMS_MODEL_FILE,
  DEFAULT_TRAIN_OPTIONS,
  predictProba,
  serialiseModel,
  trainModel,
} from '../src/analysis/classify/model.ts';
import type { FeatureVector } from '../src/analysis/classify/features.ts';
import type { Analysis } from '../src/analysis/analysis-schema.ts';
import { ANALYSER_VERSION } from '../src/analysis/analysis-schema.ts';
import { openDatabase } from '../src/db/dialect.ts';
import { loadConfig } from '../src/core/config.ts';
import { MAX_RELABEL_EXAMPLES_PER_CAMPAIGN, relabelTrainingExamples } from '../src/campaigns/relabel.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const corpus = arg('corpus') ?? CORPUS_DIR;
const out = path.resolve(arg('out') ?? DEFAULT_MODEL_FILE);
const smsOut = path.resolve(arg('sms-out') ?? DEFAULT_SMS_MODEL_FILE);
const databaseUrl = arg('database-url');
if (!fs.existsSync(corpus)) {
  process.stderr.write(`train: corpus ${corpus} not found (set SPAMDESK_CORPUS_DIR or --corpus)\n`);
  process.exit(2);
}

const started = Date.now();
process.stdout.write(
  `train: analysing ${corpus} (training split only; ${HELD_OUT_PERCENT}% held out by normalised-text hash)\n`,
);
const email = await loadDataset(corpus, {
  want: 'train',
  onProgress: (n) => process.stdout.write(`  ${n} messages analysed\n`),
});
// SMS: the training part of the UCI SMS Spam Collection (same hash split; its held-out part is
// what `npm run eval -- sms` scores).
const sms = await loadDataset(corpus, { want: 'train', kind: 'sms' });

interface Row {
  x: FeatureVector;
  label: ModelClass;
  id: string;
  validation: boolean;
}
const row = (a: Analysis, label: ModelClass, id: string, validation: boolean): Row => ({
  x: featuresOf(a),
  label,
  id,
  validation,
});
const emailRows = email.map((e) => row(e.analysis, e.label, `${e.source}/${e.id}`, isValidation(e.dupKey)));
const smsRows = sms.map((e) => row(e.analysis, e.label, `${e.source}/${e.id}`, isValidation(e.dupKey)));

const relabelled = { email: 0, sms: 0 };
if (databaseUrl) {
  const config = loadConfig({ env: {}, flags: { databaseUrl, logLevel: 'silent' } });
  const db = openDatabase(config.database);
  try {
    const stats = { capped: 0 };
    for (const r of await relabelTrainingExamples(db, TRAINING_CLOCK, { stats })) {
      // The SMS model has no phishing class: an SMS relabelled phishing teaches it "spam".
      if (r.analysis.kind === 'sms')
        smsRows.push(row(r.analysis, r.label === 'legitimate' ? 'legitimate' : 'spam', `relabel/${r.sha256}`, false));
      else emailRows.push(row(r.analysis, r.label, `relabel/${r.sha256}`, false));
      relabelled[r.analysis.kind === 'sms' ? 'sms' : 'email']++;
    }
    if (stats.capped > 0)
      process.stdout.write(
        `relabels: ${stats.capped} left out, past ${MAX_RELABEL_EXAMPLES_PER_CAMPAIGN} of one campaign and label\n`,
      );
  } finally {
    await db.destroy();
  }
}

// Calibration of the legitimate offset: a false report wrongly believed hurts an innocent sender,
// so a legitimate message judged abusive costs FALSE_POSITIVE_COST misses. Fit on the training
// split minus a validation slice, pick the offset (added to the legitimate logit) with the lowest
// validation cost, then fit again on the whole training split. The held-out split is not used.
const FALSE_POSITIVE_COST = 10;

/** Trains, calibrates and writes one model; returns a one-line summary. */
function buildModel(
  name: string,
  rows: readonly Row[],
  classes: readonly ModelClass[],
  file: string,
  extraMeta: Record<string, unknown>,
): void {
  const examples = rows.map((r) => ({ x: r.x, y: classes.indexOf(r.label), validation: r.validation, id: r.id }));
  if (examples.some((e) => e.y < 0)) throw new Error(`${name}: a label outside ${classes.join('/')}`);
  const counts = Object.fromEntries(classes.map((c, i) => [c, examples.filter((r) => r.y === i).length]));
  process.stdout.write(`train ${name}: ${examples.length} examples ${JSON.stringify(counts)}\n`);
  const legit = classes.indexOf('legitimate');
  const validation = examples.filter((r) => r.validation);
  const probe = trainModel(
    examples.filter((r) => !r.validation),
    DEFAULT_TRAIN_OPTIONS,
    classes,
  );
  const logits = validation.map((r) => predictProba(probe, r.x).map((p) => Math.log(Math.max(p, 1e-12))));
  let legitimateOffset = 0;
  let bestCost = Infinity;
  for (let step = 0; step <= 24; step++) {
    const offset = step * 0.25;
    let cost = 0;
    validation.forEach((r, i) => {
      const z = logits[i].slice();
      z[legit] += offset;
      const pred = z.indexOf(Math.max(...z));
      if (r.y === legit && pred !== legit) cost += FALSE_POSITIVE_COST;
      else if (r.y !== legit && pred === legit) cost += 1;
    });
    if (cost < bestCost) {
      bestCost = cost;
      legitimateOffset = offset;
    }
  }
  process.stdout.write(
    `train ${name}: calibrated on ${validation.length} validation examples (${VALIDATION_PERCENT}% slice): legitimate \
offset ${legitimateOffset} (cost ${bestCost}, FP weight ${FALSE_POSITIVE_COST})\n`,
  );
  const model = trainModel(examples, DEFAULT_TRAIN_OPTIONS, classes);
  model.bias[legit] += legitimateOffset;
  const text = serialiseModel(model, {
    analyserVersion: ANALYSER_VERSION,
    featureBits: FEATURE_BITS,
    options: DEFAULT_TRAIN_OPTIONS,
    examples: counts,
    ...extraMeta,
    heldOutPercent: HELD_OUT_PERCENT,
    validationPercent: VALIDATION_PERCENT,
    legitimateOffset,
    falsePositiveCost: FALSE_POSITIVE_COST,
    trainingSetSha256: createHash('sha256')
      .update(examples.map((r) => r.id).join('\n'))
      .digest('hex'),
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  process.stdout.write(
    `train ${name}: wrote ${file} (${(text.length / 1024).toFixed(0)} KiB, sha256 \
${createHash('sha256').update(text).digest('hex').slice(0, 16)})\n`,
  );
}

buildModel('e-mail', emailRows, MODEL_CLASSES, out, { relabels: relabelled.email });
if (smsRows.length > 0)
  buildModel('SMS', smsRows, ['legitimate', 'spam'], smsOut, {
    relabels: relabelled.sms,
    corpus: 'UCI SMS Spam Collection v.1',
  });
else process.stdout.write(`train SMS: no SMS corpus under ${corpus} — ${smsOut} left as it is\n`);
process.stdout.write(`train: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
