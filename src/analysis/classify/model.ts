/**
 * The learned text models: multinomial logistic regression over hashed features
 * (`features.ts`), trained by `npm run train` with a fixed seed, shipped as small versioned
 * artifacts (`models/text-model.json` for e-mail, `models/sms-model.json` for SMS: int8-quantised
 * weights, deflated, base64). Training and
 * inference both use the quantised weights, so what the evaluation measures is what runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { FEATURE_BITS, FEATURE_DIM, type FeatureVector } from './features.ts';
import { MODEL_CLASSES, type ModelClass } from './categories.ts';
import { mulberry32 } from '../../core/prng.ts';

export const MODEL_FORMAT = 'spamdesk-text-model/1';
export const DEFAULT_MODEL_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../models/text-model.json',
);
/**
 * The SMS model: trained on the training part of the UCI SMS Spam Collection only, whose labels
 * are ham/spam, so its classes are legitimate and spam (no phishing class).
 */
export const DEFAULT_SMS_MODEL_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../models/sms-model.json',
);

export interface TrainOptions {
  epochs: number;
  learningRate: number;
  l2: number;
  seed: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { epochs: 8, learningRate: 0.5, l2: 1e-6, seed: 20240607 };

export interface TextModel {
  /** Content hash of the artifact: recorded with every classification. */
  version: string;
  classes: readonly ModelClass[];
  /** Row-major: class × FEATURE_DIM. */
  weights: Float32Array;
  bias: Float32Array;
  meta: Record<string, unknown>;
}

/** Class probabilities for one feature vector. */
export function predictProba(m: Pick<TextModel, 'weights' | 'bias' | 'classes'>, x: FeatureVector): number[] {
  const k = m.classes.length;
  const z = new Array<number>(k);
  for (let c = 0; c < k; c++) {
    let s = m.bias[c];
    const off = c * FEATURE_DIM;
    for (let i = 0; i < x.indices.length; i++) s += m.weights[off + x.indices[i]] * x.values[i];
    z[c] = s;
  }
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/**
 * Trains softmax regression with AdaGrad over the examples in a seeded order. Deterministic:
 * same examples in the same order with the same options give the same weights.
 */
export function trainModel(
  examples: readonly { x: FeatureVector; y: number }[],
  opts: TrainOptions = DEFAULT_TRAIN_OPTIONS,
  classes: readonly ModelClass[] = MODEL_CLASSES,
): Pick<TextModel, 'weights' | 'bias' | 'classes'> {
  const k = classes.length;
  const weights = new Float32Array(k * FEATURE_DIM);
  const g2 = new Float32Array(k * FEATURE_DIM);
  const bias = new Float32Array(k);
  const bg2 = new Float32Array(k);
  const rnd = mulberry32(opts.seed);
  const order = examples.map((_, i) => i);
  const model = { weights, bias, classes };
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const idx of order) {
      const { x, y } = examples[idx];
      const p = predictProba(model, x);
      for (let c = 0; c < k; c++) {
        const err = p[c] - (c === y ? 1 : 0);
        const off = c * FEATURE_DIM;
        for (let i = 0; i < x.indices.length; i++) {
          const j = off + x.indices[i];
          const g = err * x.values[i] + opts.l2 * weights[j];
          g2[j] += g * g;
          weights[j] -= (opts.learningRate * g) / Math.sqrt(g2[j] + 1e-8);
        }
        bg2[c] += err * err;
        bias[c] -= (opts.learningRate * err) / Math.sqrt(bg2[c] + 1e-8);
      }
    }
  }
  return model;
}

function quantise(weights: Float32Array, k: number): { scales: number[]; bytes: Buffer } {
  const bytes = Buffer.alloc(weights.length);
  const scales: number[] = [];
  for (let c = 0; c < k; c++) {
    let max = 0;
    for (let j = c * FEATURE_DIM; j < (c + 1) * FEATURE_DIM; j++) max = Math.max(max, Math.abs(weights[j]));
    const scale = max > 0 ? max / 127 : 1;
    scales.push(Number(scale.toPrecision(9)));
    for (let j = c * FEATURE_DIM; j < (c + 1) * FEATURE_DIM; j++) bytes.writeInt8(Math.round(weights[j] / scale), j);
  }
  return { scales, bytes };
}

const ModelFile = z.object({
  format: z.literal(MODEL_FORMAT),
  featureBits: z.literal(FEATURE_BITS),
  classes: z.array(z.enum(MODEL_CLASSES)),
  bias: z.array(z.number()),
  scales: z.array(z.number()),
  weights: z.string(),
  meta: z.record(z.string(), z.unknown()),
});

/** Serialises (quantised) and returns the artifact's text; byte-identical for identical weights. */
export function serialiseModel(
  m: Pick<TextModel, 'weights' | 'bias' | 'classes'>,
  meta: Record<string, unknown>,
): string {
  const { scales, bytes } = quantise(m.weights, m.classes.length);
  const doc = {
    format: MODEL_FORMAT,
    featureBits: FEATURE_BITS,
    classes: [...m.classes],
    bias: Array.from(m.bias, (b) => Number(b.toPrecision(9))),
    scales,
    weights: zlib.deflateRawSync(bytes, { level: 9 }).toString('base64'),
    meta,
  };
  return `${JSON.stringify(doc, null, 1)}\n`;
}

/** Reads an artifact back (the quantised weights, as inference uses them); `name` prefixes its version. */
export function parseModel(text: string, name = 'text-model'): TextModel {
  const doc = ModelFile.parse(JSON.parse(text));
  const bytes = zlib.inflateRawSync(Buffer.from(doc.weights, 'base64'));
  const k = doc.classes.length;
  if (bytes.length !== k * FEATURE_DIM)
    throw new Error(`model weights have ${bytes.length} bytes, expected ${k * FEATURE_DIM}`);
  const weights = new Float32Array(k * FEATURE_DIM);
  for (let c = 0; c < k; c++)
    for (let j = c * FEATURE_DIM; j < (c + 1) * FEATURE_DIM; j++) weights[j] = bytes.readInt8(j) * doc.scales[c];
  return {
    version: `${name}:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`,
    classes: doc.classes,
    weights,
    bias: Float32Array.from(doc.bias),
    meta: doc.meta,
  };
}

const cache = new Map<string, TextModel>();
/** Loads (once per process) the model artifact; throws a clear error when it is missing. */
export function loadModel(file = DEFAULT_MODEL_FILE): TextModel {
  const hit = cache.get(file);
  if (hit) return hit;
  if (!fs.existsSync(file)) throw new Error(`text model ${file} is missing: run \`npm run train\``);
  const m = parseModel(fs.readFileSync(file, 'utf8'), path.basename(file).replace(/\.json$/, ''));
  cache.set(file, m);
  return m;
}
