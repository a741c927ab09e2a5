import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { createTestContext, sampleEmail } from '../../app/test-context.ts';
import { DIALECTS } from '../../db/test-databases.ts';
import { sha256Hex } from '../../core/ids.ts';
import { getMessageRaw } from '../../evidence/store.ts';
import { importPaths } from './importer.ts';
import { listSourceFiles, readAllEntries } from './sources.ts';

function tempTree(t: TestContext, files: Record<string, string | Buffer>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-import-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return root;
}

const mbox = (...msgs: Buffer[]) =>
  Buffer.concat(
    msgs.flatMap((m) => [Buffer.from('From sender@example.org Mon Jan  2 15:04:05 2006\n'), m, Buffer.from('\n')]),
  );

test(
  'a directory walk finds .eml files, mboxes and Maildir cur/new, ignoring tmp/ and non-message ' + 'files',
  async (t) => {
    const root = tempTree(t, {
      'a.eml': sampleEmail('a'),
      'nested/deeper/b.eml': sampleEmail('b'),
      'box.mbox': mbox(sampleEmail('m1'), sampleEmail('m2')),
      'Maildir/cur/1.host:2,S': sampleEmail('cur'),
      'Maildir/new/2.host': sampleEmail('new'),
      'Maildir/tmp/3.host': sampleEmail('tmp-in-progress'),
      'labels.csv': 'id,label\n',
      'notes.json': '{}',
      '.hidden.eml': sampleEmail('hidden'),
    });
    const files = await listSourceFiles([root], () => assert.fail('no problem expected'));
    assert.deepEqual(
      files.map((f) => path.relative(root, f.path)),
      ['Maildir/cur/1.host:2,S', 'Maildir/new/2.host', 'a.eml', 'box.mbox', 'nested/deeper/b.eml'],
    );
    const raws: string[] = [];
    for await (const e of readAllEntries(files, { maxMessageBytes: 1e6, mboxFormat: 'mboxrd' }))
      raws.push(e.raw?.toString() ?? '');
    assert.deepEqual(
      raws.map((r) => /You have won #(\S+)/.exec(r)?.[1]),
      ['cur', 'new', 'a', 'm1', 'm2', 'b'],
    );
    // A file named explicitly is read whatever its name; a missing path is a problem, not a crash.
    const problems: string[] = [];
    const explicit = await listSourceFiles([path.join(root, 'notes.json'), path.join(root, 'missing.eml')], (o, p) =>
      problems.push(`${o}: ${p}`),
    );
    assert.equal(explicit.length, 1);
    assert.match(problems[0], /missing\.eml: no such file/);
  },
);

for (const prepareThread of [true, false])
  test(`import stores every entry, parks malformed ones with file and line, goes on, and is idempotent \
(${prepareThread ? 'preparation thread' : 'one thread'})`, async (t) => {
    const h = await createTestContext(t, 'sqlite');
    if (!h) return;
    try {
      const big = sampleEmail('big', { body: 'y'.repeat(3000) });
      const root = tempTree(t, {
        '1.eml': sampleEmail(1),
        '2-not-mail.txt': 'just some text\nwithout headers\n',
        '3.mbox': Buffer.concat([
          Buffer.from('preamble that is not a message\n\n'),
          mbox(sampleEmail('mb-1'), big, Buffer.from('Not a header line\n\nbody\n'), sampleEmail('mb-4')),
        ]),
        '4.eml': sampleEmail(4),
        'dup.eml': sampleEmail(1),
      });
      const problems: string[] = [];
      const s = await importPaths(h.ctx.db, h.ctx.writer, [root], {
        maxMessageBytes: 2000,
        prepareThread,
        onProblem: (o, p) => problems.push(`${path.relative(root, o)}: ${p}`),
      });
      assert.equal(s.added, 4, JSON.stringify(s));
      assert.equal(s.alreadyPresent, 1, 'dup.eml has the same content as 1.eml');
      assert.equal(s.malformed, 4);
      assert.equal(problems.length, 4);
      assert.match(problems[0], /^2-not-mail\.txt: The bytes are not an e-mail message/);
      assert.match(problems[1], /^3\.mbox:1 \(offset 0\): text before the first "From " separator/);
      assert.match(problems[2], /^3\.mbox:\d+ \(offset \d+\): message larger than 2000 bytes/);
      assert.match(problems[3], /^3\.mbox:\d+ \(offset \d+\): The bytes are not an e-mail message/);
      const dead = await h.ctx.db.selectFrom('dead_letters').selectAll().orderBy('id').execute();
      assert.equal(dead.length, 4);
      assert.ok(dead.every((d) => d.source === 'import' && d.origin && d.reason));
      assert.ok(dead[0].payload?.toString().startsWith('just some text'), 'the malformed bytes are kept for replay');
      // The line number points at the separator of the oversized entry.
      const lines = fs.readFileSync(path.join(root, '3.mbox'), 'latin1').split('\n');
      const line = Number(/3\.mbox:(\d+)/.exec(problems[2])?.[1]);
      assert.ok(
        lines[line - 1].startsWith('From ') &&
          lines
            .slice(line, line + 8)
            .join('\n')
            .includes('You have won #big'),
      );

      const m = await getMessageRaw(h.ctx.db, sha256Hex(sampleEmail('mb-4')));
      assert.ok(
        m?.equals(sampleEmail('mb-4')),
        'an mbox entry is stored without its separator and trailing blank line',
      );
      const ctxRow = await h.ctx.db
        .selectFrom('reports')
        .select('context')
        .where('message_sha256', '=', sha256Hex(sampleEmail('mb-4')))
        .executeTakeFirstOrThrow();
      assert.equal(JSON.parse(ctxRow.context ?? '{}').envelope, 'From sender@example.org Mon Jan  2 15:04:05 2006');

      const flags = await h.ctx.db.selectFrom('reports').select('historical').execute();
      assert.ok(
        flags.every((r) => Number(r.historical) === 1),
        'an import is an archive unless told it is live',
      );

      const again = await importPaths(h.ctx.db, h.ctx.writer, [root], { maxMessageBytes: 2000, prepareThread });
      assert.equal(again.added, 0);
      assert.equal(again.alreadyPresent, 5);
      const n = await h.ctx.db
        .selectFrom('reports')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 4);
      assert.equal(
        (await h.ctx.db.selectFrom('dead_letters').select('id').execute()).length,
        4,
        'dead letters are not parked twice',
      );
    } finally {
      await h.close();
    }
  });

test('an import told the mail is live stores live reports', async (t) => {
  const h = await createTestContext(t, 'sqlite');
  if (!h) return;
  try {
    const root = tempTree(t, { 'a.eml': sampleEmail('live-1'), 'b.eml': sampleEmail('live-2') });
    const s = await importPaths(h.ctx.db, h.ctx.writer, [root], { maxMessageBytes: 2000, live: true });
    assert.equal(s.added, 2);
    const flags = await h.ctx.db.selectFrom('reports').select('historical').execute();
    assert.deepEqual(
      flags.map((r) => Number(r.historical)),
      [0, 0],
    );
  } finally {
    await h.close();
  }
});

for (const commitThread of [false, true])
  test(`a large mbox is streamed, with entries cut across read chunks${
    commitThread ? ' (into a writer with the ' + 'SQLite commit thread)' : ''
  }`, async (t) => {
    const h = await createTestContext(t, 'sqlite', {}, { commitThread });
    if (!h) return;
    try {
      // > 4 MB so it is streamed rather than read whole; 1 MB read chunks cut messages in between.
      const msgs = Array.from({ length: 700 }, (_, i) =>
        sampleEmail(`s${i}`, { body: `From the desk of ${i}\n${'z'.repeat(6000 + i)}` }),
      );
      const quoted = msgs.map((m) => Buffer.from(m.toString('latin1').replace(/^From /gm, '>From '), 'latin1'));
      const root = tempTree(t, { 'big.mbox': mbox(...quoted) });
      assert.ok(fs.statSync(path.join(root, 'big.mbox')).size > 4 * 1024 * 1024);
      const s = await importPaths(h.ctx.db, h.ctx.writer, [path.join(root, 'big.mbox')], { maxMessageBytes: 1e6 });
      assert.equal(s.added, 700);
      assert.equal(s.malformed, 0);
      for (const i of [0, 349, 699])
        assert.ok((await getMessageRaw(h.ctx.db, sha256Hex(msgs[i])))?.equals(msgs[i]), `message ${i}`);
    } finally {
      await h.close();
    }
  });

for (const dialect of DIALECTS)
  test(`import never follows a link out of the folder it was given, nor walks a link loop, and says what it skipped \
(${dialect})`, async (t) => {
    const h = await createTestContext(t, dialect);
    if (!h) return;
    try {
      // A file outside the folder that is a perfectly good message: if the link were followed, it
      // would be stored. It stands for /etc/shadow.
      const secret = sampleEmail('outside-secret');
      const outside = tempTree(t, { shadow: secret, 'dir/inner.eml': secret });
      const root = tempTree(t, { 'a.eml': sampleEmail('inside-a'), 'sub/b.eml': sampleEmail('inside-b') });
      fs.symlinkSync(path.join(outside, 'shadow'), path.join(root, 'shadow.eml'));
      fs.symlinkSync(path.join(outside, 'dir'), path.join(root, 'linked-dir'));
      fs.symlinkSync(`../sub/../../${path.basename(outside)}/shadow`, path.join(root, 'sub', 'relative.eml'));
      fs.symlinkSync('..', path.join(root, 'sub', 'loop'));
      fs.symlinkSync(path.join(root, 'sub', 'b.eml'), path.join(root, 'alias.eml'));
      fs.symlinkSync(path.join(root, 'nowhere'), path.join(root, 'dangling.eml'));
      const problems: string[] = [];
      const s = await importPaths(h.ctx.db, h.ctx.writer, [root], {
        maxMessageBytes: 1e6,
        onProblem: (o, p) => problems.push(`${path.relative(root, o)}: ${p}`),
      });
      assert.equal(s.added, 2, JSON.stringify({ s, problems }));
      assert.equal(s.alreadyPresent, 1, 'alias.eml links to sub/b.eml inside the folder: followed');
      assert.deepEqual(problems.map((p) => p.replace(/:.*/, '')).sort(), [
        'dangling.eml',
        'linked-dir',
        'shadow.eml',
        'sub/loop',
        'sub/relative.eml',
      ]);
      for (const p of problems.filter((x) => /^(shadow|linked-dir|sub\/relative)/.test(x)))
        assert.match(p, /skipped: symbolic link to .*outside the folder being imported/);
      assert.match(problems.find((p) => p.startsWith('sub/loop')) ?? '', /skipped: .* already being imported/);
      assert.match(problems.find((p) => p.startsWith('dangling')) ?? '', /skipped: symbolic link to nothing/);
      assert.equal(await getMessageRaw(h.ctx.db, sha256Hex(secret)), null, 'the outside file is not in the evidence');
      const dead = await h.ctx.db.selectFrom('dead_letters').select(['origin', 'payload']).execute();
      assert.equal(dead.length, 5);
      assert.ok(
        dead.every((d) => d.payload === null),
        'no bytes of a skipped link are parked',
      );
    } finally {
      await h.close();
    }
  });

test('a file swapped for a link after it was listed is not read', async (t) => {
  const outside = tempTree(t, { shadow: sampleEmail('outside-late') });
  const root = tempTree(t, { 'a.eml': sampleEmail('late-a') });
  const files = await listSourceFiles([root], () => assert.fail('no problem expected'));
  fs.rmSync(path.join(root, 'a.eml'));
  fs.symlinkSync(path.join(outside, 'shadow'), path.join(root, 'a.eml'));
  const entries = [];
  for await (const e of readAllEntries(files, { maxMessageBytes: 1e6, mboxFormat: 'mboxrd' })) entries.push(e);
  assert.equal(entries.length, 1);
  assert.equal(entries[0].raw, null);
  assert.match(entries[0].problem ?? '', /cannot read: .*ELOOP/);
});
