import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { sampleEmail } from '../../app/test-context.ts';
import { decodeContent } from '../../evidence/store.ts';
import { listSourceFiles } from './sources.ts';
import { MAX_BATCHES_AHEAD, preparedEntries, preparedEntriesThreaded, type PreparedEntry } from './prepared-entries.ts';

function tempDir(t: TestContext): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-prepared-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  return root;
}

const sep = Buffer.from('From sender@example.org Mon Jan  2 15:04:05 2006\n');

/** What an entry amounts to, comparable across the two pipelines. */
function summary(e: PreparedEntry): string {
  if (e.problem !== undefined)
    return `${e.origin} PROBLEM ${e.problem} ${e.raw === null ? 'null' : e.raw.toString('base64')}`;
  const raw = decodeContent(e.message.codec, e.message.content, e.message.size);
  return `${e.origin} ${e.envelope ?? '-'} ${e.message.sha256} ${e.message.size} ${e.message.codec} \
${raw.toString('base64')}`;
}

test(
  'the preparation thread yields exactly what the one-thread pipeline yields, in order, with ' + 'progress',
  async (t) => {
    const root = tempDir(t);
    // Enough entries for several batches, a streamed mbox (> 4 MB), problems of every kind.
    const many = Array.from({ length: 600 }, (_, i) =>
      sampleEmail(`m${i}`, { body: `body ${i} ${'x'.repeat(i * 13)}` }),
    );
    fs.writeFileSync(
      path.join(root, 'a.mbox'),
      Buffer.concat([Buffer.from('preamble\n\n'), ...many.flatMap((m) => [sep, m, Buffer.from('\n')])]),
    );
    fs.writeFileSync(
      path.join(root, 'big.mbox'),
      Buffer.concat(
        Array.from({ length: 300 }, (_, i) => [
          sep,
          sampleEmail(`b${i}`, { body: 'z'.repeat(20_000) }),
          Buffer.from('\n'),
        ]).flat(),
      ),
    );
    fs.writeFileSync(path.join(root, 'b.eml'), sampleEmail('single'));
    fs.writeFileSync(path.join(root, 'c.eml'), Buffer.from([0, 1, 2, 3, 0, 0, 255, 254, 10, 10]));
    fs.writeFileSync(path.join(root, 'd.eml'), '');
    fs.writeFileSync(path.join(root, 'e.eml'), sampleEmail('too big', { body: 'q'.repeat(30_000) }));
    const files = await listSourceFiles([root], () => assert.fail('no listing problem expected'));
    const opts = { maxMessageBytes: 25_000, mboxFormat: 'mboxrd' as const };

    const run = async (gen: typeof preparedEntries) => {
      const progress = { bytes: 0, files: 0 };
      const out: string[] = [];
      for await (const e of gen(files, {
        ...opts,
        onBytes: (n) => (progress.bytes += n),
        onFile: () => progress.files++,
      }))
        out.push(summary(e));
      return { out, progress };
    };
    const one = await run(preparedEntries);
    const threaded = await run(preparedEntriesThreaded);
    assert.equal(threaded.out.length, one.out.length);
    assert.deepEqual(threaded.out, one.out);
    assert.deepEqual(threaded.progress, one.progress);
    assert.equal(one.progress.files, files.length);
    assert.equal(
      one.progress.bytes,
      files.reduce((n, f) => n + f.size, 0),
    );
    assert.equal(
      one.out.filter((s) => s.includes(' PROBLEM ')).length,
      4,
      one.out.filter((s) => s.includes(' PROBLEM ')).join('\n'),
    );
    assert.ok(one.out.some((s) => /c\.eml PROBLEM The bytes are not an e-mail message/.test(s)));
    assert.ok(one.out.some((s) => /e\.eml PROBLEM message larger than 25000 bytes/.test(s)));
  },
);

test(
  'the preparation thread runs at most a few batches ahead of a slow importer, and ends when the importer ' + 'stops',
  async (t) => {
    const root = tempDir(t);
    const msgs = Array.from({ length: 4000 }, (_, i) => sampleEmail(`s${i}`));
    fs.writeFileSync(path.join(root, 'x.mbox'), Buffer.concat(msgs.flatMap((m) => [sep, m, Buffer.from('\n')])));
    const files = await listSourceFiles([root], () => undefined);
    let arrived = 0;
    let taken = 0;
    for await (const e of preparedEntriesThreaded(files, {
      maxMessageBytes: 1e6,
      mboxFormat: 'mboxrd',
      onBatchArrived: () => arrived++,
    })) {
      assert.equal(e.problem, undefined);
      if (++taken === 10) {
        // The importer is stuck in its first batch; the thread could prepare all 4,000 entries meanwhile.
        await new Promise((r) => setTimeout(r, 500));
        break;
      }
    }
    assert.equal(taken, 10);
    assert.ok(
      arrived >= 1 && arrived <= MAX_BATCHES_AHEAD,
      `${arrived} batches arrived while the first was being taken`,
    );
    // Returning from the loop terminated the thread; a thread left running would keep this test
    // file's process alive past its timeout.
  },
);
