/**
 * Classification on real corpus messages (the shipped model and default weights), the rule map
 * and the operator's weight overrides.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yazl from 'yazl';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { analyse } from '../analyse.ts';
import { emptySections, ANALYSER_VERSION, type Analysis } from '../analysis-schema.ts';
import { offlinePorts } from '../offline-ports.ts';
import { defaultAnalysisSettings } from '../settings.ts';
import { createClassifier, reasonLines } from './classify.ts';
import { serializeSmsEvidence } from '../../evidence/sms-format.ts';
import { evaluateRules, RULE_NAMES } from './rules.ts';
import { loadScores } from './scores.ts';

const classifier = createClassifier();

async function analysed(rel: string): Promise<Analysis> {
  return analyse(fs.readFileSync(path.join(CORPUS_DIR, rel)), {
    ports: offlinePorts(new Date('2026-01-01T00:00:00Z')),
    settings: defaultAnalysisSettings(),
  });
}

function bare(over: Partial<Analysis> = {}): Analysis {
  return {
    sha256: '0'.repeat(64),
    analyserVersion: ANALYSER_VERSION,
    kind: 'email',
    analysedAt: '2026-01-01T00:00:00.000Z',
    ...emptySections(),
    findings: [],
    stages: [],
    error: null,
    ...over,
  };
}

describe('classification of real corpus messages', () => {
  const cases: [string, string, string][] = [
    [
      'macro-laden spreadsheet attachment → malware',
      'spamassassin_testdata/t/data/spam/olevbmacro/macro.eml',
      'malware',
    ],
    [
      'advance-fee letter → scam',
      'spam_archive_2023_2025/2024/60_Official Message From Ministry of Economy and Finance_modified.eml',
      'scam',
    ],
    ['honeypot phishing → phishing', 'phishing_pot/email/sample-1.eml', 'phishing'],
    [
      'mailing-list discussion → legitimate',
      'spamassassin/easy_ham/00001.7c53336b37003a9286aba55d2945844c',
      'legitimate',
    ],
    ['advertising spam → commercial', 'spamassassin/spam/00001.7848dde101aa985090474a91ec93fcf0', 'commercial'],
  ];
  for (const [name, rel, want] of cases) {
    test(name, async (t) => {
      if (!needsCorpus(t, rel)) return;
      const v = classifier.classify(await analysed(rel));
      assert.equal(v.category, want, reasonLines(v).join('\n'));
      assert.ok(v.confidence > 0.5 && v.confidence <= 1);
      assert.ok(
        v.reasons.some((r) => r.name === 'MODEL_TEXT'),
        'the model term is always explained',
      );
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

/** A realistic lure with one base64 attachment (the shape malware campaigns send). */
function withAttachment(subject: string, text: string, filename: string, type: string, content: Buffer): Buffer {
  const b64 = content.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    [
      'From: "Accounts Payable" <billing@northwind-supplies.example>',
      'To: Dana Fischer <dana@example.org>',
      `Subject: ${subject}`,
      'Date: Tue, 06 Jan 2026 08:14:00 +0100',
      'Message-ID: <20260106081400.4471@northwind-supplies.example>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      text,
      '--b1',
      `Content-Type: ${type}; name="${filename}"`,
      `Content-Disposition: attachment; filename="${filename}"`,
      'Content-Transfer-Encoding: base64',
      '',
      b64,
      '--b1--',
      '',
    ].join('\r\n'),
  );
}

function zipOf(name: string, data: Buffer): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(data, name, { mtime: new Date('2026-01-01T00:00:00Z') });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', reject);
  });
}

const LURE =
  'Hello Dana,\r\n\r\nPlease find attached the invoice for order 4471 and confirm payment by Friday.\r\n\r\nKind ' +
  'regards,\r\nAccounts Payable';
const PE = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.alloc(2000, 0x41)]);
const ISO = Buffer.alloc(0x8800);
ISO.write('\x01CD001', 0x8000, 'latin1');

describe('every malware delivery the issue lists is judged malware, by a named rule', () => {
  const built: [string, () => Promise<Buffer>, string][] = [
    [
      'an executable disguised as a PDF',
      async () => withAttachment('Invoice 4471', LURE, 'Invoice_4471.pdf', 'application/pdf', PE),
      'EXECUTABLE_ATTACHMENT',
    ],
    [
      'a script file (.js)',
      async () =>
        withAttachment(
          'Payment advice',
          LURE,
          'Payment_Advice.js',
          'application/javascript',
          Buffer.from('var s=new ActiveXObject("WScript.Shell");s.Run("powershell -enc JABjAD0A");'),
        ),
      'EXECUTABLE_ATTACHMENT',
    ],
    [
      'a disk image (.iso)',
      async () => withAttachment('Order documents', LURE, 'Order_4471.iso', 'application/octet-stream', ISO),
      'EXECUTABLE_ATTACHMENT',
    ],
    [
      'a ZIP archive carrying an executable',
      async () =>
        withAttachment(
          'Invoice 4471',
          LURE,
          'Invoice_4471.zip',
          'application/zip',
          await zipOf('Invoice_4471.pdf.exe', PE),
        ),
      'ARCHIVE_CARRIES_EXECUTABLE',
    ],
  ];
  for (const [name, build, rule] of built) {
    test(`${name} → malware (${rule})`, async () => {
      const v = classifier.classify(
        await analyse(await build(), {
          ports: offlinePorts(new Date('2026-01-01T00:00:00Z')),
          settings: defaultAnalysisSettings(),
        }),
      );
      assert.equal(v.category, 'malware', reasonLines(v).join('\n'));
      assert.ok(
        v.reasons.some((r) => r.name === rule && r.category === 'malware'),
        reasonLines(v).join('\n'),
      );
    });
  }
  const real: [string, string, string][] = [
    [
      'a macro document renamed .jpg (SpamAssassin renamedmacro.eml)',
      'spamassassin_testdata/t/data/spam/olevbmacro/renamedmacro.eml',
      'MACRO_DOCUMENT',
    ],
    [
      'a password-protected ZIP carrying a macro document (SpamAssassin zippwmacro.eml)',
      'spamassassin_testdata/t/data/spam/olevbmacro/zippwmacro.eml',
      'ARCHIVE_CARRIES_EXECUTABLE',
    ],
    [
      'HTML smuggling of a .JS payload (phishing_pot sample-402)',
      'phishing_pot/email/sample-402.eml',
      'HTML_SMUGGLING',
    ],
    [
      'HTML smuggling of a .JS payload (phishing_pot sample-432)',
      'phishing_pot/email/sample-432.eml',
      'HTML_SMUGGLING',
    ],
  ];
  for (const [name, rel, rule] of real) {
    test(`${name} → malware (${rule})`, async (t) => {
      if (!needsCorpus(t, rel)) return;
      const v = classifier.classify(await analysed(rel));
      assert.equal(v.category, 'malware', reasonLines(v).join('\n'));
      assert.equal(v.reasons[0].name, rule, reasonLines(v).join('\n'));
      assert.ok(v.reasons[0].detail.length > 0, 'the rule says what it fired on');
    });
  }

  test('an HTML attachment that only hosts a credential form stays phishing (phishing_pot sample-398)', async (t) => {
    const rel = 'phishing_pot/email/sample-398.eml';
    if (!needsCorpus(t, rel)) return;
    const v = classifier.classify(await analysed(rel));
    assert.equal(v.category, 'phishing', reasonLines(v).join('\n'));
    assert.ok(v.reasons.some((r) => r.name === 'HTML_ATTACHMENT'));
    assert.ok(!v.reasons.some((r) => r.name === 'EXECUTABLE_ATTACHMENT' || r.name === 'HTML_SMUGGLING'));
  });
});

describe('SMS are judged by the SMS model', () => {
  async function sms(text: string): Promise<Analysis> {
    return analyse(serializeSmsEvidence({ sender: '+447700900123', text, receivedAt: null }), {
      ports: offlinePorts(new Date('2026-01-01T00:00:00Z')),
      settings: defaultAnalysisSettings({ region: 'GB' }),
    });
  }

  test('a chat message is legitimate, a premium-rate prize SMS is abusive, both by sms-model', async () => {
    const ham = classifier.classify(
      await sms("Hey, are we still on for dinner tonight? I'll be there around 7, text me if you're running late x"),
    );
    assert.equal(ham.category, 'legitimate', reasonLines(ham).join('\n'));
    assert.match(ham.model.version, /^sms-model:[0-9a-f]{16}$/);
    assert.equal(classifier.smsModelVersion, ham.model.version);
    const spam = classifier.classify(
      await sms(
        'URGENT! Your mobile number has been awarded a £2000 bonus prize. To claim call 09066364311 now. T&Cs apply ' +
          '150p/min 18+',
      ),
    );
    assert.notEqual(spam.category, 'legitimate', reasonLines(spam).join('\n'));
    assert.notEqual(spam.category, 'other');
  });

  test('the SMS model has no phishing class: a credential lure decides phishing, and the reasons say so', async () => {
    const v = classifier.classify(
      await sms(
        'Your bank account has been suspended due to unusual activity. Verify your identity now at ' +
          'https://secure-bank-verify-login.com/auth',
      ),
    );
    assert.equal(v.category, 'phishing', reasonLines(v).join('\n'));
    assert.ok(v.reasons.some((r) => r.name === 'CREDENTIAL_LURE'));
    assert.match(
      v.reasons.find((r) => r.name === 'MODEL_TEXT' && r.category === 'phishing')?.detail ?? '',
      /has no phishing class/,
    );
    assert.deepEqual(Object.keys(v.model.probabilities).sort(), ['legitimate', 'spam']);
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
    const both = bare({
      parse: {
        ...s.parse,
        visibleText: 'I recorded a video of you through your webcam. Send 0.1 bitcoin or your contacts will see it.',
      },
    });
    assert.ok(evaluateRules(both).some((h) => h.rule === 'SEXTORTION'));
  });

  test('a double extension attachment fires DANGEROUS_ATTACHMENT_NAME', () => {
    const s = emptySections();
    const a = bare({
      parse: {
        ...s.parse,
        attachments: [
          {
            filename: 'invoice.pdf.exe',
            declaredType: 'application/pdf',
            sniffedType: null,
            size: 1000,
            sha256: 'a'.repeat(64),
            disposition: 'attachment',
          },
        ],
      },
    });
    assert.deepEqual(
      evaluateRules(a).map((h) => h.rule),
      ['DANGEROUS_ATTACHMENT_NAME', 'EXECUTABLE_ATTACHMENT'],
    );
  });

  test('aligned DKIM with a one-click unsubscribe votes legitimate', () => {
    const s = emptySections();
    const a = bare({
      parse: {
        ...s.parse,
        visibleText: 'Your monthly newsletter',
        from: [{ name: 'News', address: 'news@shop.example' }],
      },
      auth: {
        ...s.auth,
        dkim: [{ result: 'pass', domain: 'shop.example', selector: 's1', aligned: true, info: null }],
        dmarc: { result: 'pass', domain: 'shop.example', policy: 'reject', info: null },
      },
      compliance: {
        ...s.compliance,
        optOut: { status: 'present', listUnsubscribe: ['https://shop.example/u'], oneClick: true, bodyLinks: [] },
      },
    });
    const rules = evaluateRules(a).map((h) => h.rule);
    for (const r of ['DKIM_ALIGNED_PASS', 'DMARC_PASS', 'LIST_UNSUBSCRIBE_ONE_CLICK', 'CONSISTENT_IDENTITY'] as const)
      assert.ok(rules.includes(r), r);
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
