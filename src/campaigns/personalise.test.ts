/**
 * Robustness to personalisation: what a bulk sender changes per recipient (names, greetings,
 * tracking tokens, per-recipient URLs, hash-busters, dates) must not change the template, and
 * copies of real corpus spams stay above the join threshold while different spams stay below.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { analyse } from '../analysis/analyse.ts';
import { offlinePorts } from '../analysis/offline-ports.ts';
import { defaultAnalysisSettings } from '../analysis/settings.ts';
import { normaliseText, recipientNameTokens, looksRandom } from '../analysis/text/normalise.ts';
import { fingerprintOf } from './fingerprint.ts';
import { JOIN_THRESHOLD } from './cluster.ts';
import { similarity } from '../analysis/text/minhash.ts';
import { makeRecipient, personalise, seededRng, type BaseMessage } from './personalise.ts';

const ports = offlinePorts(new Date('2026-01-01T00:00:00Z'));
const settings = defaultAnalysisSettings();

describe('normalisation', () => {
  test('greeting lines, recipient names, numbers, URLs and hash-busters collapse to the template', () => {
    const names = recipientNameTokens([{ name: 'Anna Martin', address: 'anna.martin42@example.org' }]);
    const a = normaliseText(
      'Dear Anna Martin,\nAnna, your order 48213 of 12/03/2025 ships today: ' +
        'https://shop-x.com/t/9f8e7d?uid=abc123\nxkqzvbtw',
      names,
    );
    const b = normaliseText(
      'Hi Julie,\nJulie, your order 99120 of 01/07/2024 ships today: https://www.shop-x.com/t/zz?u=qq\nbrtkplmn',
      recipientNameTokens([{ name: 'Julie', address: 'j@x.example' }]),
    );
    assert.deepEqual(a.tokens, b.tokens);
    assert.deepEqual(a.tokens, ['your', 'order', '#', 'of', '#', 'ships', 'today', 'url', 'shop', 'x', 'com']);
  });

  test('random strings are recognised, words are not', () => {
    for (const w of ['xkqzvbtw', 'qwrtplkj', 'abkqzvtwplm', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'])
      assert.ok(looksRandom(w), w);
    for (const w of ['strengths', 'account', 'verification', 'bonjour', 'rhythm']) assert.ok(!looksRandom(w), w);
  });

  test('the generator is deterministic for a seed', () => {
    const base: BaseMessage = {
      subject: 's',
      from: 'a@b.example',
      text: 'hello world, visit https://x-offer.com/a',
      urls: ['https://x-offer.com/a'],
    };
    const r1 = seededRng(3);
    const r2 = seededRng(3);
    assert.ok(personalise(base, makeRecipient(r1), r1, 0).equals(personalise(base, makeRecipient(r2), r2, 0)));
  });
});

describe('personalised copies of real corpus spams', () => {
  const files = [
    'spamassassin/spam/00001.7848dde101aa985090474a91ec93fcf0',
    'spamassassin/spam/00005.57696a39d7d84318ce497886896bf90d',
    'spam_archive_2023_2025/2024/60_Official Message From Ministry of Economy and Finance_modified.eml',
    'phishing_pot/email/sample-10.eml',
  ];
  test('copies of one spam stay above the join threshold; copies of different spams stay below', async (t) => {
    if (!needsCorpus(t, 'spamassassin/spam')) return;
    const rng = seededRng(21);
    const sigs: Uint32Array[][] = [];
    for (const rel of files) {
      const abs = path.join(CORPUS_DIR, rel);
      if (!fs.existsSync(abs)) continue;
      const a = await analyse(fs.readFileSync(abs), { ports, settings });
      const base: BaseMessage = {
        subject: a.parse.subject ?? '',
        from: a.parse.from[0]?.address ?? 'x@spam.example',
        text: a.parse.visibleText,
        urls: a.indicators.urls
          .filter((u) => /^https?:/.test(u.url))
          .map((u) => u.url)
          .slice(0, 3),
      };
      const copies: Uint32Array[] = [];
      for (let i = 0; i < 5; i++) {
        const fp = fingerprintOf(await analyse(personalise(base, makeRecipient(rng), rng, i), { ports, settings }));
        assert.ok(fp.signature, `${rel} has enough text`);
        copies.push(fp.signature);
      }
      sigs.push(copies);
    }
    assert.ok(sigs.length >= 3);
    for (const copies of sigs) {
      for (let i = 1; i < copies.length; i++)
        assert.ok(
          similarity(copies[0], copies[i]) >= JOIN_THRESHOLD,
          `copy similarity ${similarity(copies[0], copies[i])}`,
        );
    }
    for (let i = 0; i < sigs.length; i++) {
      for (let j = i + 1; j < sigs.length; j++)
        assert.ok(similarity(sigs[i][0], sigs[j][0]) < JOIN_THRESHOLD, `spams ${i} and ${j}`);
    }
  });
});
