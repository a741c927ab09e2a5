/**
 * The text model's features say who sent a message and what it says, never when it was handled:
 * the same real message relayed at another hour, on another day or in another year has the same
 * features (the corpora's years separate their labels; see `HEADER_DATE_TIME_RE`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { analyse } from '../analyse.ts';
import { offlinePorts } from '../offline-ports.ts';
import { defaultAnalysisSettings } from '../settings.ts';
import { featureTokens } from './features.ts';
import { createClassifier } from './classify.ts';

const DAYS = /\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b/g;
const MONTHS = /\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b/g;

/**
 * The message with every date and time of its `Received:` lines moved (another year, day, month,
 * hour and zone); the `Date:` header is left alone (its age is a finding of its own).
 */
function relayedAnotherTime(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const head = text.slice(0, end).replace(/^Received:[^\n]*(?:\n[ \t][^\n]*)*/gim, (line) =>
    line
      .replace(/\b(19[89]\d|20[0-2]\d)\b/g, '2026')
      .replace(/\b\d{1,2}:\d{2}(:\d{2})?\b/g, '23:59:58')
      .replace(DAYS, 'Sat')
      .replace(MONTHS, 'Nov')
      .replace(/[+-]\d{4}\b/g, '+0900'),
  );
  return Buffer.from(head + text.slice(end), 'latin1');
}

const CLOCK = new Date('2026-12-06T12:00:00Z');

async function tokens(raw: Buffer): Promise<string[]> {
  const a = await analyse(raw, { ports: offlinePorts(CLOCK), settings: defaultAnalysisSettings() });
  return featureTokens(a).sort();
}

// Ham of 2002 and 2007, phishing of the 2020s, spam of 2024: a relay chain of each era.
const MESSAGES = [
  'spamassassin/easy_ham/00001.7c53336b37003a9286aba55d2945844c',
  'phishing_pot/email/sample-100.eml',
  'trec07p/data/inmail.1',
];

test('real messages relayed at another time have the same features: the hour, day, zone and year of their \
Received lines are not read', async (t) => {
  if (!needsCorpus(t)) return;
  for (const rel of MESSAGES) {
    const file = path.join(CORPUS_DIR, rel);
    if (!fs.existsSync(file)) {
      t.diagnostic(`${rel} missing from the corpus`);
      continue;
    }
    const raw = fs.readFileSync(file);
    const moved = relayedAnotherTime(raw);
    assert.notEqual(moved.toString('latin1'), raw.toString('latin1'), `${rel}: its Received lines were moved`);
    assert.deepEqual(await tokens(moved), await tokens(raw), rel);
  }
});

test('numbers in header values are read as their length, as in the text: a queue id, not its value', async () => {
  const raw = (id: string) =>
    Buffer.from(
      `Received: (qmail ${id} invoked by uid 500); 5 Mar 2003 14:02:11 -0000\r\nFrom: a@example.org\r\n` +
        `Subject: hello\r\n\r\nHello there, see you soon.\r\n`,
    );
  const a = await tokens(raw('12345'));
  assert.ok(a.includes('hv:received:#5'), a.join(' '));
  assert.deepEqual(await tokens(raw('54321')), a);
  assert.ok(!a.some((x) => /2003|14|0000|mar\b/.test(x)), a.join(' '));
});

test('the same phish relayed in different minutes gets the same verdict and the same scores', async () => {
  const classifier = createClassifier();
  const phish = (minute: number, year: number) =>
    Buffer.from(
      [
        `Received: from unknown (host-4.example-broadband.net [45.77.10.31]) by mx.victim-mail.org with ESMTP id 4; \
Sun, 06 Dec ${year} 11:${String(minute).padStart(2, '0')}:07 +0000`,
        'From: "Parcel Delivery" <notice@parcel-customs-fee.net>',
        'To: victim4@mail-users.org',
        'Subject: Your parcel is waiting: customs fee unpaid',
        'Date: Sun, 06 Dec 2026 11:00:07 +0000',
        'Message-ID: <phish-4@mailer.invalid>',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Your parcel could not be delivered because a customs fee of 1.99 EUR is unpaid. Pay the fee at ' +
          'https://parcel-customs-fee.net/pay within 48 hours or the parcel will be returned to its sender.',
        '',
      ].join('\r\n'),
    );
  const verdict = async (raw: Buffer) =>
    classifier.classify(await analyse(raw, { ports: offlinePorts(CLOCK), settings: defaultAnalysisSettings() }));
  const first = await verdict(phish(0, 2026));
  for (const [minute, year] of [
    [7, 2026],
    [31, 2026],
    [59, 2002],
    [12, 2024],
  ]) {
    const v = await verdict(phish(minute, year));
    assert.equal(v.category, first.category, `minute ${minute}, year ${year}`);
    assert.deepEqual(v.scores, first.scores, `minute ${minute}, year ${year}`);
  }
});
