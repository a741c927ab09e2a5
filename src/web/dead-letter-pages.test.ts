/**
 * Intake dead letters in the workbench, on both databases: a real import parks its malformed
 * entries; staff see them with the reason; a retry of a copy that still fails says why and keeps
 * it open, a retry of a copy that now passes stores one report (the same one a re-import would
 * make); dismiss closes; the kept copy is downloadable only as audited evidence; other roles see
 * nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIALECTS, createTestDatabase } from '../db/test-databases.ts';
import { createContext, closeContext } from '../app/context.ts';
import { importPaths } from '../intake/import/importer.ts';
import { buildApp } from '../app/build-app.ts';
import { postForm, sampleSpam, userWithSession } from './test-helpers.ts';

for (const dialect of DIALECTS) {
  test(`intake dead letters: list, retry, dismiss (${dialect})`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, migrate: false });
    const app = await buildApp(ctx);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-dl-'));
    t.after(async () => {
      await app.close();
      await closeContext(ctx, { keepDb: true });
      await tdb.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const { db, config } = ctx;
    const analyst = await userWithSession(db, config, 'analyst');
    const reporter = await userWithSession(db, config, 'reporter');

    fs.writeFileSync(path.join(dir, 'good.eml'), sampleSpam({ subject: 'Fine' }));
    fs.writeFileSync(path.join(dir, 'text.eml'), 'just some words, no header at all\n');
    fs.writeFileSync(path.join(dir, 'empty.eml'), '');
    const summary = await importPaths(db, ctx.writer, [dir], { maxMessageBytes: config.maxMessageBytes });
    assert.equal(summary.added, 1);
    assert.equal(summary.malformed, 2);
    const letters = await db.selectFrom('dead_letters').selectAll().orderBy('origin').execute();
    assert.equal(letters.length, 2);
    const text = letters.find((l) => (l.origin ?? '').includes('text.eml'));
    assert.ok(text);
    const get = (url: string, cookie: string) =>
      app.inject({ method: 'GET', url, headers: { cookie, 'accept-language': 'en' } });

    await t.test('staff see every waiting dead letter with its reason; other roles are refused', async () => {
      const res = await get('/workbench/dead-letters', analyst.cookie);
      assert.equal(res.statusCode, 200);
      for (const l of letters) assert.ok(res.body.includes(`data-dead-letter-id="${l.id}"`));
      assert.ok(
        res.body.includes(
          text.reason.replace(/&/g, '&amp;').replace(/'/g, '&#39;').replace(/"/g, '&quot;').slice(0, 20),
        ),
      );
      assert.equal((await get('/workbench/dead-letters', reporter.cookie)).statusCode, 403);
    });

    await t.test('a retry that fails again says why and keeps the entry waiting', async () => {
      const res = await postForm(
        app,
        `/workbench/dead-letters/${text.id}/retry`,
        { _csrf: analyst.csrf },
        analyst.cookie,
      );
      assert.equal(res.statusCode, 303);
      assert.match(String(res.headers.location), /done=refused/);
      const row = await db
        .selectFrom('dead_letters')
        .select('retried_at')
        .where('id', '=', text.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.retried_at, null);
      const page = await get('/workbench/dead-letters', analyst.cookie);
      assert.ok(page.body.includes(`data-dead-letter-id="${text.id}"`));
    });

    await t.test('a kept copy that now passes becomes a report, once; the entry is closed', async () => {
      // What an operator does after fixing the cause: here, the kept copy is now a valid message.
      await db
        .updateTable('dead_letters')
        .set({ payload: sampleSpam({ subject: 'Repaired' }) })
        .where('id', '=', text.id)
        .execute();
      const before = (await db.selectFrom('reports').select('id').execute()).length;
      const res = await postForm(
        app,
        `/workbench/dead-letters/${text.id}/retry`,
        { _csrf: analyst.csrf },
        analyst.cookie,
      );
      assert.match(String(res.headers.location), /done=retried&report=/);
      const reports = await db.selectFrom('reports').selectAll().orderBy('id').execute();
      assert.equal(reports.length, before + 1);
      const stored = reports[reports.length - 1];
      assert.equal(stored.channel, 'import');
      assert.equal(JSON.parse(stored.context ?? '{}').deadLetter, text.id);
      const again = await postForm(
        app,
        `/workbench/dead-letters/${text.id}/retry`,
        { _csrf: analyst.csrf },
        analyst.cookie,
      );
      assert.equal(again.statusCode, 409, 'a closed entry is not retried twice');
      const closed = await get('/workbench/dead-letters?state=closed', analyst.cookie);
      assert.ok(closed.body.includes(`data-dead-letter-id="${text.id}"`));
      assert.ok(closed.body.includes(`/workbench/reports/${stored.id}`));
      const audit = await db.selectFrom('audit_log').selectAll().where('action', '=', 'dead-letter.retry').execute();
      assert.equal(audit.length, 2, 'the refused and the successful retry');
    });

    await t.test('dismiss closes an entry without a copy; CSRF is required', async () => {
      const empty = letters.find((l) => l.id !== text.id);
      assert.ok(empty);
      assert.equal(
        (await postForm(app, `/workbench/dead-letters/${empty.id}/dismiss`, {}, analyst.cookie)).statusCode,
        403,
      );
      const res = await postForm(
        app,
        `/workbench/dead-letters/${empty.id}/dismiss`,
        { _csrf: analyst.csrf },
        analyst.cookie,
      );
      assert.equal(res.statusCode, 303);
      const open = await get('/workbench/dead-letters', analyst.cookie);
      assert.ok(!open.body.includes(`data-dead-letter-id="${empty.id}"`));
      assert.ok(open.body.includes('No dead letter.'));
      const action = await db
        .selectFrom('web_dead_letter_actions')
        .selectAll()
        .where('dead_letter_id', '=', empty.id)
        .executeTakeFirstOrThrow();
      assert.equal(action.action, 'dismissed');
      assert.match(action.actor, /analyst/);
    });

    await t.test('the kept copy downloads as audited evidence', async () => {
      const res = await get(`/workbench/dead-letters/${text.id}/copy`, analyst.cookie);
      assert.equal(res.statusCode, 200);
      assert.ok(res.body.includes('Subject: Repaired'));
      const audit = await db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'evidence.download-dead-letter')
        .execute();
      assert.equal(audit.length, 1);
    });
  });
}
