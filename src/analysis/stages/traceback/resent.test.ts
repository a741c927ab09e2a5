/**
 * A message resent by hand inside the receiving organisation: the original delivery kept below as X-Received fields
 * is walked on, its origin shown and never acted on. Real corpus messages (nazario_phishing, Beth Nazario's resends to
 * Jose inside monkey.org and the anonymised domain.com copies; skipped loudly when absent) and edited copies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR, needsCorpus } from '../../../core/test-env.ts';
import { readLabelled } from '../../../../scripts/eval/evaluate-traceback.ts';
import { actionableOrigin, ORIGIN_INSIDE_RECEIVER, ORIGIN_RESENT_ORIGINAL } from '../../actionable-origin.ts';
import { edit, traceText } from '../../test-support/trace-text.ts';
import { RESENT_ORIGINAL_NOTE } from './resent.ts';

function nazario(rel: string): string {
  return readLabelled(CORPUS_DIR, `nazario_phishing/${rel}`).toString('latin1');
}

test(
  'a hand resend inside the receiving organisation: the original delivery’s X-Received fields are walked to the ' +
    'first outside machine, shown and not acted on (nazario phishing1.mbox#172, #203, #225)',
  async (t) => {
    if (!needsCorpus(t, 'nazario_phishing')) return;
    // #172: mail2.monkey.org took the PayPal phish from 63.134.198.11 (HELO its own address); the bot's line below
    // ("from inxo.prrkgi.net [173.22.145.100] by 204.181.64.8") is not followed.
    const w = await traceText(nazario('phishing1.mbox#172'));
    assert.equal(w.origin?.ip, '63.134.198.11', w.steps.join('\n'));
    assert.ok(w.flags.includes(ORIGIN_RESENT_ORIGINAL));
    assert.ok(!w.flags.includes(ORIGIN_INSIDE_RECEIVER));
    assert.ok(!w.flags.some((f) => f.startsWith('broken-chain')), 'the resend boundary is not a gap in the chain');
    assert.match(w.steps[0], /resent inside the receiving organisation \(Resent-From beth@monkey\.org\)/);
    assert.ok(w.hops.filter((h) => h.notes.includes(RESENT_ORIGINAL_NOTE)).length === 3);
    assert.equal(actionableOrigin(w), null, 'shown, never acted on');
    assert.equal((await traceText(nazario('phishing1.mbox#203'))).origin?.ip, '63.194.169.22');
    assert.equal((await traceText(nazario('phishing1.mbox#225'))).origin?.ip, '66.61.165.103');
  },
);

test(
  'the anonymised copies, whose organisation has only private addresses, name the outside machine instead of ' +
    'nothing (nazario 20051114.mbox#206, #196)',
  async (t) => {
    if (!needsCorpus(t, 'nazario_phishing')) return;
    const w = await traceText(nazario('20051114.mbox#206'));
    assert.equal(w.origin?.ip, '66.61.165.103', w.steps.join('\n'));
    assert.ok(!w.findings.some((f) => f.code === 'NO_ORIGIN'));
    assert.equal((await traceText(nazario('20051114.mbox#196'))).origin?.ip, '62.21.24.27');
  },
);

test('without a resent block, or resent by a stranger, the X-Received fields are not read (edited #172)', async (t) => {
  if (!needsCorpus(t, 'nazario_phishing')) return;
  const raw = nazario('phishing1.mbox#172');
  // No Resent-Date: not a resent block (RFC 5322 §3.6.6 requires one in each).
  const undated = await traceText(edit(raw, /\nReSent-Date:[^\n]*/i, ''));
  assert.equal(undated.origin?.ip, '65.23.81.140', undated.steps.join('\n'));
  assert.ok(undated.flags.includes(ORIGIN_INSIDE_RECEIVER));
  // Resent by an address outside the organisation: nothing says the kept fields are its hosts' record.
  const stranger = await traceText(
    edit(raw, 'Resent-From: Beth Nazario <beth@monkey.org>', 'Resent-From: <x@example.net>'),
  );
  assert.equal(stranger.origin?.ip, '65.23.81.140');
  // The first X-Received written by another domain's host: not the organisation's original delivery.
  const foreign = await traceText(
    edit(
      raw,
      'by naughty.monkey.org (Postfix) with ESMTP id EF081536E4E',
      'by mx.example.net (Postfix) with ESMTP id 1',
    ),
  );
  assert.equal(foreign.origin?.ip, '65.23.81.140');
});

test('X-Received fields among the Received ones (Google writes them for its own hops) are never walked', async (t) => {
  if (!needsCorpus(t, 'nazario_phishing')) return;
  const raw = nazario('phishing1.mbox#172');
  const moved = edit(
    raw,
    'Received: by naughty.monkey.org (Postfix, from userid 6)',
    'X-Received: from x (x [93.184.216.34]) by naughty.monkey.org; Wed, 10 Aug 2005 11:09:56 -0400\r\n' +
      'Received: by naughty.monkey.org (Postfix, from userid 6)',
  );
  const w = await traceText(moved);
  assert.equal(w.origin?.ip, '65.23.81.140', w.steps.join('\n'));
  assert.ok(!w.flags.includes(ORIGIN_RESENT_ORIGINAL));
});
