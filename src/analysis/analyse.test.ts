/**
 * The pipeline and the analysis-core stages (parse, indicators, compliance) on small messages:
 * legacy charsets, encoded words, line endings, HTML, attachments, carried messages, SMS,
 * determinism, failure isolation.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { serializeSmsEvidence } from '../evidence/sms-format.ts';
import { AnalysisSchema, type Analysis } from './analysis-schema.ts';
import { analyse } from './analyse.ts';
import { offlinePorts } from './offline-ports.ts';
import { defaultAnalysisSettings } from './settings.ts';
import { defineStage, type Stage } from './stage.ts';
import { STAGES } from './registry.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const NOW = new Date('2026-01-01T00:00:00Z');
const settings = defaultAnalysisSettings({ dnsMode: 'offline' });

function run(raw: Buffer | string, stages?: readonly Stage[]): Promise<Analysis> {
  return analyse(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw, {
    ports: offlinePorts(NOW),
    settings,
    stages,
  });
}

function mail(headers: string[], body: string | Buffer, eol = '\r\n'): Buffer {
  return Buffer.concat([
    Buffer.from([...headers, '', ''].join(eol), 'latin1'),
    typeof body === 'string' ? Buffer.from(body, 'latin1') : body,
  ]);
}

const codes = (a: Analysis) => a.findings.map((f) => f.code);

describe('parse: charsets, encoded words, line endings', () => {
  const cases: [string, string, string][] = [
    ['koi8-r', 'f0d2c9d7c5d4', 'Привет'],
    ['windows-1251', 'cff0e8e2e5f2', 'Привет'],
    ['iso-8859-2', 'a3f364bc', 'Łódź'],
    ['iso-8859-15', 'a4', '€'],
    ['gb2312', 'd6d0cec4', '中文'],
    ['gbk', 'd6d0cec4', '中文'],
    ['big5', 'a4a4a4e5', '中文'],
    ['shift_jis', '93fa967b', '日本'],
    ['iso-2022-jp', '1b2442467c4b5c1b2842', '日本'],
    ['euc-kr', 'c7d1b1b9', '한국'],
  ];
  for (const [charset, hex, text] of cases) {
    test(`decodes a ${charset} body and records the charset`, async () => {
      const raw = mail(
        [
          'From: a@example.com',
          'Subject: cs',
          `Content-Type: text/plain; charset="${charset}"`,
          'Content-Transfer-Encoding: 8bit',
        ],
        Buffer.from(hex, 'hex'),
      );
      const a = await run(raw);
      assert.equal(a.parse.visibleText, text);
      assert.ok(a.parse.charsets.includes(charset), a.parse.charsets.join(','));
      assert.ok(!codes(a).includes('UNKNOWN_CHARSET'));
    });
  }

  test('decodes RFC 2047 encoded words in Subject and From (B and Q, legacy charsets)', async () => {
    const a = await run(
      mail(
        ['From: =?koi8-r?B?8NLJ18XU?= <x@example.ru>', 'Subject: =?iso-8859-2?Q?=A3=F3d=BC?= =?shift_jis?B?k/qWew==?='],
        'x',
      ),
    );
    assert.equal(a.parse.from[0].name, 'Привет');
    assert.equal(a.parse.subject, 'Łódź日本');
  });

  test('the corpus ISO-2022-JP and Shift_JIS samples decode to Japanese text', async () => {
    const iso = await run(fs.readFileSync(path.join(FIXTURES, 'ruby_mail/japanese_iso_2022.eml')));
    assert.equal(iso.parse.visibleText, 'すみません。');
    const sjis = await run(fs.readFileSync(path.join(FIXTURES, 'ruby_mail/japanese_shift_jis.eml')));
    assert.match(sjis.parse.visibleText, /このメールはテスト用のメールです。/);
  });

  test('CR-only and LF-only messages parse like CRLF ones, and the evidence is not altered', async () => {
    const headers = [
      'From: "Shop" <a@shop.example>',
      'To: b@example.org',
      'Subject: line endings',
      'Date: Mon, 2 Jan 2006 15:04:05 +0000',
      'Message-ID: <1@shop.example>',
    ];
    const crlf = await run(mail(headers, 'Visit http://shop.example/x\r\n', '\r\n'));
    const lfRaw = mail(headers, 'Visit http://shop.example/x\n', '\n');
    const crRaw = mail(headers, 'Visit http://shop.example/x\r', '\r');
    const crCopy = Buffer.from(crRaw);
    const lf = await run(lfRaw);
    const cr = await run(crRaw);
    assert.ok(crRaw.equals(crCopy), 'raw bytes untouched');
    for (const a of [lf, cr]) {
      assert.equal(a.parse.subject, crlf.parse.subject);
      assert.deepEqual(a.parse.from, crlf.parse.from);
      assert.deepEqual(
        a.indicators.urls.map((u) => u.url),
        ['http://shop.example/x'],
      );
    }
    assert.equal(cr.parse.lineEndings, 'cr');
    assert.equal(lf.parse.lineEndings, 'lf');
    assert.ok(codes(cr).includes('BARE_LINE_ENDINGS'));
    const corpusCr = await run(fs.readFileSync(path.join(FIXTURES, 'sisimai/lhost-activehunter-01-cr.eml')));
    assert.equal(corpusCr.parse.lineEndings, 'cr');
    assert.ok(corpusCr.parse.headerCount > 5, 'CR-only corpus sample has its headers parsed');
  });

  test('an mbox From_ line at the top is not taken for a header', async () => {
    const a = await run(
      `From spammer@example.com  Thu Aug 22 13:17:22 2002\nFrom: x@example.com\nSubject: hi\n\nbody\n`,
    );
    assert.equal(a.parse.headers[0].name, 'From');
    assert.equal(a.parse.subject, 'hi');
  });
});

describe('parse: HTML, attachments, carried messages', () => {
  test('renders HTML to visible text without script, style or comments', async () => {
    const html =
      '<html><head><title>t</title><style>p{x}</style></head><body><script>alert(1)</script><!-- hidden ' +
      '--><p>Dear&nbsp;customer,</p><div>pay &amp; go</div></body></html>';
    const a = await run(mail(['From: a@example.com', 'Content-Type: text/html; charset=utf-8'], html));
    assert.equal(a.parse.visibleText, 'Dear customer,\npay & go');
    assert.ok(codes(a).includes('HTML_ONLY'));
  });

  test('sniffs attachment types, hashes them, and flags a disguised executable', async () => {
    const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(64, 1)]);
    const body = [
      '--b',
      'Content-Type: text/plain',
      '',
      'see attached',
      '--b',
      'Content-Type: application/pdf; name="invoice.pdf"',
      'Content-Disposition: attachment; filename="invoice.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      exe.toString('base64'),
      '--b--',
      '',
    ].join('\r\n');
    const a = await run(mail(['From: a@example.com', 'Content-Type: multipart/mixed; boundary="b"'], body));
    const att = a.parse.attachments[0];
    assert.equal(att.filename, 'invoice.pdf');
    assert.equal(att.declaredType, 'application/pdf');
    assert.equal(att.sniffedType, 'application/x-msdownload');
    assert.equal(att.size, exe.length);
    assert.match(att.sha256, /^[0-9a-f]{64}$/);
    assert.ok(codes(a).includes('ATTACHMENT_TYPE_MISMATCH'));
    assert.ok(codes(a).includes('EXECUTABLE_ATTACHMENT'));
  });

  test('analyses a carried message/rfc822 recursively, and stops at the depth limit', async () => {
    let inner = mail(
      ['From: "PayPal" <service@paypa1-secure.example>', 'Subject: Verify your account'],
      'Log in at http://paypa1-secure.example/login\r\n',
    );
    for (let depth = 0; depth < 7; depth++) {
      const b = `n${depth}`;
      inner = mail(
        ['From: fwd@example.org', `Subject: level ${depth}`, `Content-Type: multipart/mixed; boundary="${b}"`],
        Buffer.concat([
          Buffer.from(`--${b}\r\nContent-Type: message/rfc822\r\n\r\n`),
          inner,
          Buffer.from(`\r\n--${b}--\r\n`),
        ]),
      );
    }
    const a = await run(inner);
    assert.equal(a.parse.nestedDepth, settings.maxNestingDepth);
    assert.ok(codes(a).includes('NESTED_MESSAGE'));
    assert.ok(codes(a).includes('PARSE_LIMIT_REACHED'));
    assert.equal(a.parse.attachments[0].nested?.subject, 'level 5');
    const shallow = await run(
      mail(
        ['From: fwd@example.org', 'Content-Type: multipart/mixed; boundary="n"'],
        Buffer.concat([
          Buffer.from('--n\r\nContent-Type: message/rfc822\r\n\r\n'),
          mail(
            ['From: "PayPal" <service@paypa1-secure.example>', 'Subject: Verify'],
            'Log in at http://paypa1-secure.example/login\r\n',
          ),
          Buffer.from('\r\n--n--\r\n'),
        ]),
      ),
    );
    assert.ok(
      shallow.indicators.urls.some((u) => u.registrableDomain === 'paypa1-secure.example' && u.part === 'nested:0'),
    );
  });
});

describe('indicators', () => {
  test('finds URLs in text and HTML (href, src, form action, defanged, bare domains), normalised', async () => {
    const html =
      '<a href="https://Bit.ly/AbC">www.mybank.com</a><img src="http://cdn.track.example/p.gif"><form ' +
      'action="https://collect.example/post"><input name=p></form>';
    const text =
      'Go to hxxps://evil[.]example/login or shop.example.co.uk today, not invoice.zip. Mail me: Boss@Corp.example';
    const body = [
      '--a',
      'Content-Type: text/plain',
      '',
      text,
      '--a',
      'Content-Type: text/html',
      '',
      html,
      '--a--',
      '',
    ].join('\r\n');
    const a = await run(mail(['From: a@corp.example', 'Content-Type: multipart/alternative; boundary="a"'], body));
    const by = new Map(a.indicators.urls.map((u) => [u.registrableDomain, u]));
    assert.equal(by.get('evil.example')?.source, 'defanged');
    assert.equal(by.get('evil.example')?.url, 'https://evil.example/login');
    assert.equal(by.get('example.co.uk')?.source, 'bare-domain');
    assert.equal(by.get('bit.ly')?.shortener, true);
    assert.equal(by.get('bit.ly')?.url, 'https://bit.ly/AbC');
    assert.equal(by.get('track.example')?.source, 'html-src');
    assert.equal(by.get('collect.example')?.source, 'form-action');
    assert.ok(!a.indicators.urls.some((u) => u.host.endsWith('.zip')), 'file names are not domains');
    assert.ok(a.indicators.emails.includes('boss@corp.example'));
    for (const c of ['URL_SHORTENER', 'URL_DEFANGED', 'FORM_IN_MESSAGE', 'URL_TEXT_HREF_MISMATCH'] as const)
      assert.ok(codes(a).includes(c), c);
  });

  test('phone numbers in E.164 with the configured region; wallets only with a valid checksum', async () => {
    const text = [
      'Appelez le 06 12 34 56 78 ou +44 20 7946 0958.',
      'Pay 0.1 BTC to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 or bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq.',
      'Not a wallet: 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3. ETH 0x52908400098527886E0F7030069857D2E4169EE7.',
    ].join('\n');
    const a = await run(mail(['From: a@example.com'], text));
    assert.deepEqual(a.indicators.phones.map((p) => p.e164).sort(), ['+33612345678', '+442079460958']);
    assert.deepEqual(
      a.indicators.wallets.map((w) => `${w.currency}:${w.address}`),
      [
        'BTC:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2',
        'BTC:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq',
        'ETH:0x52908400098527886E0F7030069857D2E4169EE7',
      ],
    );
  });

  test('sender mismatches and brand impersonation in the display name', async () => {
    const a = await run(
      mail(
        [
          'From: "PayPal Security" <alert@secure-login.example>',
          'Reply-To: <collect@other.example>',
          'Return-Path: <bounce@bulk.example>',
        ],
        'x',
      ),
    );
    assert.equal(a.indicators.sender.impersonatedBrand, 'PayPal');
    assert.deepEqual(a.indicators.sender.mismatches, ['reply-to-domain', 'return-path-domain', 'brand-display-name']);
    assert.ok(codes(a).includes('BRAND_IMPERSONATION'));
    assert.ok(codes(a).includes('SENDER_CONCEALED'), 'compliance sees the disguise');
    const real = await run(mail(['From: "PayPal" <service@mail.paypal.com>'], 'x'));
    assert.equal(real.indicators.sender.impersonatedBrand, undefined);
  });
});

describe('compliance', () => {
  const base = ['From: news@shop.example', 'Subject: offer', 'Content-Type: text/plain'];
  test('a usable List-Unsubscribe with RFC 8058 one-click is an opt-out', async () => {
    const a = await run(
      mail(
        [
          ...base,
          'List-Unsubscribe: <mailto:unsub@shop.example>, <https://shop.example/u?id=1>',
          'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
        ],
        'x',
      ),
    );
    assert.equal(a.compliance.optOut.status, 'present');
    assert.equal(a.compliance.optOut.oneClick, true);
    assert.ok(!codes(a).includes('NO_OPT_OUT') && !codes(a).includes('BROKEN_OPT_OUT'));
  });
  test('a List-Unsubscribe with no usable URI is broken; one-click without https is broken', async () => {
    const a = await run(mail([...base, 'List-Unsubscribe: <mailto:>, <javascript:void(0)>'], 'x'));
    assert.equal(a.compliance.optOut.status, 'broken');
    assert.ok(codes(a).includes('BROKEN_OPT_OUT'));
    const b = await run(
      mail(
        [...base, 'List-Unsubscribe: <mailto:u@shop.example>', 'List-Unsubscribe-Post: List-Unsubscribe=One-Click'],
        'x',
      ),
    );
    assert.equal(b.compliance.optOut.oneClick, false);
    assert.ok(b.findings.some((f) => f.code === 'BROKEN_OPT_OUT' && f.evidence.rule === 'RFC 8058 §3.1'));
  });
  test('no header and no unsubscribe link: no opt-out; an unsubscribe link in the body counts', async () => {
    const a = await run(mail(base, 'Buy now!'));
    assert.equal(a.compliance.optOut.status, 'absent');
    assert.ok(codes(a).includes('NO_OPT_OUT'));
    const b = await run(
      mail(
        ['From: news@shop.example', 'Content-Type: text/html; charset=utf-8'],
        Buffer.from('<a href="https://shop.example/x">Se désinscrire</a>', 'utf8'),
      ),
    );
    assert.equal(b.compliance.optOut.status, 'present');
  });
  test('the reporter’s statement on consent is recorded with its words', async () => {
    const raw = mail(base, 'x');
    const a = await analyse(raw, {
      ports: offlinePorts(NOW),
      settings,
      reporter: { note: 'I never subscribed to this shop', consent: null },
    });
    assert.equal(a.compliance.consent.stated, 'not-given');
    assert.equal(
      a.findings.find((f) => f.code === 'CONSENT_DENIED_BY_REPORTER')?.evidence.value,
      'I never subscribed to this shop',
    );
  });
});

describe('pipeline', () => {
  test('SMS evidence is analysed as kind sms: text indicators, STOP opt-out', async () => {
    const raw = serializeSmsEvidence({
      sender: 'COLIS-INFO',
      text: 'Votre colis est bloque: https://bit.ly/3xYz payez 1,99 EUR au 06 12 34 56 78',
      receivedAt: '2026-01-01T10:00:00.000Z',
    });
    const a = await run(raw);
    assert.equal(a.kind, 'sms');
    assert.equal(a.indicators.urls[0].host, 'bit.ly');
    assert.equal(a.indicators.phones[0].e164, '+33612345678');
    assert.equal(a.compliance.optOut.status, 'absent');
    assert.ok(codes(a).includes('SMS_ALPHANUMERIC_SENDER'));
  });

  test('is deterministic, carries the sha256 and version, and matches the schema', async () => {
    for (const f of [
      'spamassassin/001',
      'postal_mime/mimetorture.eml',
      'zbateson/m4007.txt',
      'sisimai/arf-01-cr.eml',
    ]) {
      const raw = fs.readFileSync(path.join(FIXTURES, f));
      const a = await run(raw);
      const b = await run(raw);
      assert.deepEqual(a, b, f);
      assert.ok(AnalysisSchema.safeParse(a).success, f);
      assert.equal(a.analysedAt, NOW.toISOString());
      assert.equal(a.error, null);
    }
  });

  test(
    'a failing stage becomes a STAGE_ERROR finding and the other stages still run; stages cannot mutate their ' +
      'input',
    async () => {
      const boom = defineStage({
        id: 'boom',
        description: 'throws',
        kinds: ['email'],
        params: z.object({}),
        run: () => {
          throw new Error('kaput');
        },
      });
      const mutate = defineStage({
        id: 'mutate',
        description: 'tries to write into the record it reads',
        kinds: ['email'],
        params: z.object({}),
        run: ({ analysis }) => {
          Object.assign(analysis, { kind: 'sms' });
          return {};
        },
      });
      const a = await run(mail(['From: a@example.com', 'Subject: s'], 'http://x.example'), [
        STAGES[0],
        boom,
        mutate,
        ...STAGES.slice(1),
      ]);
      assert.ok(a.findings.some((f) => f.code === 'STAGE_ERROR' && f.stage === 'boom' && /kaput/.test(f.message)));
      assert.ok(
        a.findings.some((f) => f.code === 'STAGE_ERROR' && f.stage === 'mutate'),
        'the frozen record refused the write',
      );
      assert.equal(a.kind, 'email');
      assert.equal(a.indicators.urls[0].host, 'x.example', 'later stages ran');
      assert.deepEqual(
        a.stages.filter((s) => !s.ok).map((s) => s.id),
        ['boom', 'mutate'],
      );
    },
  );

  test('garbage and empty input yield a record, never an exception', async () => {
    for (const raw of [
      Buffer.alloc(0),
      Buffer.from([0xff, 0xfe, 0x00, 0x0d]),
      Buffer.from('{"type":"sms"'),
      Buffer.alloc(100_000, 0x3c),
    ]) {
      const a = await run(raw);
      assert.ok(AnalysisSchema.safeParse(a).success);
    }
  });
});
