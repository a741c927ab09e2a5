import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { IdleCollector } from '../core/idle-collector.ts';
import { InflightBudget } from '../core/inflight-budget.ts';
import { decodeContent, decodeContentAsync, encodeContent } from '../evidence/store.ts';
import { collectorSource } from './platform.ts';

const CORPUS = path.resolve(import.meta.dirname, '../../../shared/corpus/spamassassin');

/** A real corpus message when the shared corpus is here, else a message of the same shape. */
function sampleMessage(): Buffer {
  try {
    const dir = fs.readdirSync(CORPUS, { withFileTypes: true }).find((e) => e.isDirectory());
    if (dir) {
      const file = fs.readdirSync(path.join(CORPUS, dir.name)).find((f) => !f.startsWith('cmds'));
      if (file) return fs.readFileSync(path.join(CORPUS, dir.name, file));
    }
  } catch {
    // Fall through.
  }
  return Buffer.from(`From: a@example.org\r\nSubject: x\r\n\r\n${'body line\r\n'.repeat(2000)}`);
}

test('the background roles collect once the stored messages they decoded stop coming (no intake budget in that process)', async () => {
  const raw = sampleMessage();
  const stored = encodeContent(raw);
  let gcs = 0;
  const c = new IdleCollector(collectorSource(new InflightBudget(1_000), false, true), {
    minBytes: raw.length * 3,
    gc: () => gcs++,
  });
  c.check();
  for (let i = 0; i < 2; i++) assert.deepEqual(decodeContent(stored.codec, stored.content, raw.length), raw);
  assert.deepEqual(await decodeContentAsync(stored.codec, stored.content, raw.length), raw);
  c.check();
  assert.equal(gcs, 0, 'messages decoded since the last check: still busy');
  c.check();
  assert.equal(gcs, 1, 'a whole check without a decoded message after three of them');
  c.check();
  assert.equal(gcs, 1, 'nothing new: no second collection');
});

test('a process with intake and background roles counts both, and waits for its intake to be idle', () => {
  const budget = new InflightBudget(1_000);
  let gcs = 0;
  const c = new IdleCollector(collectorSource(budget, true, true), { minBytes: 100, gc: () => gcs++ });
  c.check();
  const r = budget.tryReserve(200);
  c.check();
  c.check();
  assert.equal(gcs, 0, 'a message is in flight');
  r?.release();
  c.check();
  c.check();
  assert.equal(gcs, 1);
});
