import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CORPUS_DIR, REPO_ROOT } from '../../src/core/test-env.ts';
import { chainKey } from './chain-key.ts';
import { loadChains, readLabelled } from './evaluate-traceback.ts';

test('a blind draw takes no chain labelled before under another path, and no chain twice', (t) => {
  if (!fs.existsSync(path.join(CORPUS_DIR, 'spamassassin', 'hard_ham_20021010'))) {
    t.skip(`SKIP: corpus ${CORPUS_DIR} absent (set SPAMDESK_CORPUS_DIR)`);
    return;
  }
  const labels = loadChains();
  const labelled = new Set(labels.chains.map((c) => chainKey(readLabelled(CORPUS_DIR, c.path))));
  // Seeds of rounds tb20 and tb23, whose draws took copies of labelled chains before the draw compared chains.
  for (const seed of [1313, 1316]) {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'scripts/eval/draw-traceback-batch.ts'), `--seed=${seed}`, '--size=30'],
      { cwd: REPO_ROOT, env: { ...process.env, SPAMDESK_CORPUS_DIR: CORPUS_DIR }, stdio: ['ignore', 'pipe', 'ignore'] },
    ).toString();
    const drawn = out.split('\n').filter(Boolean);
    // Each labelled round leaves fewer messages to draw (18 per seed after tb25): some, not a number.
    assert.ok(drawn.length > 0, `seed ${seed}: nothing drawn`);
    const keys = drawn.map((p) => chainKey(readLabelled(CORPUS_DIR, p)));
    for (const [i, p] of drawn.entries())
      assert.ok(!labelled.has(keys[i] ?? null), `seed ${seed}: ${p} is a copy of a labelled chain`);
    assert.equal(new Set(keys).size, keys.length, `seed ${seed}: a chain drawn twice`);
  }
});
