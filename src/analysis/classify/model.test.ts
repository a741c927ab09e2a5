/** The text model: deterministic training, byte-identical artifacts, quantised inference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURE_DIM, type FeatureVector } from './features.ts';
import { DEFAULT_TRAIN_OPTIONS, parseModel, predictProba, serialiseModel, trainModel } from './model.ts';
import { pairwiseScores } from '../../../scripts/eval/evaluate-campaigns.ts';

function vec(indices: number[]): FeatureVector {
  const v = 1 / Math.sqrt(indices.length);
  return { indices: Uint32Array.from(indices), values: new Float32Array(indices.length).fill(v) };
}

const examples = [
  ...Array.from({ length: 30 }, (_, i) => ({ x: vec([1, 2, 100 + i]), y: 0 })),
  ...Array.from({ length: 30 }, (_, i) => ({ x: vec([3, 4, 200 + i]), y: 1 })),
  ...Array.from({ length: 30 }, (_, i) => ({ x: vec([5, 6, 300 + i]), y: 2 })),
];

test('training twice with the same seed gives a byte-identical artifact', () => {
  const opts = { ...DEFAULT_TRAIN_OPTIONS, epochs: 3 };
  const a = serialiseModel(trainModel(examples, opts), { note: 'x' });
  const b = serialiseModel(trainModel(examples, opts), { note: 'x' });
  assert.equal(a, b);
  const c = serialiseModel(trainModel(examples, { ...opts, seed: opts.seed + 1 }), { note: 'x' });
  assert.notEqual(a, c, 'a different seed changes the order and so the weights');
});

test('the parsed (quantised) model predicts the training classes', () => {
  const m = parseModel(serialiseModel(trainModel(examples, { ...DEFAULT_TRAIN_OPTIONS, epochs: 3 }), {}));
  assert.equal(m.weights.length, 3 * FEATURE_DIM);
  for (const [feat, want] of [
    [[1, 2], 0],
    [[3, 4], 1],
    [[5, 6], 2],
  ] as const) {
    const p = predictProba(m, vec([...feat]));
    assert.equal(p.indexOf(Math.max(...p)), want);
  }
  assert.match(m.version, /^text-model:[0-9a-f]{16}$/);
});

test('pairwise precision and recall count pairs, not items', () => {
  const s = pairwiseScores(['a', 'a', 'a', 'b', 'b'], ['x', 'x', 'y', 'y', 'y']);
  // true pairs: 3 (a) + 1 (b) = 4; predicted pairs: 1 (x) + 3 (y) = 4; agreeing: a-a in x (1) + b-b in y (1) = 2
  assert.equal(s.truePairs, 4);
  assert.equal(s.predictedPairs, 4);
  assert.equal(s.precision, 0.5);
  assert.equal(s.recall, 0.5);
});
