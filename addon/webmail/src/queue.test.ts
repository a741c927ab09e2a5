/**
 * The extension's retry queue against a real Spamdesk: backoff schedule, nothing retried before
 * it is due, delivery once the instance is back (the same bytes, and a retry after a lost 202 is
 * not stored twice), a refused token waits for a new one, a refusal for good stays listed.
 * The store here is a Map behind the queue's two-method interface; in the browser it is
 * `storage.local` (webmail.e2e.test.ts runs the same code there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createToken, revokeToken } from '../../../src/db/tokens.ts';
import { needsCorpus } from '../../../src/core/test-env.ts';
import { bytesToBase64, submitReport } from '../../src/report-client.ts';
import { corpusMessages, sha256, startServer, storedReports } from '../../src/test-server.ts';
import {
  BASE_DELAY_MS,
  enqueue,
  MAX_DELAY_MS,
  nextDelayMs,
  nextDue,
  processQueue,
  readQueue,
  type KeyValueStore,
} from './queue.ts';

function memoryStore(): KeyValueStore {
  const m = new Map<string, unknown>();
  // Stored as JSON, as storage.local does: no object is shared between reads.
  return {
    get: async (k) => (m.has(k) ? JSON.parse(m.get(k) as string) : undefined),
    set: async (k, v) => {
      m.set(k, JSON.stringify(v));
    },
  };
}

function countingFetch(): { fetch: typeof fetch; calls: () => number } {
  let n = 0;
  return {
    fetch: (input, init) => {
      n++;
      return fetch(input, init);
    },
    calls: () => n,
  };
}

test('backoff doubles from one minute up to one hour, and a longer Retry-After wins', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => nextDelayMs(n) / 60_000),
    [1, 2, 4, 8, 16, 32, 60, 60, 60],
  );
  assert.equal(nextDelayMs(1, 300), 300_000);
  assert.equal(nextDelayMs(3, 10), 4 * BASE_DELAY_MS);
  assert.equal(nextDelayMs(1, 86_400), MAX_DELAY_MS);
});

test('a report kept while the instance is down is retried on schedule and delivered byte for byte', async (t) => {
  if (!needsCorpus(t, 'phishing_pot/email')) return;
  const s = await startServer(t);
  if (!s) return;
  const token = await createToken(s.ctx.db, { role: 'reporter', name: 'webmail' });
  const [message] = corpusMessages('phishing_pot/email', 1);
  const store = memoryStore();
  const t0 = Date.UTC(2026, 11, 2, 8, 0, 0);
  const down = { instanceUrl: 'http://127.0.0.1:9', token: token.secret };
  const rawBase64 = bytesToBase64(message.bytes);
  const first = await submitReport({
    ...down,
    client: 'webmail',
    rawBase64,
    idempotencyKey: 'k-1',
    fetch,
  });
  assert.equal(first.kind, 'network');
  const item = await enqueue(
    store,
    { id: 'k-1', provider: 'gmail', messageId: '18c2f0', rawBase64, size: message.bytes.length, createdAt: t0 },
    first,
    t0,
  );
  assert.equal(item.state, 'waiting');
  assert.equal(item.nextAttemptAt, t0 + 60_000);
  assert.equal(nextDue(await readQueue(store)), t0 + 60_000);

  // Not due yet: nothing is attempted.
  const early = countingFetch();
  await processQueue(store, { ...down, fetch: early.fetch }, t0 + 59_000);
  assert.equal(early.calls(), 0);

  // Due, still down: one attempt, then twice the wait.
  const again = countingFetch();
  const r1 = await processQueue(store, { ...down, fetch: again.fetch }, t0 + 60_000);
  assert.equal(again.calls(), 1);
  assert.equal(r1.remaining[0].attempts, 2);
  assert.equal(r1.remaining[0].nextAttemptAt, t0 + 60_000 + 120_000);
  assert.equal(r1.remaining[0].lastOutcome, 'network');

  // The instance is back (the user corrected the address): delivered, the queue is empty.
  const up = { instanceUrl: s.url, token: token.secret, fetch };
  const r2 = await processQueue(store, up, t0 + 180_000);
  assert.equal(r2.delivered.length, 1);
  assert.deepEqual(await readQueue(store), []);
  const [stored] = await storedReports(s);
  assert.equal(stored.sha256, sha256(message.bytes));
  assert.equal(stored.channel, 'addon');
  assert.equal(stored.tokenId, token.id);
});

test('a retry after a lost 202 is recognised by its Idempotency-Key and not stored twice', async (t) => {
  const s = await startServer(t);
  if (!s) return;
  const token = await createToken(s.ctx.db, { role: 'reporter', name: 'webmail' });
  const bytes = Buffer.from('From: a@example.org\r\nSubject: prize\r\nMessage-ID: <lost@example.org>\r\n\r\nwin\r\n');
  const rawBase64 = bytesToBase64(bytes);
  // The server stored it but the answer never came back: the item is still queued.
  const lost = await submitReport({
    instanceUrl: s.url,
    token: token.secret,
    client: 'webmail',
    rawBase64,
    idempotencyKey: 'k-lost',
    fetch,
  });
  assert.equal(lost.kind, 'stored');
  const store = memoryStore();
  await enqueue(
    store,
    { id: 'k-lost', provider: 'outlook', messageId: 'AAMk', rawBase64, size: bytes.length, createdAt: 0 },
    { kind: 'network', detail: 'socket hang up' },
    0,
  );
  const r = await processQueue(store, { instanceUrl: s.url, token: token.secret, fetch }, 60_000);
  assert.equal(r.delivered.length, 1);
  assert.equal((await storedReports(s)).length, 1, 'one report, not two');
});

test('a refused token holds the report until a new token; a refusal for good stays listed', async (t) => {
  const s = await startServer(t);
  if (!s) return;
  const old = await createToken(s.ctx.db, { role: 'reporter', name: 'webmail' });
  await revokeToken(s.ctx.db, old.id);
  const bytes = Buffer.from('From: a@example.org\r\nSubject: loan\r\nMessage-ID: <t@example.org>\r\n\r\ncash\r\n');
  const rawBase64 = bytesToBase64(bytes);
  const refused = await submitReport({
    instanceUrl: s.url,
    token: old.secret,
    client: 'webmail',
    rawBase64,
    idempotencyKey: 'k-auth',
    fetch,
  });
  assert.equal(refused.kind, 'auth');
  const store = memoryStore();
  const item = await enqueue(
    store,
    { id: 'k-auth', provider: 'gmail', messageId: '18c2f1', rawBase64, size: bytes.length, createdAt: 0 },
    refused,
    0,
  );
  assert.equal(item.state, 'needs-token');
  assert.equal(nextDue(await readQueue(store)), null, 'no alarm: waiting for the user');
  const counted = countingFetch();
  await processQueue(store, { instanceUrl: s.url, token: old.secret, fetch: counted.fetch }, 10 * MAX_DELAY_MS);
  assert.equal(counted.calls(), 0, 'not retried on schedule');

  // Something the server will never take, queued beside it.
  const notMail = bytesToBase64(Buffer.from('\u0000\u0001 binary garbage'));
  await enqueue(
    store,
    { id: 'k-bad', provider: 'gmail', messageId: '18c2f2', rawBase64: notMail, size: 17, createdAt: 0 },
    { kind: 'network' },
    0,
  );
  const fresh = await createToken(s.ctx.db, { role: 'reporter', name: 'webmail' });
  const r = await processQueue(store, { instanceUrl: s.url, token: fresh.secret, fetch }, 0, { force: true });
  assert.deepEqual(
    r.delivered.map((d) => d.id),
    ['k-auth'],
  );
  const left = await readQueue(store);
  assert.deepEqual(
    left.map((i) => [i.id, i.state, i.lastOutcome]),
    [['k-bad', 'refused', 'rejected']],
  );
  const [stored] = await storedReports(s);
  assert.equal(stored.tokenId, fresh.id);
  assert.equal(stored.sha256, sha256(bytes));
});
