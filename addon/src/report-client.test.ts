/**
 * The report buttons' shared client: base64 both ways without losing a byte, every outcome put
 * into English and French words, the language picked from a BCP 47 tag, and an answer that is not
 * what the server should say (a 202 without a report, HTML from a proxy) taken as a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  base64ToBytes,
  bytesToBase64,
  describeOutcome,
  isRetryable,
  langOf,
  newIdempotencyKey,
  submitReport,
  type OutcomeKind,
} from './report-client.ts';

test('base64 and base64url round-trip every byte value, in large messages too', () => {
  const all = new Uint8Array(256 * 1024 + 3).map((_, i) => (i * 7) & 0xff);
  const b64 = bytesToBase64(all);
  assert.deepEqual(base64ToBytes(b64), all);
  assert.deepEqual(base64ToBytes(Buffer.from(all).toString('base64url')), all);
  assert.deepEqual(base64ToBytes(`${b64.slice(0, 76)}\r\n${b64.slice(76)}`), all, 'MIME line breaks');
  assert.throws(() => base64ToBytes('abc$'), /not base64/);
  assert.throws(() => base64ToBytes('a'), /not base64/);
});

test('the language follows the tag: French for every fr-*, English otherwise', () => {
  assert.deepEqual(['fr', 'fr-FR', 'FR-ca', 'fr_BE', 'en-US', 'de-DE', 'fry', '', undefined].map(langOf), [
    'fr',
    'fr',
    'fr',
    'fr',
    'en',
    'en',
    'en',
    'en',
    'en',
  ]);
});

test('every outcome has words in both languages, and only unavailable/network are retried', () => {
  const kinds: OutcomeKind[] = ['stored', 'auth', 'too-large', 'rejected', 'unavailable', 'network'];
  for (const kind of kinds) {
    for (const lang of ['en', 'fr'] as const) {
      const d = describeOutcome({ kind, detail: 'x', limitBytes: 25_000_000 }, lang, 'https://signal.example.fr');
      assert.ok(d.title.length > 3 && d.text.length > 10, `${kind}/${lang}`);
    }
  }
  assert.deepEqual(kinds.filter(isRetryable), ['unavailable', 'network']);
  assert.equal(
    describeOutcome({ kind: 'too-large', limitBytes: 25_000_000 }, 'fr', 'https://s.example').text,
    'Ce message dépasse la taille acceptée par le service (25 Mo). Il reste dans votre boîte ; rien n’a été envoyé.',
  );
  assert.match(
    describeOutcome({ kind: 'network' }, 'en', 'https://signal.example.fr:8443/x').text,
    /signal\.example\.fr:8443/,
  );
  assert.match(newIdempotencyKey(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('answers that are not what Spamdesk says are failures, with Retry-After kept', async (t) => {
  const answers: [number, Record<string, string>, string][] = [
    [202, { 'content-type': 'application/json' }, '{"reports":[]}'],
    [502, { 'content-type': 'text/html' }, '<html>Bad gateway</html>'],
    [503, { 'content-type': 'application/json', 'retry-after': '120' }, '{"error":"UNAVAILABLE","message":"busy"}'],
    [400, { 'content-type': 'application/json' }, '{"error":"NOT_AN_EMAIL","message":"The bytes are not an e-mail."}'],
  ];
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    const [status, headers, body] = answers[seen.length - 1];
    req.resume();
    res.writeHead(status, headers);
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const send = () =>
    submitReport({
      instanceUrl: `${url}/`,
      token: ' sdk_abc ',
      client: 'outlook',
      rawBase64: 'RnJvbTogYUBi\r\nLmMNCg0KeA0K',
      idempotencyKey: 'key-1',
      fetch,
    });
  assert.deepEqual(await send(), {
    kind: 'unavailable',
    status: 202,
    detail: 'The server answered 202 without a report id.',
  });
  assert.deepEqual(await send(), {
    kind: 'unavailable',
    status: 502,
    detail: 'HTTP 502 Bad Gateway',
    retryAfterSeconds: undefined,
  });
  assert.equal((await send()).retryAfterSeconds, 120);
  assert.deepEqual(await send(), { kind: 'rejected', status: 400, detail: 'The bytes are not an e-mail.' });
  assert.equal(seen[0].authorization, 'Bearer sdk_abc');
  assert.equal(seen[0]['idempotency-key'], 'key-1');
  assert.equal(seen[0]['x-spamdesk-client'], 'outlook');
});
