import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { sql } from 'kysely';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { REPO_ROOT } from '../core/test-env.ts';
import { appendEntries, listAudit, pruneAudit, verifyAuditChain, writeAudit } from './audit.ts';

for (const dialect of DIALECTS) {
  test(`[${dialect}] the audit log is a hash chain: verify passes, then detects an edit, a removal, an insertion and a \
cut tail`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    try {
      const db = tdb.db;
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          writeAudit(db, {
            actor: `user:${i % 3}`,
            action: 'report.view',
            subject: `report:R${i}`,
            ip: '192.0.2.1',
            detail: { sha256: 'a'.repeat(64) },
          }),
        ),
      );
      await db.transaction().execute((trx) =>
        appendEntries(trx, [
          { actor: 'rule:X', action: 'evidence.package', subject: 'referral:P1' },
          { actor: 'rule:X', action: 'outbox.queued', subject: 'outbox:O1' },
        ]),
      );
      const good = await verifyAuditChain(db);
      assert.deepEqual(good.problems, []);
      assert.equal(good.checked, 32);
      assert.equal(good.head?.seq, 32);
      const seqs = (await listAudit(db, { limit: 1000 })).map((r) => Number(r.seq)).sort((a, b) => a - b);
      assert.deepEqual(
        seqs,
        Array.from({ length: 32 }, (_, i) => i + 1),
        'one entry per number, no gap',
      );

      // Edited: someone changes who looked at a report.
      await db.updateTable('audit_log').set({ actor: 'user:nobody' }).where('seq', '=', 7).execute();
      const edited = await verifyAuditChain(db);
      assert.equal(edited.ok, false);
      assert.ok(
        edited.problems.some((p) => p.startsWith('entry 7 ') && p.includes('edited')),
        edited.problems.join('\n'),
      );
      await db.updateTable('audit_log').set({ actor: 'user:0' }).where('seq', '=', 7).execute();
      assert.deepEqual((await verifyAuditChain(db)).problems, [], 'restored, it verifies again');

      // An anchor recorded now catches a later rewrite of the whole chain from entry 10 on.
      const anchor = {
        seq: 20,
        hash:
          good.head &&
          (await db.selectFrom('audit_log').select('hash').where('seq', '=', 20).executeTakeFirstOrThrow()).hash,
      };
      assert.ok(anchor.hash);

      // Removed in the middle.
      const removed = await db.selectFrom('audit_log').selectAll().where('seq', '=', 12).executeTakeFirstOrThrow();
      await db.deleteFrom('audit_log').where('seq', '=', 12).execute();
      const gap = await verifyAuditChain(db);
      assert.ok(
        gap.problems.some((p) => p.includes('entries 12–12 are missing')),
        gap.problems.join('\n'),
      );
      await db.insertInto('audit_log').values(removed).execute();

      // Inserted outside the chain.
      await db
        .insertInto('audit_log')
        .values({
          id: 'X1',
          at: new Date().toISOString(),
          actor: 'intruder',
          action: 'report.view',
          subject: 'report:R1',
          ip: null,
          detail: null,
          seq: null,
          prev_hash: null,
          hash: null,
        })
        .execute();
      assert.ok((await verifyAuditChain(db)).problems.some((p) => p.includes('outside the chain')));
      await db.deleteFrom('audit_log').where('id', '=', 'X1').execute();

      // The tail cut off (the last entries deleted): the head row still names entry 32.
      await db.deleteFrom('audit_log').where('seq', '>', 30).execute();
      const cut = await verifyAuditChain(db);
      assert.ok(
        cut.problems.some((p) => p.includes('ends at entry 30 but its head records entry 32')),
        cut.problems.join('\n'),
      );

      // Rewriting everything consistently (and the head) is caught by an anchor kept outside.
      await sql`update audit_log set subject = 'report:forged' where seq = 20`.execute(db);
      const rewritten = await verifyAuditChain(db, { anchors: [{ seq: 20, hash: anchor.hash ?? '' }] });
      assert.ok(
        rewritten.problems.some((p) => p.includes('entry 20')),
        rewritten.problems.join('\n'),
      );
    } finally {
      await tdb.drop();
    }
  });

  test(`[${dialect}] two processes appending at the same time never fork the chain`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    try {
      const url =
        tdb.config.database.dialect === 'sqlite' ? `sqlite:${tdb.config.database.path}` : tdb.config.database.url;
      const N = 60;
      const run = (label: string) =>
        new Promise<void>((resolve, reject) => {
          const p = spawn(
            process.execPath,
            ['--import', 'tsx', path.join(REPO_ROOT, 'src/evidence/test-audit-appender.ts'), url, String(N), label],
            { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
          );
          let err = '';
          p.stderr.on('data', (d: Buffer) => (err += d.toString()));
          p.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`appender ${label} exited ${code}: ${err}`)),
          );
        });
      // And this process appends too, meanwhile.
      const here = Promise.all(
        Array.from({ length: N }, (_, i) =>
          writeAudit(tdb.db, { actor: 'process:test', action: 'test.append', subject: `entry:test:${i}` }),
        ),
      );
      await Promise.all([run('a'), run('b'), here]);
      const v = await verifyAuditChain(tdb.db);
      assert.deepEqual(v.problems, []);
      assert.equal(v.checked, 3 * N);
      const subjects = new Set((await listAudit(tdb.db, { limit: 1000 })).map((r) => r.subject));
      assert.equal(subjects.size, 3 * N, 'every append is in the chain exactly once');
    } finally {
      await tdb.drop();
    }
  });

  test(`[${dialect}] retention prunes the oldest entries behind a checkpoint and the rest still \
verifies`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    try {
      for (let i = 0; i < 4; i++)
        await writeAudit(tdb.db, { actor: 'a', action: 'report.view', subject: `report:old${i}` });
      await new Promise((r) => setTimeout(r, 5));
      const cutoff = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      for (let i = 0; i < 6; i++)
        await writeAudit(tdb.db, { actor: 'a', action: 'report.view', subject: `report:new${i}` });
      const pruned = await pruneAudit(tdb.db, cutoff);
      assert.equal(pruned, 4);
      const v = await verifyAuditChain(tdb.db);
      assert.deepEqual(v.problems, []);
      assert.equal(v.startsAfter, pruned);
      assert.equal(v.checked, 10 - pruned);
      await writeAudit(tdb.db, { actor: 'a', action: 'report.view', subject: 'report:after' });
      assert.deepEqual((await verifyAuditChain(tdb.db)).problems, []);
    } finally {
      await tdb.drop();
    }
  });
}

test(
  '`spamdesk audit verify` exits 0 on an intact chain and 1 on an edited one, and checks a kept ' + 'anchor',
  async (t) => {
    const tdb = await createTestDatabase(t, 'sqlite');
    if (!tdb) return;
    try {
      for (let i = 0; i < 5; i++)
        await writeAudit(tdb.db, { actor: 'user:a', action: 'evidence.view-report', subject: `report:${i}` });
      const args = [
        '--database-url',
        `sqlite:${tdb.config.database.dialect === 'sqlite' ? tdb.config.database.path : ''}`,
        '--data-dir',
        tdb.config.dataDir,
      ];
      const run = (extra: string[]) =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const p = spawn(
            process.execPath,
            ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'audit', 'verify', ...args, ...extra],
            { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] },
          );
          let out = '';
          p.stdout.on('data', (d: Buffer) => (out += d.toString()));
          p.on('exit', (code) => resolve({ code, out }));
        });
      const ok = await run([]);
      assert.equal(ok.code, 0, ok.out);
      const head = /head: (\d+:[0-9a-f]{64})/.exec(ok.out)?.[1];
      assert.ok(head, ok.out);
      assert.equal((await run(['--anchor', head])).code, 0);
      await tdb.db.updateTable('audit_log').set({ subject: 'report:other' }).where('seq', '=', 3).execute();
      const broken = await run(['--anchor', head]);
      assert.equal(broken.code, 1);
      assert.match(broken.out, /PROBLEM entry 3 .*edited/);
    } finally {
      await tdb.drop();
    }
  },
);
