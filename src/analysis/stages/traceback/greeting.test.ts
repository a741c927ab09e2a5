/**
 * What the client sends as its greeting (HELO/EHLO), its reverse name or its envelope sender is written by the
 * receiver into the very field that records the hand-off. A review (2026-12-07) framed an innocent address through it
 * on nearly every corpus message: a greeting glued to an address (`x(93.184.216.34)`), one named like a retrieval
 * tool (`fetchmail.example`), one that is a clause keyword or an unclosed bracket (`by`, `<x`), and, where qmail takes
 * the whole line, a greeting that closes its comment and opens another. Real corpus messages (skipped loudly when
 * absent), each with only what the sender controls edited; each check removed in turn fails one of these.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR, needsCorpus } from '../../../core/test-env.ts';
import { readLabelled } from '../../../../scripts/eval/evaluate-traceback.ts';
import { edit, traceText } from '../../test-support/trace-text.ts';
import { parseReceived } from './received-parser.ts';

const INNOCENT = '93.184.216.34';
const FORGED =
  `Received: from innocent.example (innocent.example [${INNOCENT}]) by relay.example (Postfix) with ESMTP ` +
  'id 1; Mon, 8 May 2023 10:00:00 +0000\r\n';

function corpus(rel: string): string {
  return readLabelled(CORPUS_DIR, rel).toString('latin1');
}

/** The message with {@link FORGED} added just below the field that starts with `handOff`. */
function forgedBelow(raw: string, handOff: string): string {
  const at = raw.indexOf(handOff);
  assert.ok(at >= 0, `no field ${handOff}`);
  const end = raw.slice(at).search(/\r?\n(?![ \t])/);
  const cut = at + end + (raw[at + end] === '\r' ? 2 : 1);
  return raw.slice(0, cut) + FORGED + raw.slice(cut);
}

test('the address is the one the receiver wrote after the greeting, not one glued to it', () => {
  for (const [field, want] of [
    [`from x(${INNOCENT}) (soudal.ksks.eu. [194.8.253.115]) by mx.google.com with ESMTPS id 1`, '194.8.253.115'],
    [`from (${INNOCENT}) (soudal.ksks.eu. [194.8.253.115]) by mx.google.com with ESMTPS id 1`, '194.8.253.115'],
    [`from x([${INNOCENT}]) (194.8.253.115) by EX01.example with Microsoft SMTP Server id 1`, '194.8.253.115'],
    [`from unknown (HELO a) (${INNOCENT}) (194.8.253.115) by mx.example with SMTP`, '194.8.253.115'],
    [
      'from (127.0.0.1 [127.0.0.1]) (authenticated bits=0) by mx.example (8.12.11/8.12.11) with ESMTP id 1',
      '127.0.0.1',
    ],
    ['from [202.53.148.17] (helo=User) by soudal.ksks.eu with smtp (Exim 4.94.2)', '202.53.148.17'],
    [
      `from mx.example (mx.example [194.8.253.115]) (Authenticated sender: ${INNOCENT}) by mx.example (Postfix)`,
      '194.8.253.115',
    ],
  ] as const) {
    assert.equal(parseReceived(field).fromIp, want, field);
  }
  // A greeting glued to a qmail-like note is still the greeting: no reverse name is read from it.
  const glued = parseReceived(
    'from mail.victim.example(helo=x) (real.example [194.8.253.115]) by mx.example with SMTP',
  );
  assert.equal(glued.fromRdns, 'real.example');
  assert.equal(glued.fromIp, '194.8.253.115');
});

test('a clause keyword or an unclosed bracket as the greeting opens no clause and swallows nothing', () => {
  for (const helo of ['by', 'with', 'for', 'id', 'via', '<x', '[x', 'x(']) {
    const p = parseReceived(`from ${helo} (89.144.44.2) by DB8EUR06FT032.mail.protection.outlook.com (10.233.253.34) \
with Microsoft SMTP Server id 15.20.6792.13 via Frontend Transport; Fri, 8 Sep 2023 05:47:05 +0000`);
    assert.equal(p.fromIp, '89.144.44.2', helo);
    assert.equal(p.byHost, 'db8eur06ft032.mail.protection.outlook.com', helo);
    assert.ok(p.date !== null, helo);
  }
});

test('a retrieval tool is read from the receiver’s own with clause only, never from the client’s words', () => {
  assert.ok(
    parseReceived('from pop.example [192.0.2.7] by localhost with POP3 (fetchmail-6.4.0) for <u@x>').notes.includes(
      'retrieval',
    ),
  );
  assert.ok(parseReceived('from pop.example by host with POP3-SSL getmail6 for <u@x>').notes.includes('retrieval'));
  for (const field of [
    'from fetchmail.example (x.example [194.8.253.115]) by mx.example (Postfix) with ESMTPS id 1',
    'from x.example (fetchmail.x.example [194.8.253.115]) by mx.example (Postfix) with ESMTPS id 1',
    'from [194.8.253.115] (helo=x) by mx.example with esmtp (Exim 4.92) (envelope-from <fetchmail@x.example>) id 1',
  ]) {
    assert.ok(!parseReceived(field).notes.includes('retrieval'), field);
  }
});

test(
  'edited greetings on real messages leave the true origin named: a glued address, a retrieval word, a keyword ' +
    '(phishing_pot sample-1161, sample-1159, sample-10)',
  async (t) => {
    if (!needsCorpus(t, 'phishing_pot')) return;
    // sample-1161: mx.google.com took it from soudal.ksks.eu 194.8.253.115.
    const gmail = corpus('phishing_pot/email/sample-1161.eml');
    const glued = await traceText(edit(gmail, 'Received: from soudal.ksks.eu (', `Received: from x(${INNOCENT}) (`));
    assert.equal(glued.origin?.ip, '194.8.253.115', glued.steps.join('\n'));
    // sample-1159: Proton took it from an EC2 machine; the sender names itself like a fetchmail host and forges below.
    const proton = corpus('phishing_pot/email/sample-1159.eml');
    const fetch = forgedBelow(
      edit(proton, 'Received: from vps.vps.medimovil.com.mx (', 'Received: from fetchmail.vps.medimovil.com.mx ('),
      'Received: from fetchmail.vps.medimovil.com.mx (',
    );
    const w = await traceText(fetch);
    assert.equal(w.origin?.ip, '18.204.106.197', w.steps.join('\n'));
    // sample-10: Microsoft's EOP took it from 89.144.44.2; the greeting is the keyword "by", a line forged below.
    const m365 = corpus('phishing_pot/email/sample-10.eml');
    const handOff = 'Received: from thcultarfdes.co.uk (89.144.44.2)';
    for (const helo of ['by', 'with', '<x', '[x']) {
      const kw = forgedBelow(edit(m365, handOff, `Received: from ${helo} (89.144.44.2)`), `Received: from ${helo} (`);
      const traced = await traceText(kw);
      assert.equal(traced.origin?.ip, '89.144.44.2', `${helo}\n${traced.steps.join('\n')}`);
    }
  },
);

test(
  'a qmail greeting that writes a second address after its own comment names nothing, and the walk stops there ' +
    '(spamassassin spam_2/00712, cp.net)',
  async (t) => {
    if (!needsCorpus(t, 'spamassassin/spam_2')) return;
    const raw = corpus('spamassassin/spam_2/00712.8c3eca8af0dc686116aa7ea07fe3fa8f');
    assert.equal((await traceText(raw)).origin?.ip, '61.78.78.173');
    const w = await traceText(edit(raw, '(HELO localhost)', `(HELO a) (${INNOCENT})`));
    assert.notEqual(w.origin?.ip, INNOCENT, w.steps.join('\n'));
    assert.equal(w.origin, null);
    assert.ok(w.hops[1]?.notes.includes('address-ambiguous'));
    assert.match(w.steps.join('\n'), /names by two addresses/);
  },
);
