import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { isArf, parseArf } from './parse-arf.ts';

const STALWART = path.join(CORPUS_DIR, 'arf_dmarc_reports', 'stalwart_mail_auth', 'resources', 'arf');
const SISIMAI = path.join(CORPUS_DIR, 'sisimai', 'maildir');

interface StalwartExpected {
  feedback_type: string;
  arrival_date: number | null;
  authentication_results: string[];
  incidents: number;
  original_envelope_id: string | null;
  original_mail_from: string | null;
  original_rcpt_to: string | null;
  reported_domain: string[];
  reported_uri: string[];
  reporting_mta: string | null;
  source_ip: string | null;
  user_agent: string | null;
  version: number;
}

const FEEDBACK_TYPE: Record<string, string> = {
  Abuse: 'abuse',
  AuthFailure: 'auth-failure',
  Fraud: 'fraud',
  NotSpam: 'not-spam',
  Other: 'other',
  Virus: 'virus',
};
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
const bare = (s: string | null) => (s === null ? null : s.replace(/^<|>$/g, ''));

test('parseArf reads the Stalwart mail-auth ARF samples as Stalwart’s own parser does', (t) => {
  if (!needsCorpus(t, 'arf_dmarc_reports/stalwart_mail_auth/resources/arf')) return;
  const files = fs
    .readdirSync(STALWART)
    .filter((f) => f.endsWith('.eml'))
    .sort();
  assert.ok(files.length >= 5);
  for (const f of files) {
    const expected = JSON.parse(
      fs.readFileSync(path.join(STALWART, f.replace(/\.eml$/, '.json')), 'utf8'),
    ) as StalwartExpected;
    const r = parseArf(fs.readFileSync(path.join(STALWART, f)));
    assert.ok(r, `${f} is ARF`);
    assert.equal(r.feedbackType, FEEDBACK_TYPE[expected.feedback_type], f);
    assert.equal(r.userAgent, expected.user_agent, f);
    assert.equal(r.version, String(expected.version), f);
    assert.equal(r.sourceIp, expected.source_ip, f);
    assert.equal(r.originalMailFrom, bare(expected.original_mail_from), f);
    assert.deepEqual(r.originalRcptTo, expected.original_rcpt_to ? [bare(expected.original_rcpt_to)] : [], f);
    assert.equal(r.originalEnvelopeId, expected.original_envelope_id, f);
    assert.equal(r.reportingMta, expected.reporting_mta, f);
    assert.deepEqual(r.reportedDomain, expected.reported_domain, f);
    assert.deepEqual(r.reportedUri, expected.reported_uri, f);
    assert.deepEqual(r.authenticationResults.map(squash), expected.authentication_results.map(squash), f);
    assert.equal(r.incidents ?? 1, expected.incidents, f);
    assert.equal(
      r.arrivalDateIso,
      expected.arrival_date === null ? null : new Date(expected.arrival_date * 1000).toISOString(),
      f,
    );
  }
});

test('parseArf reads every sisimai feedback-loop report, with LF, CRLF and CR-only line endings alike', (t) => {
  if (!needsCorpus(t, 'sisimai/maildir/bsd')) return;
  const bsd = fs.readdirSync(path.join(SISIMAI, 'bsd')).filter((f) => /^arf-\d+\.eml$/.test(f));
  let parsed = 0;
  for (const f of bsd) {
    const raw = fs.readFileSync(path.join(SISIMAI, 'bsd', f));
    const r = parseArf(raw);
    // Microsoft JMRP samples (arf-22…24, 26) are not RFC 5965: they carry no feedback-report part.
    if (!/report-type=\s*"?feedback-report/i.test(raw.toString('latin1'))) {
      assert.equal(r, null, `${f} is not ARF`);
      continue;
    }
    assert.ok(r, `${f} parses`);
    assert.ok(r.feedbackType !== '', f);
    parsed++;
    for (const variant of ['dos', 'mac']) {
      const p = path.join(SISIMAI, variant, f);
      if (!fs.existsSync(p)) continue;
      const other = parseArf(fs.readFileSync(p));
      assert.ok(other, `${variant}/${f} parses`);
      const { original: _a, humanReadable: _b, ...fieldsA } = r;
      const { original: _c, humanReadable: _d, ...fieldsB } = other;
      assert.deepEqual(fieldsB, fieldsA, `${variant}/${f} reads as bsd/${f}`);
    }
  }
  assert.ok(parsed >= 13, `parsed ${parsed}`);
  const r = parseArf(fs.readFileSync(path.join(SISIMAI, 'bsd', 'arf-16.eml')));
  assert.equal(r?.sourceIp, '192.0.2.1');
  assert.deepEqual(r?.reportedDomain, ['example.com', 'example.org']);
  assert.equal(r?.originalKind, 'message/rfc822');
  assert.match(r?.original?.toString('latin1') ?? '', /^Return-Path|^Received|^From|^[A-Za-z-]+:/);
  const headersOnly = parseArf(fs.readFileSync(path.join(SISIMAI, 'bsd', 'arf-19.eml')));
  assert.equal(headersOnly?.originalKind, 'text/rfc822-headers');
});

test('a feedback report built to RFC 5965 §3 reads back field for field, base64 original decoded', () => {
  const original =
    'From: shop@spammer.example\r\nTo: victim@isp.example\r\nSubject: Deals\r\nMessage-ID: ' +
    '<1@spammer.example>\r\n\r\nBuy now\r\n';
  const raw = [
    'From: fbl@isp.example',
    'To: abuse@sender.example',
    'Subject: FW: Deals',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report;',
    '\tboundary="part1_13d.2e68ed54_boundary"',
    '',
    '--part1_13d.2e68ed54_boundary',
    'Content-Type: text/plain; charset="US-ASCII"',
    'Content-Transfer-Encoding: 7bit',
    '',
    'This is an email abuse report for an email message received from IP 192.0.2.1.',
    '',
    '--part1_13d.2e68ed54_boundary',
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: fraud',
    'User-Agent: Spamdesk/0.1',
    'Version: 1',
    'Original-Mail-From: <shop@spammer.example>',
    'Original-Rcpt-To: <victim@isp.example>',
    'Original-Rcpt-To: <other@isp.example>',
    'Arrival-Date: Thu, 8 Mar 2005 14:00:00 -0500',
    'Reporting-MTA: dns; mail.isp.example',
    'Source-IP: 2001:db8::25',
    'Incidents: 3',
    'Authentication-Results: mail.isp.example; spf=fail',
    '  smtp.mail=shop@spammer.example',
    'Reported-Domain: spammer.example',
    'Reported-URI: http://spammer.example/deals',
    'X-Vendor-Field: kept',
    '',
    '--part1_13d.2e68ed54_boundary',
    'Content-Type: message/rfc822',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(original).toString('base64'),
    '--part1_13d.2e68ed54_boundary--',
    '',
  ].join('\r\n');
  const r = parseArf(Buffer.from(raw));
  assert.ok(r);
  assert.deepEqual(
    { ...r, original: r.original?.toString('latin1') },
    {
      feedbackType: 'fraud',
      userAgent: 'Spamdesk/0.1',
      version: '1',
      originalEnvelopeId: null,
      originalMailFrom: 'shop@spammer.example',
      originalRcptTo: ['victim@isp.example', 'other@isp.example'],
      arrivalDate: 'Thu, 8 Mar 2005 14:00:00 -0500',
      arrivalDateIso: '2005-03-08T19:00:00.000Z',
      reportingMta: 'mail.isp.example',
      sourceIp: '2001:db8::25',
      incidents: 3,
      authenticationResults: ['mail.isp.example; spf=fail  smtp.mail=shop@spammer.example'],
      reportedDomain: ['spammer.example'],
      reportedUri: ['http://spammer.example/deals'],
      other: { 'x-vendor-field': ['kept'] },
      original,
      originalKind: 'message/rfc822',
      humanReadable: 'This is an email abuse report for an email message received from IP 192.0.2.1.\r\n',
      warnings: [],
    },
  );
});

test('messages that are not feedback reports give null, hostile structure never throws', () => {
  assert.equal(parseArf(Buffer.from('From: a@b.example\r\nSubject: hi\r\n\r\nhello\r\n')), null);
  const dsn =
    'From: MAILER-DAEMON@x.example\r\nContent-Type: multipart/report; report-type=delivery-status; ' +
    'boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b\r\nContent-Type: ' +
    'message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--b--\r\n';
  assert.equal(parseArf(Buffer.from(dsn)), null);
  assert.equal(isArf(Buffer.from(dsn)), false);
  // 5,000 nested multiparts: bounded depth, no stack overflow.
  let nested = '';
  for (let i = 0; i < 5000; i++) nested += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
  assert.equal(parseArf(Buffer.from(`From: x@y.example\r\n${nested}`)), null);
  // A report whose feedback part lacks the required fields still parses, with warnings.
  const minimal =
    'Content-Type: multipart/report; report-type=feedback-report; boundary=z\r\n\r\n--z\r\nContent-Type: ' +
    'message/feedback-report\r\n\r\nX: y\r\n--z--\r\n';
  const r = parseArf(Buffer.from(minimal));
  assert.equal(r?.feedbackType, 'other');
  assert.equal(r?.warnings.length, 4);
});
