/**
 * The analysis narrative reads in French: every template is well formed, and over the golden set
 * and a mixed sample of the whole corpus (every source, one message in STRIDE), every trace-back
 * step, origin reason and finding message the stages write is matched by a template.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { templateProblems } from '../core/text-templates.ts';
import type { Analysis } from './analysis-schema.ts';
import { goldenCases, runCase } from './golden/golden-cases.ts';
import { corpusMessages } from './test-support/corpus-messages.ts';
import { analyse } from './analyse.ts';
import { offlinePorts } from './offline-ports.ts';
import { defaultAnalysisSettings } from './settings.ts';
import { HOP_NOTES, NARRATIVE_TEXTS, hopNoteIn, narrativeIn } from './narrative-texts.ts';

/** One corpus message in this many: a few hundred messages from every source. */
const STRIDE = 60;

/** Finding codes whose message is a library's or the operating system's text (shown as written). */
const MACHINE_TEXT = new Set(['PARSE_ERROR', 'PARSE_LIMIT_REACHED', 'STAGE_ERROR', 'ANALYSIS_ERROR']);

function sentences(a: Analysis): string[] {
  return [
    ...a.traceback.steps,
    ...(a.traceback.origin ? [a.traceback.origin.reason] : []),
    ...a.findings.filter((f) => !MACHINE_TEXT.has(f.code)).map((f) => f.message),
  ];
}

test('every narrative template has the same parameters in both languages', () => {
  assert.deepEqual(templateProblems(NARRATIVE_TEXTS), []);
  for (const [note, l] of Object.entries(HOP_NOTES)) assert.notEqual(l.fr, note);
});

test('a sentence is translated with its parameters, nested fragments and French numbers', () => {
  assert.equal(
    narrativeIn(
      'Hop 2: mx.example.org received it from a host [192.0.2.1]; Example is trusted (192.0.2.1 is in its network ' +
        '192.0.2.0/24), so we believe the header it wrote below.',
      'fr',
    ),
    'Saut 2\u00a0: mx.example.org l’a reçu de a host [192.0.2.1]\u202f; Example est de confiance (192.0.2.1 est dans ' +
      'son réseau 192.0.2.0/24), donc nous croyons l’en-tête qu’il a écrit en dessous.',
  );
  assert.equal(
    narrativeIn('Sender identity concealed or disguised: no From address; display name impersonates PayPal.', 'fr'),
    'Identité de l’expéditeur dissimulée ou déguisée\u00a0: pas d’adresse From\u202f; le nom affiché usurpe PayPal.',
  );
  assert.equal(
    narrativeIn('12345 phone number(s) in the message.', 'fr'),
    '12\u202f345\u00a0numéro(s) de téléphone dans le message.',
  );
  assert.equal(narrativeIn('No abuse contact is known for 192.0.2.1 (AS64500).', 'fr')?.includes('AS64500'), true);
  assert.equal(narrativeIn('Something no stage writes.', 'fr'), null);
  assert.equal(narrativeIn('The message has no Date header.', 'en'), 'The message has no Date header.');
  assert.equal(hopNoteIn('retrieval', 'fr'), 'relève de boîte aux lettres (POP3/IMAP)');
  assert.equal(hopNoteIn('unknown-note', 'fr'), 'unknown-note');
});

/** English pieces of the templates (parameters removed) long enough that French never contains them. */
const ENGLISH_PIECES = NARRATIVE_TEXTS.flatMap((t) => t.en.split(/\{[~*]?\w+\}/))
  .map((p) => p.trim())
  .filter((p) => p.length >= 12 && /[a-z]+ [a-z]+/.test(p));

test('every sentence of the golden set and of a mixed corpus sample has its French', async (t) => {
  const unmatched = new Map<string, string>();
  const check = (a: Analysis, origin: string) => {
    for (const s of sentences(a)) {
      if (unmatched.has(s)) continue;
      const fr = narrativeIn(s, 'fr');
      if (fr === null) unmatched.set(s, origin);
      else if (ENGLISH_PIECES.some((p) => fr.includes(p))) unmatched.set(`${s} → ${fr}`, origin);
    }
  };
  let n = 0;
  for (const c of goldenCases()) {
    check(await runCase(c), c.id);
    n++;
  }
  if (needsCorpus(t)) {
    const settings = defaultAnalysisSettings({ dnsMode: 'offline' });
    const ports = offlinePorts(new Date('2026-01-01T00:00:00Z'));
    const all = corpusMessages(CORPUS_DIR);
    for (let i = 0; i < all.length; i += STRIDE) {
      check(await analyse(all[i].raw, { ports, settings }), all[i].origin);
      n++;
    }
  }
  assert.ok(n > 50, `only ${n} messages analysed`);
  const list = [...unmatched].map(([s, o]) => `${s}    (${o})`);
  assert.deepEqual(list.slice(0, 40), [], `${list.length} sentence(s) without French`);
});
