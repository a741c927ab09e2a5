/**
 * HTTP intake through `app.inject()` on a real database (SQLite here: the storage behaviour under
 * it is covered on both engines by db/storage.test.ts; one PostgreSQL pass checks the wiring).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse as InjectResponse } from 'fastify';
import { buildApp } from '../../app/build-app.ts';
import { createTestContext, sampleEmail, type TestAppContext } from '../../app/test-context.ts';
import { createToken } from '../../db/tokens.ts';
import { sha256Hex } from '../../core/ids.ts';
import type { DialectName } from '../../db/dialect.ts';
import type { TestContext } from 'node:test';

interface Harness {
  h: TestAppContext;
  app: FastifyInstance;
  close(): Promise<void>;
}

async function harness(
  t: TestContext,
  overrides: Record<string, unknown> = {},
  dialect: DialectName = 'sqlite',
): Promise<Harness | null> {
  const h = await createTestContext(t, dialect, overrides);
  if (!h) return null;
  const app = await buildApp(h.ctx);
  return {
    h,
    app,
    async close() {
      await app.close();
      await h.close();
    },
  };
}

/** A multipart/form-data body (RFC 7578) with files and fields. */
function multipart(parts: ({ name: string; filename: string; data: Buffer } | { name: string; value: string })[]) {
  const boundary = `----spamdesk${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disp =
      'filename' in p ? `form-data; name="${p.name}"; filename="${p.filename}"` : `form-data; name="${p.name}"`;
    const type = 'filename' in p ? 'Content-Type: message/rfc822\r\n' : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disp}\r\n${type}\r\n`));
    chunks.push('filename' in p ? p.data : Buffer.from(p.value));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

interface ErrorBody {
  error: string;
  message: string;
}

interface Submitted {
  reports: { id: string; sha256: string; size: number; duplicate: boolean; trackingUrl: string }[];
}

async function count(h: TestAppContext, table: 'reports' | 'messages' | 'jobs' | 'audit_log'): Promise<number> {
  const r = await h.ctx.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

describe('POST /api/v1/reports', () => {
  test('accepts the three body forms and answers 202 with ids and SHA-256', async (t) => {
    const s = await harness(t);
    if (!s) return;
    try {
      const raw1 = sampleEmail('rfc822');
      const r1 = await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        headers: { 'content-type': 'message/rfc822' },
        payload: raw1,
      });
      assert.equal(r1.statusCode, 202, r1.body);
      const b1 = r1.json<Submitted>();
      assert.equal(b1.reports.length, 1);
      assert.equal(b1.reports[0].sha256, sha256Hex(raw1));
      assert.equal(b1.reports[0].size, raw1.length);
      assert.match(b1.reports[0].id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
      assert.match(b1.reports[0].trackingUrl, /\/track\/[A-Za-z0-9_-]{24}$/);

      const files = [sampleEmail('mp-1'), sampleEmail('mp-2'), sampleEmail('mp-3')];
      const mp = multipart([
        ...files.map((data, i) => ({ name: 'file', filename: `m${i}.eml`, data })),
        { name: 'note', value: 'three in one go' },
      ]);
      const r2 = await s.app.inject({ method: 'POST', url: '/api/v1/reports', ...mp });
      assert.equal(r2.statusCode, 202, r2.body);
      const b2 = r2.json<Submitted>();
      assert.deepEqual(
        b2.reports.map((r) => r.sha256),
        files.map((f) => sha256Hex(f)),
      );

      const raw3 = sampleEmail('json');
      const r3 = await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        payload: { raw: raw3.toString('base64'), note: 'from JSON' },
      });
      assert.equal(r3.statusCode, 202, r3.body);
      assert.equal(r3.json<Submitted>().reports[0].sha256, sha256Hex(raw3));

      const notes = await s.h.ctx.db
        .selectFrom('reports')
        .select(['note', 'context', 'channel'])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        notes.map((n) => n.note),
        [null, 'three in one go', 'three in one go', 'three in one go', 'from JSON'],
      );
      assert.deepEqual(JSON.parse(notes[1].context ?? 'null'), { filename: 'm0.eml' });
      assert.ok(notes.every((n) => n.channel === 'api'));
      assert.equal(await count(s.h, 'messages'), 5);
      assert.equal(await count(s.h, 'jobs'), 5);
    } finally {
      await s.close();
    }
  });

  test('413 with a JSON reason at the configured limit, for every body form', async (t) => {
    const limit = 2000;
    const s = await harness(t, { maxMessageBytes: limit });
    if (!s) return;
    try {
      const atLimit = Buffer.concat([sampleEmail('limit'), Buffer.alloc(0)]);
      const fits = Buffer.concat([atLimit, Buffer.from('x'.repeat(limit - atLimit.length))]);
      assert.equal(fits.length, limit);
      const ok = await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        headers: { 'content-type': 'message/rfc822' },
        payload: fits,
      });
      assert.equal(ok.statusCode, 202, 'exactly at the limit is accepted');

      const over = Buffer.concat([fits, Buffer.from('x')]);
      const r1 = await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        headers: { 'content-type': 'message/rfc822', 'accept-language': 'en' },
        payload: over,
      });
      assert.equal(r1.statusCode, 413);
      assert.equal(r1.json().error, 'MESSAGE_TOO_LARGE');
      assert.match(r1.json().message, /2000 bytes/);

      const r2 = await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        ...multipart([{ name: 'file', filename: 'big.eml', data: over }]),
      });
      assert.equal(r2.statusCode, 413, r2.body);
      assert.equal(r2.json().error, 'MESSAGE_TOO_LARGE');

      const r3 = await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        payload: { raw: over.toString('base64') },
      });
      assert.equal(r3.statusCode, 413, r3.body);
      assert.equal(r3.json().error, 'MESSAGE_TOO_LARGE');

      const huge = Buffer.alloc(limit * 3, 'A').toString();
      const r4 = await s.app.inject({ method: 'POST', url: '/api/v1/reports', payload: { raw: huge } });
      assert.equal(r4.statusCode, 413, 'a JSON body beyond the request limit');
      assert.equal(r4.json().error, 'MESSAGE_TOO_LARGE');
      // The limit is in the answer, as intake.md says (clients tell their users the figure).
      for (const r of [r1, r2, r3, r4]) assert.deepEqual(r.json().details, { limitBytes: limit }, r.body);
      assert.equal(await count(s.h, 'reports'), 1);
    } finally {
      await s.close();
    }
  });

  test('400 with a JSON reason for bytes that are not an e-mail message', async (t) => {
    const s = await harness(t);
    if (!s) return;
    try {
      const cases: [string, Buffer, string][] = [
        ['empty', Buffer.alloc(0), 'EMPTY_MESSAGE'],
        ['blank', Buffer.from('\r\n\r\n  \n'), 'EMPTY_MESSAGE'],
        ['binary garbage', randomBytes(4096), 'NOT_AN_EMAIL'],
        ['no header block', Buffer.from('Hello,\n\nplease look at this spam I got.\n'), 'NOT_AN_EMAIL'],
        ['headers that are not a message', Buffer.from('Foo: bar\nBaz: qux\n\nbody\n'), 'NOT_AN_EMAIL'],
      ];
      for (const [name, payload, code] of cases) {
        const r: InjectResponse = await s.app.inject({
          method: 'POST',
          url: '/api/v1/reports',
          headers: { 'content-type': 'message/rfc822' },
          payload,
        });
        const body = r.json<ErrorBody>();
        assert.equal(r.statusCode, 400, `${name}: ${r.body}`);
        assert.equal(body.error, code, name);
        assert.ok(body.message.length > 10, name);
      }
      for (const raw of ['not base64!', 'QUJD=RA==', 'A', '']) {
        const r: InjectResponse = await s.app.inject({ method: 'POST', url: '/api/v1/reports', payload: { raw } });
        const body = r.json<ErrorBody>();
        assert.equal(r.statusCode, 400, `${JSON.stringify(raw)}: ${r.body}`);
        assert.equal(body.error, 'BAD_REQUEST');
        assert.match(body.message, /raw/);
      }
      const noFile = await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        ...multipart([{ name: 'note', value: 'forgot the file' }]),
      });
      assert.equal(noFile.statusCode, 400);
      const broken = await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        headers: { 'content-type': 'application/json' },
        payload: '{"raw": ',
      });
      assert.equal(broken.statusCode, 400);
      assert.equal(broken.json().error, 'BAD_REQUEST');
      const wrongType = await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        headers: { 'content-type': 'text/html' },
        payload: '<p>hi</p>',
      });
      assert.equal(wrongType.statusCode, 415);
      assert.equal(wrongType.json().error, 'UNSUPPORTED_MEDIA_TYPE');
      assert.equal(await count(s.h, 'reports'), 0);
      assert.equal(await count(s.h, 'messages'), 0);
    } finally {
      await s.close();
    }
  });

  test('a multipart upload with one bad file stores nothing', async (t) => {
    const s = await harness(t);
    if (!s) return;
    try {
      const r = await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        ...multipart([
          { name: 'file', filename: 'good1.eml', data: sampleEmail('g1') },
          { name: 'file', filename: 'photo.jpg', data: randomBytes(2048) },
          { name: 'file', filename: 'good2.eml', data: sampleEmail('g2') },
        ]),
      });
      assert.equal(r.statusCode, 400, r.body);
      assert.equal(r.json().error, 'NOT_AN_EMAIL');
      assert.match(r.json().message, /photo\.jpg/);
      assert.equal(await count(s.h, 'reports'), 0);
      assert.equal(await count(s.h, 'messages'), 0);
      assert.equal(await count(s.h, 'jobs'), 0);
    } finally {
      await s.close();
    }
  });

  test(
    'Idempotency-Key: a retry returns the stored reports, scoped per caller; reuse for another message is ' + '409',
    async (t) => {
      const s = await harness(t);
      if (!s) return;
      try {
        const tok = await createToken(s.h.ctx.db, { role: 'reporter' });
        const other = await createToken(s.h.ctx.db, { role: 'reporter' });
        const send = (raw: Buffer, key: string, secret = tok.secret) =>
          s.app.inject({
            method: 'POST',
            url: '/api/v1/reports',
            headers: { 'content-type': 'message/rfc822', 'idempotency-key': key, authorization: `Bearer ${secret}` },
            payload: raw,
          });
        const first = await send(sampleEmail('idem'), 'key-1');
        const retry = await send(sampleEmail('idem'), 'key-1');
        assert.equal(first.statusCode, 202);
        assert.equal(retry.statusCode, 202);
        assert.equal(retry.json<Submitted>().reports[0].id, first.json<Submitted>().reports[0].id);
        assert.equal(retry.json<Submitted>().reports[0].duplicate, true);
        const otherCaller = await send(sampleEmail('idem'), 'key-1', other.secret);
        assert.notEqual(otherCaller.json<Submitted>().reports[0].id, first.json<Submitted>().reports[0].id);
        const conflict = await send(sampleEmail('something else'), 'key-1');
        assert.equal(conflict.statusCode, 409);
        assert.equal(conflict.json().error, 'CONFLICT');
        const bad = await send(sampleEmail('x'), 'has space');
        assert.equal(bad.statusCode, 400);
        assert.equal(await count(s.h, 'reports'), 2);
      } finally {
        await s.close();
      }
    },
  );

  test('anonymous callers are rate-limited per client; a reporter token is not, and owns its reports', async (t) => {
    const s = await harness(t, { anonRateLimit: 3 });
    if (!s) return;
    try {
      const post = (i: number, headers: Record<string, string> = {}) =>
        s.app.inject({
          method: 'POST',
          url: '/api/v1/reports',
          headers: { 'content-type': 'message/rfc822', ...headers },
          payload: sampleEmail(`rl-${i}`),
        });
      for (let i = 0; i < 3; i++) assert.equal((await post(i)).statusCode, 202);
      const limited = await post(3);
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.json().error, 'RATE_LIMITED');
      const elsewhere = await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        remoteAddress: '198.51.100.9',
        headers: { 'content-type': 'message/rfc822' },
        payload: sampleEmail('rl-other'),
      });
      assert.equal(elsewhere.statusCode, 202, 'the limit is per client address');

      const tok = await createToken(s.h.ctx.db, { role: 'reporter', name: 'r1' });
      let last = '';
      for (let i = 10; i < 16; i++) {
        const r = await post(i, { authorization: `Bearer ${tok.secret}` });
        assert.equal(r.statusCode, 202);
        last = r.json<Submitted>().reports[0].id;
      }
      const row = await s.h.ctx.db
        .selectFrom('reports')
        .select(['reporter_token_id', 'client_ip'])
        .where('id', '=', last)
        .executeTakeFirstOrThrow();
      assert.equal(row.reporter_token_id, tok.id);
      const bad = await post(20, { authorization: 'Bearer sdk_nope' });
      assert.equal(bad.statusCode, 401);
      assert.equal(bad.json().error, 'INVALID_TOKEN');
    } finally {
      await s.close();
    }
  });
});

describe('reading reports and evidence', () => {
  test('raw evidence: 401 anonymous, 403 reporter, 200 byte-identical for an analyst, audited', async (t) => {
    const s = await harness(t);
    if (!s) return;
    try {
      const raw = Buffer.concat([sampleEmail('evidence'), Buffer.from([0xff, 0x00, 0x0d, 0x0a])]);
      const sub = await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        headers: { 'content-type': 'message/rfc822' },
        payload: raw,
      });
      const { sha256, id } = sub.json<Submitted>().reports[0];
      const url = `/api/v1/messages/${sha256}/raw`;
      const anon = await s.app.inject({ method: 'GET', url });
      assert.equal(anon.statusCode, 401);
      assert.equal(anon.json().error, 'UNAUTHENTICATED');
      const reporter = await createToken(s.h.ctx.db, { role: 'reporter' });
      const forbidden = await s.app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${reporter.secret}` },
      });
      assert.equal(forbidden.statusCode, 403);
      assert.equal(forbidden.json().error, 'FORBIDDEN');
      assert.equal(await count(s.h, 'audit_log'), 0);

      const analyst = await createToken(s.h.ctx.db, { role: 'analyst', name: 'desk' });
      const ok = await s.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${analyst.secret}` } });
      assert.equal(ok.statusCode, 200);
      assert.ok(ok.rawPayload.equals(raw), 'byte-identical');
      assert.match(String(ok.headers['content-type']), /^message\/rfc822/);
      assert.equal(ok.headers['x-content-type-options'], 'nosniff');
      const audit = await s.h.ctx.db.selectFrom('audit_log').selectAll().execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0].action, 'evidence.download');
      assert.equal(audit[0].subject, `message:${sha256}`);
      assert.match(audit[0].actor, new RegExp(analyst.id));

      const missing = await s.app.inject({
        method: 'GET',
        url: `/api/v1/messages/${'0'.repeat(64)}/raw`,
        headers: { authorization: `Bearer ${analyst.secret}` },
      });
      assert.equal(missing.statusCode, 404);
      const malformed = await s.app.inject({
        method: 'GET',
        url: '/api/v1/messages/xyz/raw',
        headers: { authorization: `Bearer ${analyst.secret}` },
      });
      assert.equal(malformed.statusCode, 400);

      const view = await s.app.inject({
        method: 'GET',
        url: `/api/v1/reports/${id}`,
        headers: { authorization: `Bearer ${analyst.secret}` },
      });
      assert.equal(view.statusCode, 200);
      assert.equal(view.json().message.sha256, sha256);
      assert.equal(view.json().reporter.clientIp, '127.0.0.1');
      const anonView = await s.app.inject({ method: 'GET', url: `/api/v1/reports/${id}` });
      assert.equal(anonView.statusCode, 401);
    } finally {
      await s.close();
    }
  });

  test('a reporter reads its own report without the reporter identity block, not others', async (t) => {
    const s = await harness(t);
    if (!s) return;
    try {
      const mine = await createToken(s.h.ctx.db, { role: 'reporter' });
      const theirs = await createToken(s.h.ctx.db, { role: 'reporter' });
      const sub = await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${mine.secret}` },
        payload: sampleEmail('own'),
      });
      const { id } = sub.json<Submitted>().reports[0];
      const own = await s.app.inject({
        method: 'GET',
        url: `/api/v1/reports/${id}`,
        headers: { authorization: `Bearer ${mine.secret}` },
      });
      assert.equal(own.statusCode, 200);
      assert.equal(own.json().reporter, undefined);
      const other = await s.app.inject({
        method: 'GET',
        url: `/api/v1/reports/${id}`,
        headers: { authorization: `Bearer ${theirs.secret}` },
      });
      assert.equal(other.statusCode, 403);
    } finally {
      await s.close();
    }
  });
});

describe('documentation and metrics', () => {
  test('OpenAPI is served at /api/docs and lists the intake routes', async (t) => {
    const s = await harness(t);
    if (!s) return;
    try {
      const ui = await s.app.inject({ method: 'GET', url: '/api/docs' });
      assert.ok(ui.statusCode === 200 || ui.statusCode === 302, String(ui.statusCode));
      const doc = await s.app.inject({ method: 'GET', url: '/api/docs/json' });
      assert.equal(doc.statusCode, 200);
      const spec = doc.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
      assert.match(spec.openapi, /^3\./);
      assert.ok(spec.paths['/api/v1/reports']?.post);
      assert.ok(spec.paths['/api/v1/reports/{id}']?.get);
      assert.ok(spec.paths['/api/v1/messages/{sha256}/raw']?.get);
    } finally {
      await s.close();
    }
  });

  test('/metrics exposes reports by channel, queue depth and errors', async (t) => {
    const s = await harness(t);
    if (!s) return;
    try {
      await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        headers: { 'content-type': 'message/rfc822' },
        payload: sampleEmail('m1'),
      });
      await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        payload: { raw: sampleEmail('m2').toString('base64') },
      });
      await s.h.ctx.writer.submitOne({ raw: sampleEmail('m3'), channel: 'import' });
      await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        headers: { 'content-type': 'message/rfc822' },
        payload: Buffer.alloc(0),
      });
      const m = await s.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(m.statusCode, 200);
      assert.match(m.body, /spamdesk_reports_received_total\{channel="api"\} 2/);
      assert.match(m.body, /spamdesk_reports_received_total\{channel="import"\} 1/);
      assert.match(m.body, /spamdesk_queue_depth\{kind="analyse-report",state="queued"\} 3/);
      assert.match(m.body, /spamdesk_errors_total\{kind="http_4xx"\} 1/);
    } finally {
      await s.close();
    }
  });

  test('the same intake works on PostgreSQL', async (t) => {
    const s = await harness(t, {}, 'postgres');
    if (!s) return;
    try {
      const raw = sampleEmail('pg');
      const r = await s.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        headers: { 'content-type': 'message/rfc822' },
        payload: raw,
      });
      assert.equal(r.statusCode, 202, r.body);
      const analyst = await createToken(s.h.ctx.db, { role: 'analyst' });
      const back = await s.app.inject({
        method: 'GET',
        url: `/api/v1/messages/${sha256Hex(raw)}/raw`,
        headers: { authorization: `Bearer ${analyst.secret}` },
      });
      assert.ok(back.rawPayload.equals(raw));
    } finally {
      await s.close();
    }
  });
});
