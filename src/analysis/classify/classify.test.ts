/**
 * Classification on real corpus messages (the shipped model and default weights), the rule map
 * and the operator's weight overrides.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { analyse } from '../analyse.ts';
import { emptySections, ANALYSER_VERSION, type Analysis } from '../analysis-schema.ts';
import { offlinePorts } from '../offline-ports.ts';
import { defaultAnalysisSettings } from '../settings.ts';
import { createClassifier, reasonLines } from './classify.ts';
import { evaluateRules, RULE_NAMES } from './rules.ts';
import { loadScores } from './scores.ts';

const classifier = createClassifier();

async function analysed(rel: string): Promise<Analysis> {
  return analyse(fs.readFileSync(path.join(CORPUS_DIR, rel)), { ports: offlinePorts(new Date('2026-01-01T00:00:00Z')), settings: defaultAnalysisSettings() });
}

function bare(over: Partial<Analysis> = {}): Analysis {
  return { sha256: '0'.repeat(64), analyserVersion: ANALYSER_VERSION, kind: 'email', analysedAt: '2026-01-01T00:00:00.000Z', ...emptySections(), findings: [], stages: [], error: null, ...over };
}

describe('classification of real corpus messages', () => {
  const cases: [string, string, string][] = [
    ['macro-laden spreadsheet attachment → malware', 'spamassassin_testdata/t/data/spam/olevbmacro/macro.eml', 'malware'],
    ['advance-fee letter → scam', 'spam_archive_2023_2025/2024/60_Official Message From Ministry of Economy and Finance_modified.eml', 'scam'],
    ['honeypot phishing → phishing', 'phishing_pot/email/sample-1.eml', 'phishing'],
    ['mailing-list discussion → legitimate', 'spamassassin/easy_ham/00001.7c53336b37003a9286aba55d2945844c', 'legitimate'],
    ['advertising spam → commercial', 'spamassassin/spam/00001.7848dde101aa985090474a91ec93fcf0', 'commercial'],
  ];
  for (const [name, rel, want] of cases) {
    test(name, async (t) => {
      if (!needsCorpus(t, rel)) return;
      const v = classifier.classify(await analysed(rel));
      assert.equal(v.category, want, reasonLines(v).join('\n'));
      assert.ok(v.confidence > 0.5 && v.confidence <= 1);
      assert.ok(v.reasons.some((r) => r.name === 'MODEL_TEXT'), 'the model term is always explained');
    });
  }

  test('the malware verdict names the attachment rule that decided it', async (t) => {
    const rel = 'spamassassin_testdata/t/data/spam/olevbmacro/macro.eml';
    if (!needsCorpus(t, rel)) return;
    const v = classifier.classify(await analysed(rel));
    assert.equal(v.reasons[0].name, 'EXECUTABLE_ATTACHMENT');
    assert.match(v.reasons[0].detail, /macro\.xlsm/);
  });
});

describe('rules', () => {
  test('an empty message is "other" by NO_CONTENT', () => {
    const v = classifier.classify(bare());
    assert.equal(v.category, 'other');
    assert.ok(evaluateRules(bare()).some((h) => h.rule === 'NO_CONTENT'));
  });

  test('sextortion needs both the bitcoin demand and the threat', () => {
    const s = emptySections();
    const only = bare({ parse: { ...s.parse, visibleText: 'Send 0.1 bitcoin to this address today.' } });
    assert.ok(!evaluateRules(only).some((h) => h.rule === 'SEXTORTION'));
    const both = bare({ parse: { ...s.parse, visibleText: 'I recorded a video of you through your webcam. Send 0.1 bitcoin or your contacts will see it.' } });
    assert.ok(evaluateRules(both).some((h) => h.rule === 'SEXTORTION'));
  });

  test('a double extension attachment fires DANGEROUS_ATTACHMENT_NAME', () => {
    const s = emptySections();
    const a = bare({ parse: { ...s.parse, attachments: [{ filename: 'invoice.pdf.exe', declaredType: 'application/pdf', sniffedType: null, size: 1000, sha256: 'a'.repeat(64), disposition: 'attachment' }] } });
    assert.deepEqual(evaluateRules(a).map((h) => h.rule), ['DANGEROUS_ATTACHMENT_NAME']);
  });

  test('aligned DKIM with a one-click unsubscribe votes legitimate', () => {
    const s = emptySections();
    const a = bare({
      parse: { ...s.parse, visibleText: 'Your monthly newsletter', from: [{ name: 'News', address: 'news@shop.example' }] },
      auth: { ...s.auth, dkim: [{ result: 'pass', domain: 'shop.example', selector: 's1', aligned: true, info: null }], dmarc: { result: 'pass', domain: 'shop.example', policy: 'reject', info: null } },
      compliance: { ...s.compliance, optOut: { status: 'present', listUnsubscribe: ['https://shop.example/u'], oneClick: true, bodyLinks: [] } },
    });
    const rules = evaluateRules(a).map((h) => h.rule);
    for (const r of ['DKIM_ALIGNED_PASS', 'DMARC_PASS', 'LIST_UNSUBSCRIBE_ONE_CLICK', 'CONSISTENT_IDENTITY'] as const) assert.ok(rules.includes(r), r);
  });
});

describe('scores configuration', () => {
  test('every rule has a default weight and an override file changes only what it names', () => {
    const defaults = loadScores();
    for (const r of RULE_NAMES) assert.equal(typeof defaults.rules[r], 'number');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-scores-'));
    const file = path.join(dir, 'scores.json');
    fs.writeFileSync(file, JSON.stringify({ rules: { SEXTORTION: 9 }, priors: { scam: 0 } }));
    const over = loadScores(file);
    assert.equal(over.rules.SEXTORTION, 9);
    assert.equal(over.priors.scam, 0);
    assert.equal(over.rules.ADVANCE_FEE, defaults.rules.ADVANCE_FEE);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('an unknown rule name in an override is an error that names it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-scores-'));
    const file = path.join(dir, 'scores.json');
    fs.writeFileSync(file, JSON.stringify({ rules: { SEXTORSION: 9 } }));
    assert.throws(() => loadScores(file), /unknown rule SEXTORSION/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a weight set to zero removes the rule from the verdict', () => {
    const scores = loadScores();
    scores.rules.NO_CONTENT = 0;
    const v = createClassifier({ scores }).classify(bare());
    assert.ok(!v.reasons.some((r) => r.name === 'NO_CONTENT'));
  });
});
