/**
 * The memory budget for messages in flight, over real HTTP: a large upload still being received
 * holds its share; another that does not fit gets 503 with Retry-After and a JSON reason, and is
 * taken once the first is answered. Nothing accepted is lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DIALECTS } from '../../db/test-databases.ts';
import { sha256Hex } from '../../core/ids.ts';
import { getMessageRaw } from '../../evidence/store.ts';
import { createTestApp, sampleSpam } from '../../web/test-helpers.ts';

function padded(id: string, size: number): Buffer {
  const head = sampleSpam({ id });
  return Buffer.concat([head, Buffer.from(`${'x'.repeat(76)}\r\n`.repeat(Math.ceil((size - head.length) / 78)))]);
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Starts a POST of `body`, sending only its first `sendFirst` bytes until `rest()` is called. */
function post(port: number, body: Buffer, sendFirst = body.length): { answer: Promise<Answer>; rest(): void } {
  let req!: http.ClientRequest;
  const answer = new Promise<Answer>((resolve, reject) => {
    req = http.request(
      {
        port,
        host: '127.0.0.1',
        method: 'POST',
        path: '/api/v1/reports',
        headers: { 'content-type': 'message/rfc822', 'content-length': body.length, 'accept-language': 'en' },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.write(body.subarray(0, sendFirst));
  });
  return { answer, rest: () => req.end(body.subarray(sendFirst)) };
}

for (const dialect of DIALECTS)
  test(`HTTP: beyond the in-flight memory budget a large upload gets 503 with Retry-After and a JSON reason, and is \
taken once there is room (${dialect})`, {
    timeout: 60_000,
  }, async (t) => {
    const s = await createTestApp(t, dialect, { maxMessageBytes: 400_000, intakeMemoryBudgetBytes: 500_000 });
    if (!s) return;
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = s.app.server.address() as AddressInfo;
    const first = padded('first', 300_000);
    const second = padded('second', 300_000);
    const slow = post(port, first, 1000);
    // Wait until the server holds the first upload's share.
    while (s.ctx.intakeBudget.inUse === 0) await new Promise((r) => setTimeout(r, 10));
    const refused = await post(port, second).answer;
    assert.equal(refused.status, 503, refused.body);
    assert.equal(refused.headers['retry-after'], '5');
    const reason = JSON.parse(refused.body) as { error: string; message: string };
    assert.equal(reason.error, 'UNAVAILABLE');
    assert.match(reason.message, /memory budget 500000 bytes.*retry in 5 s/);
    const small = await post(port, sampleSpam({ id: 'small' })).answer;
    assert.equal(small.status, 202, 'a small message is not held up by the budget');
    slow.rest();
    assert.equal((await slow.answer).status, 202);
    assert.equal(s.ctx.intakeBudget.inUse, 0, 'the budget is given back once answered');
    const retried = await post(port, second).answer;
    assert.equal(retried.status, 202, retried.body);
    for (const m of [first, second])
      assert.ok((await getMessageRaw(s.ctx.db, sha256Hex(m)))?.equals(m), 'stored byte for byte');
  });

test('HTTP: a client still sending a large upload the budget refused reads its 503, not a reset connection', {
  timeout: 60_000,
}, async (t) => {
  const s = await createTestApp(t, 'sqlite', { maxMessageBytes: 40_000_000, intakeMemoryBudgetBytes: 500_000 });
  if (!s) return;
  await s.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = s.app.server.address() as AddressInfo;
  const slow = post(port, padded('first', 300_000), 1000);
  while (s.ctx.intakeBudget.inUse === 0) await new Promise((r) => setTimeout(r, 10));
  // Far more than the socket buffers hold: the client is still writing when the refusal is sent.
  const big = padded('big', 30_000_000);
  for (let i = 0; i < 3; i++) {
    const refused = await fetch(`http://127.0.0.1:${port}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', 'accept-language': 'en' },
      body: new Uint8Array(big.buffer, big.byteOffset, big.length) as Uint8Array<ArrayBuffer>,
    });
    const body = await refused.text();
    assert.equal(refused.status, 503, body);
    assert.equal((JSON.parse(body) as { error: string }).error, 'UNAVAILABLE');
  }
  slow.rest();
  assert.equal((await slow.answer).status, 202);
});
