/**
 * Large JSON uploads (`POST /api/v1/reports` with `{ raw: base64 }`) are decoded in a mail thread,
 * not on the event loop (issue 15): the thread's count says where the work ran, and what a client
 * gets — 202 with the same evidence, or the same 400/413 as before — does not change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { buildApp } from '../../app/build-app.ts';
import { createTestContext } from '../../app/test-context.ts';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { sha256Hex } from '../../core/ids.ts';
import { getMessageRaw } from '../../evidence/store.ts';
import { INLINE_MAX_BYTES } from '../smtp/take-apart.ts';
import { parseJsonSubmission } from './json-submission.ts';

const SPAM_DIR = path.join(CORPUS_DIR, 'spamassassin', 'spam');

/** A corpus spam, padded past the inline bound with text lines so its JSON body is a large one. */
function largeSpam(): Buffer {
  const name = fs
    .readdirSync(SPAM_DIR)
    .filter((f) => /^\d{5}\./.test(f))
    .sort()[5];
  const spam = fs.readFileSync(path.join(SPAM_DIR, name)).toString('latin1');
  const pad = 'the same offer again, and again, and again, to make the message large\n'.repeat(
    Math.ceil((2 * INLINE_MAX_BYTES) / 70),
  );
  return Buffer.from(`${spam}\n${pad}`, 'latin1');
}

async function harness(t: TestContext, overrides: Record<string, unknown> = {}) {
  if (!needsCorpus(t, 'spamassassin/spam')) return null;
  const h = await createTestContext(t, 'sqlite', overrides);
  if (!h) return null;
  const app = await buildApp(h.ctx);
  return {
    h,
    app,
    post: (payload: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        // The refusals are read in English; without the header they follow the region (fr).
        headers: { 'content-type': 'application/json', 'accept-language': 'en' },
        payload,
      }),
    async close() {
      await app.close();
      await h.close();
    },
  };
}

test('a large JSON upload is decoded in a mail thread and stored as sent; a small one stays inline', async (t) => {
  const s = await harness(t);
  if (!s) return;
  try {
    const raw = largeSpam();
    const r = await s.post(JSON.stringify({ raw: raw.toString('base64'), note: 'padded corpus spam' }));
    assert.equal(r.statusCode, 202, r.body);
    const [report] = r.json<{ reports: { id: string; sha256: string; size: number }[] }>().reports;
    assert.equal(report.sha256, sha256Hex(raw));
    assert.equal(report.size, raw.length);
    // The structural fact the fix is about: the body was parsed in the thread, not on the event loop.
    assert.equal(s.app.mailThreads.stats.jsonBodies, 1);
    assert.deepEqual(await getMessageRaw(s.h.ctx.db, report.sha256), raw);
    const row = await s.h.ctx.db
      .selectFrom('reports')
      .select(['note', 'channel'])
      .where('id', '=', report.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { note: 'padded corpus spam', channel: 'api' });

    const small = await s.post(JSON.stringify({ raw: raw.subarray(0, 4000).toString('base64') }));
    assert.equal(small.statusCode, 202, small.body);
    assert.equal(s.app.mailThreads.stats.jsonBodies, 1);
  } finally {
    await s.close();
  }
});

test('a large JSON upload refused in its thread gets the event loop answers: 400, 413, NOT_AN_EMAIL', async (t) => {
  const limit = 200 * 1024;
  const s = await harness(t, { maxMessageBytes: limit });
  if (!s) return;
  try {
    const raw = largeSpam();
    const b64 = raw.toString('base64');
    const cases: [string, string, number, string, RegExp][] = [
      ['not JSON', `{"raw": "${b64}`, 400, 'BAD_REQUEST', /not valid JSON/],
      ['not base64', JSON.stringify({ raw: `${b64.slice(0, -8)}!!!!!!!!` }), 400, 'BAD_REQUEST', /raw must be base64/],
      ['NUL in the note', JSON.stringify({ raw: b64, note: 'a\0b' }), 400, 'BAD_REQUEST', /NUL/],
      ['note too long', JSON.stringify({ raw: b64, note: 'n'.repeat(5000) }), 400, 'BAD_REQUEST', /note/],
      [
        'over the message limit',
        JSON.stringify({ raw: Buffer.concat([raw, raw]).toString('base64') }),
        413,
        'MESSAGE_TOO_LARGE',
        /limit of 204800 bytes/,
      ],
      [
        'not an e-mail',
        JSON.stringify({ raw: Buffer.alloc(100_000, 0x42).toString('base64') }),
        400,
        'NOT_AN_EMAIL',
        /./,
      ],
    ];
    for (const [name, payload, status, code, message] of cases) {
      assert.ok(payload.length > INLINE_MAX_BYTES, name);
      const r = await s.post(payload);
      assert.equal(r.statusCode, status, `${name}: ${r.body}`);
      assert.equal(r.json().error, code, name);
      assert.match(r.json().message, message, name);
      if (status === 413) assert.deepEqual(r.json().details, { limitBytes: limit });
    }
    const reports = await s.h.ctx.db.selectFrom('reports').select('id').execute();
    assert.equal(reports.length, 0);
  } finally {
    await s.close();
  }
});

test('parseJsonSubmission reads a body as Fastify does: BOM, UTF-8, nesting bound', () => {
  const body = Buffer.from(`\ufeff${JSON.stringify({ raw: Buffer.from('Subject: é\r\n\r\nx').toString('base64') })}`);
  assert.equal(parseJsonSubmission(body).raw.toString('utf8'), 'Subject: é\r\n\r\nx');
  let deep = '"x"';
  for (let i = 0; i < 40; i++) deep = `{"a":${deep}}`;
  assert.throws(() => parseJsonSubmission(Buffer.from(`{"raw":"QUJD","extra":${deep}}`)), /nested too deeply/);
});
