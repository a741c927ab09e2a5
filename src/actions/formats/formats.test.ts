import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArf } from '../../intake/arf/parse-arf.ts';
import { toCsv } from './csv.ts';
import { buildMessage, encodeHeaderValue, isEmbeddable } from './mime.ts';
import { toArf, toXarf, type AlertForDigest } from './isp-formats.ts';
import { xarfProblems } from './xarf-validate.ts';
import { escapeHtml, renderCaseReportHtml } from '../referrals/case-report-html.ts';
import type { CaseSummary } from '../referrals/case-summary.ts';

const ME = { org: 'Spamdesk test', domain: 'spamdesk.example', contact: 'abuse@spamdesk.example' };

function alert(over: Partial<AlertForDigest> = {}): AlertForDigest {
  return {
    ip: '203.0.113.5',
    asn: 64500,
    asName: 'EXAMPLE-BB',
    firstSeen: '2026-11-01T10:00:00.000Z',
    lastSeen: '2026-11-02T10:00:00.000Z',
    reportCount: 4,
    campaignCount: 2,
    signals: ['dynamic-rdns', 'unauthenticated'],
    rdns: 'dyn-5.pool.example',
    incidents: [{ at: '2026-11-02T10:00:00.000Z', port: null }],
    sample: null,
    sampleMailFrom: null,
    ...over,
  };
}

test('CSV quotes separators and neutralises spreadsheet formulas from hostile values', () => {
  const csv = toCsv(
    ['a', 'b'],
    [
      ['=HYPERLINK("http://x")', 'x,y'],
      ['say "hi"', null],
    ],
  );
  assert.equal(csv, 'a,b\r\n"\'=HYPERLINK(""http://x"")","x,y"\r\n"say ""hi""",\r\n');
});

test('header values cannot inject headers; non-ASCII is RFC 2047 encoded', () => {
  const raw = buildMessage(
    { from: 'a@b.example', to: ['c@d.example'], subject: 'hi\r\nBcc: victim@evil.example', messageId: '<1@b.example>' },
    { contentType: 'text/plain', encoding: '7bit', body: 'x' },
  );
  assert.ok(!/^Bcc:/m.test(raw.toString()));
  assert.equal(encodeHeaderValue('Tèst'), '=?UTF-8?B?VMOoc3Q=?=');
});

test('the HTML report escapes everything taken from messages', () => {
  assert.equal(escapeHtml('<script>alert(1)</script>'), '&lt;script&gt;alert(1)&lt;/script&gt;');
  const summary = {
    instance: { org: 'o', url: 'u' },
    generatedAt: 'now',
    authority: { name: 'A', country: 'FR', competence: 'cybercrime' },
    case: {
      id: 'C',
      title: '<img src=x onerror=alert(1)>',
      target: { kind: 'campaign', value: 'v' },
      category: null,
      state: 'open',
      openedAt: 't',
      openedBy: 'rule:X',
    },
    volumes: { reports: 1, distinctMessages: 1, firstReportedAt: null, lastReportedAt: null, byDay: [], byChannel: [] },
    timeline: [],
    indicators: {
      urls: [{ value: 'javascript:alert(1)"><b>', count: 1 }],
      domains: [],
      resources: [],
      resourceHosts: [{ value: '<script>x</script>', count: 1 }],
      mentions: [{ value: 'http://x/"><img src=x onerror=alert(2)>', count: 1 }],
      mentionedDomains: [],
      phones: [],
      wallets: [],
      senders: [],
    },
    traceback: [],
    findings: [],
    messages: [],
    format: 'spamdesk-case-summary/1',
  } satisfies Omit<CaseSummary, never>;
  const html = renderCaseReportHtml(summary, { packageId: 'P', keyFingerprint: 'F' });
  assert.ok(!html.includes('<img src=x'));
  assert.ok(!html.includes('"><b>'));
  assert.ok(!html.includes('<script>x'), 'resource hosts are escaped too');
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
});

test('X-ARF without a known port omits source_port and still validates; with one it carries it', () => {
  assert.deepEqual(xarfProblems(toXarf(alert(), ME)), []);
  const withPort = toXarf(alert({ incidents: [{ at: '2026-11-02T10:00:00.000Z', port: 51234 }] }), ME);
  assert.equal(withPort.source_port, 51234);
  assert.deepEqual(xarfProblems(withPort), []);
  assert.notDeepEqual(xarfProblems({ ...withPort, category: 'infrastructure', type: 'no-such-type' }), []);
});

test('ARF falls back to text/rfc822-headers when the sample cannot travel as 8bit text', () => {
  const longLine = Buffer.from(`Subject: x\r\nFrom: a@b.example\r\n\r\n${'y'.repeat(2000)}\r\n`);
  assert.equal(isEmbeddable(longLine), false);
  const { raw } = toArf(alert({ sample: longLine }), ME, 'desk@spamdesk.example', 'abuse@isp.example', 'en');
  const parsed = parseArf(raw);
  assert.ok(parsed);
  assert.equal(parsed.originalKind, 'text/rfc822-headers');
  assert.ok(parsed.original && !parsed.original.toString().includes('yyyy'));
  assert.equal(parsed.sourceIp, '203.0.113.5');
});
