import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DIALECTS, createTestDatabase } from '../../db/test-databases.ts';
import { REPO_ROOT } from '../../core/test-env.ts';
import { createLogger } from '../../core/logger.ts';
import { testConfig } from '../../core/config.ts';
import { buildMessage, newMessageId } from '../formats/mime.ts';
import {
  enqueueMail,
  enqueueWebhook,
  getOutboxEntry,
  listOutbox,
  outboxCounts,
  retryEntry,
  backoffMs,
} from './outbox.ts';
import { deliverRound, drainOutbox, type DeliveryOptions } from './delivery.ts';
import { closeTransports } from './transports.ts';
import { startSmtpSink, startWebhookSink } from '../test-sinks.ts';
import type { DB } from '../../db/dialect.ts';

const logger = createLogger(testConfig());

function mail(i: number) {
  const messageId = newMessageId('test.example');
  const raw = buildMessage(
    { from: 'desk@test.example', to: ['abuse@isp.example'], subject: `report ${i} — é`, messageId },
    { contentType: 'text/plain; charset=utf-8', encoding: '8bit', body: `body ${i}\r\n` },
  );
  return {
    messageId,
    envelopeFrom: 'desk@test.example',
    to: 'abuse@isp.example',
    raw,
    purpose: 'test',
    description: `mail ${i}`,
    maxAttempts: 5,
  };
}

function opts(db: DB, relayUrl: string | undefined): DeliveryOptions {
  return { db, logger, relayUrl, retryBaseMs: 1, leaseMs: 60_000 };
}

test('backoff doubles per attempt and is capped', () => {
  assert.equal(backoffMs(1, 1000), 1000);
  assert.equal(backoffMs(4, 1000), 8000);
  assert.equal(backoffMs(40, 1000), 6 * 60 * 60 * 1000);
});

for (const dialect of DIALECTS) {
  test(`[${dialect}] mail reaches a real SMTP sink byte-exact with its Message-ID; webhooks carry \
Idempotency-Key`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    const sink = await startSmtpSink();
    const hook = await startWebhookSink();
    try {
      const m = mail(1);
      await enqueueMail(tdb.db, m);
      await enqueueWebhook(tdb.db, {
        url: hook.url,
        idempotencyKey: 'key-1',
        contentType: 'application/json',
        body: Buffer.from('{"a":1}'),
        purpose: 'test',
        description: 'hook',
        maxAttempts: 3,
      });
      const r = await drainOutbox(opts(tdb.db, sink.url));
      assert.equal(r.sent, 2);
      assert.equal(sink.mails.length, 1);
      assert.equal(sink.mails[0].messageId, m.messageId);
      assert.deepEqual(sink.mails[0].to, ['abuse@isp.example']);
      assert.ok(sink.mails[0].raw.toString('latin1').includes('=?UTF-8?B?'), 'non-ASCII subject is RFC 2047 encoded');
      assert.equal(hook.calls[0].headers['idempotency-key'], 'key-1');
      assert.equal(hook.calls[0].body.toString(), '{"a":1}');
      assert.deepEqual(await outboxCounts(tdb.db), { queued: 0, sending: 0, sent: 2, dead: 0 });
    } finally {
      closeTransports();
      await sink.close();
      await hook.close();
      await tdb.drop();
    }
  });

  test(`[${dialect}] failures retry with backoff, 4xx is dead at once, dead entries are retried by hand`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    // 503, 503, then 200 for the first entry; the second URL answers 404 (permanent).
    const hook = await startWebhookSink((n) => (n <= 2 ? 503 : 200));
    const gone = await startWebhookSink(() => 404);
    try {
      const a = await enqueueWebhook(tdb.db, {
        url: hook.url,
        idempotencyKey: 'retry-me',
        contentType: 'application/json',
        body: Buffer.from('{}'),
        purpose: 'test',
        description: 'a',
        maxAttempts: 5,
      });
      const b = await enqueueWebhook(tdb.db, {
        url: gone.url,
        idempotencyKey: 'gone',
        contentType: 'application/json',
        body: Buffer.from('{}'),
        purpose: 'test',
        description: 'b',
        maxAttempts: 5,
      });
      for (let i = 0; i < 20 && (await getOutboxEntry(tdb.db, a))?.state !== 'sent'; i++) {
        await drainOutbox(opts(tdb.db, undefined));
        await new Promise((r) => setTimeout(r, 10));
      }
      const ea = await getOutboxEntry(tdb.db, a);
      assert.equal(ea?.state, 'sent');
      assert.equal(ea?.attempts, 3);
      assert.deepEqual(new Set(hook.calls.map((c) => c.headers['idempotency-key'])), new Set(['retry-me']));
      const eb = await getOutboxEntry(tdb.db, b);
      assert.equal(eb?.state, 'dead');
      assert.equal(eb?.attempts, 1);
      assert.match(eb?.last_error ?? '', /404/);
      assert.equal((await listOutbox(tdb.db, { state: 'dead' })).length, 1);
      gone.statusFor = () => 200;
      assert.equal(await retryEntry(tdb.db, b), true);
      await drainOutbox(opts(tdb.db, undefined));
      assert.equal((await getOutboxEntry(tdb.db, b))?.state, 'sent');
      assert.equal(await retryEntry(tdb.db, b), false, 'a sent entry is not sent again');
    } finally {
      await hook.close();
      await gone.close();
      await tdb.drop();
    }
  });

  test(`[${dialect}] mail waits queued while no relay is configured`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    try {
      await enqueueMail(tdb.db, mail(1));
      const r = await drainOutbox(opts(tdb.db, undefined));
      assert.equal(r.claimed, 0);
      assert.equal((await outboxCounts(tdb.db)).queued, 1);
    } finally {
      await tdb.drop();
    }
  });

  test(`[${dialect}] SIGKILL of the delivering process loses nothing; duplicates carry the same idempotency \
key`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    // The sink holds each reply, so the process is killed with mail in flight.
    const sink = await startSmtpSink({ delayMs: 40 });
    const hook = await startWebhookSink();
    const children: ChildProcess[] = [];
    try {
      const N = 20;
      const ids = new Set<string>();
      for (let i = 0; i < N; i++) {
        const m = mail(i);
        ids.add(m.messageId);
        await enqueueMail(tdb.db, m);
      }
      const keys = new Set<string>();
      for (let i = 0; i < 10; i++) {
        keys.add(`k${i}`);
        await enqueueWebhook(tdb.db, {
          url: hook.url,
          idempotencyKey: `k${i}`,
          contentType: 'application/json',
          body: Buffer.from(`{"i":${i}}`),
          purpose: 'test',
          description: 'w',
          maxAttempts: 5,
        });
      }
      const dbUrl =
        tdb.config.database.dialect === 'sqlite' ? `sqlite:${tdb.config.database.path}` : tdb.config.database.url;
      const start = (lease: number) => {
        const script = `import { startDeliveryLoop } from ${JSON.stringify(
          path.join(REPO_ROOT, 'src/actions/outbox/d' + 'elivery.ts'),
        )};
import { openDatabase } from ${JSON.stringify(path.join(REPO_ROOT, 'src/db/dialect.ts'))};
import { createLogger } from ${JSON.stringify(path.join(REPO_ROOT, 'src/core/logger.ts'))};
import { loadConfig } from ${JSON.stringify(path.join(REPO_ROOT, 'src/core/config.ts'))};
const config = loadConfig({ env: {}, flags: { databaseUrl: process.env.DB_URL, logLevel: 'silent' } });
const db = openDatabase(config.database);
startDeliveryLoop({ db, logger: createLogger(config), relayUrl: process.env.RELAY, retryBaseMs: 50, leaseMs: \
Number(process.env.LEASE), pollMs: 20 });`;
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          cwd: REPO_ROOT,
          env: { ...process.env, DB_URL: dbUrl, RELAY: sink.url, LEASE: String(lease) },
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        children.push(child);
        return child;
      };
      const first = start(60_000);
      await sink.waitFor(5, 30_000);
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      const countsAfterKill = await outboxCounts(tdb.db);
      assert.ok(
        countsAfterKill.queued + countsAfterKill.sending > 0,
        'the outbox still held messages when the process died',
      );
      // Restarted with a zero lease: entries the dead process had claimed are taken over at once.
      const second = start(0);
      // Liveness, not speed: fail only when nothing more is sent for a minute (a loaded machine
      // can take most of that to start the child).
      let lastSent = -1;
      let stalledSince = Date.now();
      for (;;) {
        const counts = await outboxCounts(tdb.db);
        if (counts.sent >= N + 10) break;
        if (counts.sent > lastSent) [lastSent, stalledSince] = [counts.sent, Date.now()];
        else if (Date.now() - stalledSince > 60_000) throw new Error(`not all delivered: ${JSON.stringify(counts)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      second.kill('SIGKILL');
      const got = new Set(sink.mails.map((m) => m.messageId));
      for (const id of ids) assert.ok(got.has(id), `mail ${id} reached the sink`);
      // Any duplicate is byte-identical with the same Message-ID, so the receiver can drop it.
      const byId = new Map<string, Buffer>();
      for (const m of sink.mails) {
        assert.ok(m.messageId && ids.has(m.messageId));
        const prev = byId.get(m.messageId);
        if (prev) assert.ok(prev.equals(m.raw), 'a redelivered mail is byte-identical');
        byId.set(m.messageId, m.raw);
      }
      const hookKeys = hook.calls.map((c) => String(c.headers['idempotency-key']));
      assert.deepEqual(new Set(hookKeys), keys);
      t.diagnostic(
        `mails delivered ${sink.mails.length} for ${N} queued (${sink.mails.length - N} duplicates), webhook calls \
${hook.calls.length} for 10`,
      );
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      closeTransports();
      await sink.close();
      await hook.close();
      await tdb.drop();
    }
  });
}

for (const dialect of DIALECTS) {
  test(`[${dialect}] a slow send past its lease is not taken and sent again by another process`, async (t) => {
    const tdb = await createTestDatabase(t, dialect);
    if (!tdb) return;
    t.after(() => tdb.drop());
    // A slow receiver: answers 2.5 s after the request, with a 1 s lease.
    const calls: string[] = [];
    const server = http.createServer((req, res) => {
      calls.push(String(req.headers['idempotency-key']));
      setTimeout(() => res.writeHead(200).end('ok'), 2500);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    await enqueueWebhook(tdb.db, {
      url,
      idempotencyKey: 'slow-1',
      contentType: 'application/json',
      body: Buffer.from('{}'),
      purpose: 'test',
      description: 'slow hook',
      maxAttempts: 3,
    });
    const lease = { ...opts(tdb.db, undefined), leaseMs: 1000 };
    const first = deliverRound({ ...lease, workerId: 'node-a' });
    await new Promise((r) => setTimeout(r, 1800));
    // Another process looks for abandoned entries after the lease would have run out.
    const second = await deliverRound({ ...lease, workerId: 'node-b' });
    assert.equal(second.claimed, 0, 'the entry is still held by the process sending it');
    assert.equal((await first).sent, 1);
    assert.deepEqual(calls, ['slow-1'], 'sent once');
    assert.deepEqual(await outboxCounts(tdb.db), { queued: 0, sending: 0, sent: 1, dead: 0 });
  });
}
