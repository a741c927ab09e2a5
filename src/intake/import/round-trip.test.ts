/**
 * Round trip over the shared corpora: every message of every corpus imported, then read back
 * byte-identical.
 *
 * SQLite takes the whole corpus (~16,000 messages, ~200 MB). PostgreSQL takes a deterministic
 * subset (every 10th file in sorted order): the full corpus there costs another minute or more of
 * CI on 2 cores for no new coverage — the storage code paths are identical (db/storage.test.ts
 * runs the same suite on both engines), and bench/import.ts imports the whole corpus into
 * PostgreSQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { TestContext } from 'node:test';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { createTestContext } from '../../app/test-context.ts';
import { sha256Hex } from '../../core/ids.ts';
import { AppError } from '../../core/errors.ts';
import { assertEmailMessage } from '../../evidence/message-check.ts';
import { decodeContent } from '../../evidence/store.ts';
import type { DialectName } from '../../db/dialect.ts';
import { importPaths } from './importer.ts';
import { listSourceFiles, readAllEntries, type SourceFile } from './sources.ts';

const MAX = 25 * 1024 * 1024;

async function roundTrip(
  t: TestContext,
  dialect: DialectName,
  pick: (files: SourceFile[]) => SourceFile[],
): Promise<void> {
  if (!needsCorpus(t)) return;
  const h = await createTestContext(t, dialect);
  if (!h) return;
  try {
    const { db, writer } = h.ctx;
    const files = pick(await listSourceFiles([CORPUS_DIR], () => undefined));
    const problems: string[] = [];
    const summary = await importPaths(
      db,
      writer,
      files.map((f) => f.path),
      { maxMessageBytes: MAX, onProblem: (origin, p) => problems.push(`${origin}: ${p}`) },
    );
    assert.ok(summary.added > 0);

    // Walk the sources again and check every entry against the database.
    const paths = new Set(files.map((f) => f.path));
    const expected = new Map<string, string>();
    let malformed = 0;
    for await (const e of readAllEntries(files, { maxMessageBytes: MAX, mboxFormat: 'mboxrd' })) {
      if (!e.raw || e.problem) {
        malformed++;
        continue;
      }
      try {
        assertEmailMessage(e.raw);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        malformed++;
        continue;
      }
      // A whole-file entry must be the file itself, byte for byte (independent of the splitter).
      if (paths.has(e.origin)) assert.ok(fs.readFileSync(e.origin).equals(e.raw), e.origin);
      expected.set(sha256Hex(e.raw), e.origin);
    }
    assert.equal(summary.malformed, malformed, problems.join('\n'));
    assert.equal(summary.added + summary.alreadyPresent + summary.malformed, summary.entries);
    assert.equal(summary.added, expected.size, 'one report per distinct message (import keys on content)');

    let checked = 0;
    let after = '';
    for (;;) {
      const rows = await db
        .selectFrom('messages')
        .select(['sha256', 'codec', 'content', 'size'])
        .where('sha256', '>', after)
        .orderBy('sha256')
        .limit(500)
        .execute();
      if (rows.length === 0) break;
      for (const r of rows) {
        after = r.sha256;
        const raw = decodeContent(r.codec, r.content, Number(r.size));
        assert.equal(sha256Hex(raw), r.sha256, `stored bytes of ${expected.get(r.sha256)}`);
        assert.ok(expected.delete(r.sha256), `unexpected message ${r.sha256}`);
        checked++;
      }
    }
    assert.deepEqual([...expected.values()], [], 'every source message is stored');
    assert.equal(checked, summary.added);
    const dead = await db
      .selectFrom('dead_letters')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(
      Number(dead.n),
      new Set(problems.map((p) => p.slice(0, p.indexOf(': ')))).size,
      'one dead letter per malformed origin',
    );
    t.diagnostic(
      `${dialect}: ${summary.entries} entries from ${summary.files} files, ${summary.added} stored, \
${summary.malformed} malformed, ${(summary.bytes / 1e6).toFixed(0)} MB in ${summary.seconds.toFixed(1)} s`,
    );
  } finally {
    await h.close();
  }
}

test('every message of every corpus round-trips byte-identical through SQLite', { timeout: 600_000 }, (t) =>
  roundTrip(t, 'sqlite', (f) => f),
);

test('a deterministic tenth of the corpus round-trips byte-identical through PostgreSQL', { timeout: 600_000 }, (t) =>
  roundTrip(t, 'postgres', (files) => files.filter((_, i) => i % 10 === 0)),
);
