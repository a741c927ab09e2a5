import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { getDomain } from 'tldts';
import { CORPUS_DIR, REPO_ROOT } from '../../src/core/test-env.ts';
import { chainKey } from './chain-key.ts';
import { loadChains, readLabelled } from './evaluate-traceback.ts';

/** The paths the draw script prints for these arguments (the corpus as SPAMDESK_CORPUS_DIR gives it). */
function draw(...args: string[]): string[] {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(REPO_ROOT, 'scripts/eval/draw-traceback-batch.ts'), ...args],
    { cwd: REPO_ROOT, env: { ...process.env, SPAMDESK_CORPUS_DIR: CORPUS_DIR }, stdio: ['ignore', 'pipe', 'ignore'] },
  ).toString();
  return out.split('\n').filter(Boolean);
}

/** Chain keys of every labelled path. */
function labelledChains(): Set<string | null> {
  return new Set(loadChains().chains.map((c) => chainKey(readLabelled(CORPUS_DIR, c.path))));
}

test('a blind draw takes no chain labelled before under another path, and no chain twice', (t) => {
  if (!fs.existsSync(path.join(CORPUS_DIR, 'spamassassin', 'hard_ham_20021010'))) {
    t.skip(`SKIP: corpus ${CORPUS_DIR} absent (set SPAMDESK_CORPUS_DIR)`);
    return;
  }
  const labelled = labelledChains();
  // Seeds of rounds tb20 and tb23, whose draws took copies of labelled chains before the draw compared chains.
  for (const seed of [1313, 1316]) {
    const drawn = draw(`--seed=${seed}`, '--size=30');
    // Each labelled round leaves fewer messages to draw (18 per seed after tb25): some, not a number.
    assert.ok(drawn.length > 0, `seed ${seed}: nothing drawn`);
    const keys = drawn.map((p) => chainKey(readLabelled(CORPUS_DIR, p)));
    for (const [i, p] of drawn.entries())
      assert.ok(!labelled.has(keys[i] ?? null), `seed ${seed}: ${p} is a copy of a labelled chain`);
    assert.equal(new Set(keys).size, keys.length, `seed ${seed}: a chain drawn twice`);
  }
});

test('the big-provider stratum draws only chains received by Gmail or Microsoft 365, two per sender domain', (t) => {
  if (!fs.existsSync(path.join(CORPUS_DIR, 'phishing_pot'))) {
    t.skip(`SKIP: corpus ${CORPUS_DIR} absent (set SPAMDESK_CORPUS_DIR)`);
    return;
  }
  const labelled = labelledChains();
  const drawn = draw('--seed=1401', '--size=30', '--big-providers');
  assert.ok(drawn.length > 0, 'nothing drawn');
  const senders = new Map<string, number>();
  for (const p of drawn) {
    const raw = readLabelled(CORPUS_DIR, p);
    assert.ok(!labelled.has(chainKey(raw)), `${p} is a copy of a labelled chain`);
    const head = raw.toString('latin1').split(/\r?\n\r?\n/, 1)[0] ?? '';
    const bys = [...head.matchAll(/^received:[^\n]*(?:\r?\n[ \t][^\n]*)*/gim)]
      .slice(0, 2)
      .map((m) => /\bby\s+([^\s;()]+)/i.exec(m[0])?.[1] ?? '');
    assert.ok(
      bys.some((b) => /google\.com|gmail|outlook\.com|hotmail|microsoft|office365/i.test(b)),
      `${p}: first receivers ${bys.join(', ')}`,
    );
    // As the draw reads it: the unfolded From field's first address with a dotted domain, `?` when there is none.
    const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
    const from = /^from:[^\n]*?@([a-z0-9.-]+\.[a-z]{2,})/im.exec(unfolded)?.[1]?.toLowerCase() ?? '?';
    const domain = getDomain(from) ?? from;
    senders.set(domain, (senders.get(domain) ?? 0) + 1);
  }
  assert.ok(Math.max(...senders.values()) <= 2, `a sender domain drawn too often: ${[...senders].join(' ')}`);
});
