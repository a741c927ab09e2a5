/**
 * A message's own times, read from its headers: the topmost Received line (else Date:) for when it
 * arrived, the Received line that names the origin for when its origin sent it; broken clocks are
 * not believed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse } from './analyse.ts';
import { offlinePorts } from './offline-ports.ts';
import { defaultAnalysisSettings } from './settings.ts';
import { arrivalOrReceived, messageTimes } from './message-times.ts';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';

const settings = defaultAnalysisSettings();
const at = (raw: string) =>
  analyse(Buffer.from(raw.replace(/\n/g, '\r\n')), { ports: offlinePorts(new Date('2026-12-01T00:00:00Z')), settings });

test('a 2002 SpamAssassin message arrived in 2002, whenever it is reported', async (t) => {
  if (!needsCorpus(t, 'spamassassin')) return;
  const raw = fs.readFileSync(path.join(CORPUS_DIR, 'spamassassin/easy_ham/00001.7c53336b37003a9286aba55d2945844c'));
  const a = await analyse(raw, { ports: offlinePorts(new Date('2026-12-01T00:00:00Z')), settings });
  const times = messageTimes(a);
  // The topmost Received: written by phobos when it delivered the message (07:36:16 -0400).
  assert.equal(times.arrivedAt, '2002-08-22T11:36:16.000Z');
  assert.ok(times.originSentAt && times.originSentAt <= times.arrivedAt);
  assert.equal(arrivalOrReceived(times.arrivedAt, '2026-12-01T09:00:00.000Z'), '2002-08-22T11:36:16.000Z');
});

test(
  'without Received lines the Date: header says when; a clock in the future or before 1990 is not ' + 'believed',
  async () => {
    const dated = await at(
      'From: a@example.org\nTo: b@example.org\nSubject: hi\nDate: Mon, 2 Nov 2026 10:00:00 +0100\n\nhello there\n',
    );
    assert.deepEqual(messageTimes(dated), {
      arrivedAt: '2026-11-02T09:00:00.000Z',
      originSentAt: '2026-11-02T09:00:00.000Z',
    });
    const future = await at(
      'Received: from x ([192.0.2.1]) by mx.example.org; Tue, 1 Jan 2030 00:00:00 +0000\nFrom: a@example.org\nDate: ' +
        'Thu, 1 Jan 1970 00:00:00 +0000\nSubject: hi\n\nhello there\n',
    );
    assert.deepEqual(messageTimes(future), { arrivedAt: null, originSentAt: null });
    // A report cannot precede its mail: a clock ahead of the intake's is clipped to the report time.
    assert.equal(arrivalOrReceived('2026-12-01T10:00:00.000Z', '2026-12-01T09:00:00.000Z'), '2026-12-01T09:00:00.000Z');
  },
);
