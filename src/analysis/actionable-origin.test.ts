/**
 * What the actions may act on: the trace-back's origin, never the receiving side's own machine, and for a client named
 * below where a sending provider took the message in (no sealed record vouching for it), the provider's outbound
 * relay. Real corpus messages (phishing_pot, referenced in place; skipped loudly when absent) and edited copies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { readLabelled } from '../../scripts/eval/evaluate-traceback.ts';
import { ipLocationDbAsnLookup } from './ports/ip-location-db.ts';
import { traceRaw } from './stages/traceback.ts';
import { trustTableFor } from './stages/traceback/trust.ts';
import { actionableOrigin, ORIGIN_PROVIDER_RECORD, SENDING_PROVIDER_RELAY } from './actionable-origin.ts';

const asn = ipLocationDbAsnLookup();

function traceText(text: string) {
  return traceRaw(Buffer.from(text, 'latin1'), {
    trust: trustTableFor([], null),
    asn,
    mailhosts: [],
    documentationIsPublic: false,
  });
}

function pot(name: string): string {
  return readLabelled(CORPUS_DIR, `phishing_pot/email/${name}.eml`).toString('latin1');
}

/** The message with `lines` added below its deepest Received field (what a sender can put in before submitting). */
function withLinesBelow(text: string, lines: string[]): string {
  const all = text.split(/\r?\n/);
  const end = all.indexOf('');
  let last = -1;
  for (let i = 0; i < end; i++) if (/^Received:/i.test(all[i] ?? '')) last = i;
  let j = last + 1;
  while (/^[ \t]/.test(all[j] ?? '')) j++;
  all.splice(j, 0, ...lines);
  return all.join('\r\n');
}

test(
  'a line a sender put below Gmail’s own fields names an innocent address in the analysis, but nothing acts on it: ' +
    'the actions act on Gmail’s outbound relay (phishing_pot sample-1155)',
  async (t) => {
    if (!needsCorpus(t, 'phishing_pot')) return;
    const raw = pot('sample-1155');
    const framed = withLinesBelow(raw, [
      'Received: from evil.example (93.184.216.34) by mx.google.com with ESMTPS id x; Wed, 23 Aug 2023 12:58:19 -0500',
    ]);
    const w = await traceText(framed);
    // The walk cannot tell the line from Gmail's record of a message it received: it names the address, and says so.
    assert.equal(w.origin?.ip, '93.184.216.34');
    assert.ok(w.flags.includes(ORIGIN_PROVIDER_RECORD), w.steps.join('\n'));
    assert.match(w.steps.join('\n'), /never on 93\.184\.216\.34 alone/);
    const acted = actionableOrigin(w);
    assert.equal(acted?.ip, '209.85.218.42');
    assert.ok(w.hops[acted?.hopIndex ?? -1]?.notes.includes(SENDING_PROVIDER_RELAY));
    // The message as it came: Gmail's relay, acted on as before.
    const plain = await traceText(raw);
    assert.equal(actionableOrigin(plain)?.ip, '209.85.218.42');
    assert.ok(!plain.flags.includes(ORIGIN_PROVIDER_RECORD));
  },
);

test(
  'a Gmail submitter recorded by Gmail’s SMTP submission service is shown as the origin and acted on through ' +
    'Gmail’s relay (phishing_pot sample-133)',
  async (t) => {
    if (!needsCorpus(t, 'phishing_pot')) return;
    const w = await traceText(pot('sample-133'));
    assert.equal(w.origin?.ip, '217.138.207.226');
    assert.ok(w.flags.includes(ORIGIN_PROVIDER_RECORD));
    assert.equal(actionableOrigin(w)?.ip, '209.85.221.48');
  },
);

test('a sender that connected straight to the receiving side is acted on as named (pot sample-74)', async (t) => {
  if (!needsCorpus(t, 'phishing_pot')) return;
  const w = await traceText(pot('sample-74'));
  assert.equal(w.origin?.ip, '163.172.176.120');
  assert.ok(!w.flags.includes(ORIGIN_PROVIDER_RECORD));
  assert.equal(actionableOrigin(w)?.ip, '163.172.176.120');
});

test('a provider-record origin without the relay’s hop is acted on not at all', () => {
  const origin = { ip: '192.0.2.7', hopIndex: 3, ipVersion: 4 as const, reason: 'x' };
  assert.equal(actionableOrigin({ origin, flags: [ORIGIN_PROVIDER_RECORD], hops: [] }), null);
  assert.equal(actionableOrigin({ origin, flags: [], hops: [] })?.ip, '192.0.2.7');
  assert.equal(actionableOrigin({ origin, flags: ['origin-inside-receiver'], hops: [] }), null);
});
