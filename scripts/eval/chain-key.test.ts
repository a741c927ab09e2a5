import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CORPUS_DIR } from '../../src/core/test-env.ts';
import { batchOrder, chainKey } from './chain-key.ts';
import { distinctChains, type ChainResult, type LabelledChain } from './evaluate-traceback.ts';

const RECEIVED_A =
  'Received: from mx.example.net (mx.example.net [192.0.2.10])\r\n\tby hub.example.org; Mon, 1 Jul 2002\r\n';
const RECEIVED_B = 'Received: from sender.example.com ([198.51.100.7]) by mx.example.net; Mon, 1 Jul 2002\r\n';

test('two copies of a message with different filter headers and folding are one chain', () => {
  const one = Buffer.from(`${RECEIVED_A}${RECEIVED_B}X-Spam-Status: No\r\nSubject: hi\r\n\r\nbody\r\n`);
  const two = Buffer.from(
    `X-Filter: scanned\n${RECEIVED_A.replace(/\r\n\t/, '\n    ').replace(/\r\n/g, '\n')}` +
      `${RECEIVED_B.replace(/\r\n/g, '\n')}Subject: hi\n\nother body\n`,
  );
  assert.notDeepEqual(one, two);
  assert.equal(chainKey(one), chainKey(two));
});

test('a different hop, or the same hops in another order, is another chain', () => {
  const base = chainKey(Buffer.from(`${RECEIVED_A}${RECEIVED_B}\r\nbody`));
  assert.notEqual(chainKey(Buffer.from(`${RECEIVED_B}${RECEIVED_A}\r\nbody`)), base);
  assert.notEqual(
    chainKey(Buffer.from(`${RECEIVED_A}${RECEIVED_B.replace('198.51.100.7', '198.51.100.8')}\r\nbody`)),
    base,
  );
});

test('messages without any Received field are not copies of one another', () => {
  assert.equal(chainKey(Buffer.from('From: a@example.com\r\nSubject: one\r\n\r\nbody')), null);
  // A Received line in the body is not a header.
  assert.equal(chainKey(Buffer.from(`Subject: two\r\n\r\n${RECEIVED_A}`)), null);
});

const PAIR = [
  'spamassassin/hard_ham/00009.ddea79a02a9978cb3dafef3c05ff37a6',
  'spamassassin/hard_ham_20021010/0139.37c6b32ba39eaa510af007deef725ec2',
];

test('the SpamAssassin corpus keeps one Bochum message in two folders under different bytes: one chain', (t) => {
  const files = PAIR.map((p) => path.join(CORPUS_DIR, p));
  if (!files.every((f) => fs.existsSync(f))) {
    t.skip(`SKIP: corpus messages ${PAIR.join(', ')} absent (set SPAMDESK_CORPUS_DIR)`);
    return;
  }
  const [a, b] = files.map((f) => fs.readFileSync(f)) as [Buffer, Buffer];
  assert.notDeepEqual(a, b);
  assert.ok((chainKey(a) ?? '').split('\n').length >= 4);
  assert.equal(chainKey(a), chainKey(b));
});

test('batches sort in the order they were labelled, numbers as numbers', () => {
  // Objects, as the evaluator sorts them: Array.prototype.sort puts undefined values last without asking.
  const order = ['tb13', undefined, 'tb2', '13b', 'tb23', 'tb1', 'tb5']
    .map((batch) => ({ batch }))
    .sort((a, b) => batchOrder(a.batch, b.batch))
    .map((x) => x.batch);
  assert.deepEqual(order, [undefined, '13b', 'tb1', 'tb2', 'tb5', 'tb13', 'tb23']);
});

function result(p: string, over: Partial<LabelledChain>, got: string, origin = '192.0.2.1'): ChainResult {
  const chain: LabelledChain = {
    path: p,
    origin,
    class: 'isp',
    organisation: 'x',
    reason: 'r',
    split: 'held-out',
    ...over,
  };
  return { chain, got, ok: got === origin, lastStep: '' };
}

test('a chain labelled twice counts once: its first copy, development if any copy is, right if every copy is', () => {
  const results = [
    result('late-copy', { batch: 'tb23' }, '192.0.2.1'),
    result('other', { batch: 'tb5' }, '192.0.2.9'),
    result('first', { batch: 'tb17' }, '192.0.2.1'),
    result('dev-copy', { batch: 'tb18', split: 'development' }, '192.0.2.1'),
  ];
  const key = (c: LabelledChain) => (c.path === 'other' ? 'k2' : 'k1');
  const chains = distinctChains(results, key);
  assert.equal(chains.length, 2);
  const [other, one] = chains as [(typeof chains)[number], (typeof chains)[number]];
  assert.equal(other.result.chain.path, 'other');
  assert.equal(other.result.ok, false);
  assert.equal(one.result.chain.path, 'first');
  assert.equal(one.firstBatch, 'tb17');
  assert.equal(one.result.chain.split, 'development');
  assert.deepEqual(
    one.copies.map((c) => c.chain.path),
    ['first', 'dev-copy', 'late-copy'],
  );
  assert.equal(one.result.ok, true);
  assert.equal(one.disagreement, null);
});

test('copies that disagree are reported, and the chain is not right unless every copy is', () => {
  const label = distinctChains(
    [
      result('a', { batch: 'tb1' }, '192.0.2.1'),
      result('b', { batch: 'tb2', origin: '192.0.2.2' }, '192.0.2.1', '192.0.2.2'),
    ],
    () => 'k',
  );
  assert.match(label[0]?.disagreement ?? '', /^labels differ: a 192\.0\.2\.1, b 192\.0\.2\.2/);
  assert.equal(label[0]?.result.ok, false);
  const answer = distinctChains(
    [result('a', { batch: 'tb1' }, '192.0.2.1'), result('b', { batch: 'tb2' }, '192.0.2.5')],
    () => 'k',
  );
  assert.match(answer[0]?.disagreement ?? '', /^the walk answers differently/);
  assert.equal(answer[0]?.result.ok, false);
});
