/**
 * Every kind of mail the actions area sends, rendered in French from a real corpus message, holds
 * no sentence of the English catalogue (`mail-texts.ts`): the referral covering mail, the ISP
 * digest (X-ARF and ARF cover), the per-IP ARF report's readable part, and the complaint feedback to
 * a sender. The subject is in one language; machine-readable parts keep their English field names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import PostalMime from 'postal-mime';
import { CORPUS_DIR, needsCorpus } from '../../core/test-env.ts';
import { MAIL_TEXTS } from './mail-texts.ts';
import { toArf, type AlertForDigest } from './isp-formats.ts';
import { digestMails } from '../isp/isp-digests.ts';
import { senderArf } from '../fbl/sender-feedback.ts';
import { referralMailText } from '../referrals/referrals.ts';
import type { OperatorRow } from '../../db/actions-tables.ts';

const SAMPLE = 'spam_archive_2023_2025/2025/01_Please get back to me._modified.eml';
const ME = { org: 'Signal Spam (test)', domain: 'spamdesk.example', contact: 'abuse@spamdesk.example' };

/** The literal pieces of every English template of two words or more (one word may be French too: "messages"). */
const ENGLISH_FRAGMENTS = Object.values(MAIL_TEXTS.en)
  .flatMap((t) => t.split(/\{\w+\}/))
  .map((s) => s.trim())
  .filter((s) => s.length >= 8 && s.includes(' '));

function assertNoEnglish(what: string, text: string): void {
  const left = ENGLISH_FRAGMENTS.filter((f) => text.includes(f));
  assert.deepEqual(left, [], `${what} still holds English: ${left.join(' | ')}`);
}

/** The subject and every text/plain part of a mail as its reader sees them. */
async function readable(raw: Buffer): Promise<{ subject: string; text: string }> {
  const m = await PostalMime.parse(raw, { maxNestingDepth: 20, maxHeadersSize: 1024 * 1024 });
  return { subject: m.subject ?? '', text: m.text ?? '' };
}

/** An alert as the digest builds it, from the corpus message: its first public Received IP and Return-Path. */
function alertFrom(raw: Buffer): AlertForDigest {
  const ip = /\[(\d{1,3}(?:\.\d{1,3}){3})\]/.exec(raw.toString('latin1'))?.[1] ?? '192.0.2.1';
  return {
    ip,
    asn: 36647,
    asName: 'YAHOO-GQ1',
    firstSeen: '2025-11-03T08:00:00.000Z',
    lastSeen: '2025-11-04T09:30:00.000Z',
    reportCount: 1234,
    campaignCount: 3,
    signals: ['dynamic-rdns'],
    rdns: null,
    incidents: [{ at: '2025-11-04T09:30:00.000Z', port: 50123 }],
    sample: raw,
    sampleMailFrom: null,
  };
}

test('every outgoing mail kind rendered in French from a corpus message holds no string of the English \
catalogue', async (t) => {
  if (!needsCorpus(t, SAMPLE)) return;
  const raw = fs.readFileSync(path.join(CORPUS_DIR, SAMPLE));
  const alert = alertFrom(raw);

  // The ARF report of one IP, and the digests of both formats.
  const arf = await readable(toArf(alert, ME, 'desk@spamdesk.example', 'abuse@isp.example', 'fr').raw);
  assertNoEnglish('ARF subject', arf.subject);
  assertNoEnglish('ARF text', arf.text);
  assert.match(arf.text, /1\u202f234\u00a0signalement\(s\) de spam/);
  const arfEn = await readable(toArf(alert, ME, 'desk@spamdesk.example', 'abuse@isp.example', 'en').raw);
  assert.match(arfEn.subject, /^Abuse report: spam sent from /);
  assert.match(
    toArf(alert, ME, 'd@spamdesk.example', 'a@isp.example', 'fr').raw.toString(),
    /Feedback-Type: abuse/,
    'the machine part keeps its fields',
  );
  const judged = { ...alert, reportIds: ['r1'], abuse: ['abuse@isp.example'], network: 'dynamic pool' };
  const w = { from: '2025-11-03T00:00:00.000Z', to: '2025-11-04T00:00:00.000Z', quietSince: '' };
  for (const format of ['xarf', 'arf'] as const) {
    const op: OperatorRow = {
      id: 'op1',
      name: 'Example ISP',
      abuse_address: 'abuse@isp.example',
      format,
      opted_out: 0,
      user_id: null,
      created_at: '2025-01-01T00:00:00.000Z',
      language: 'fr',
    };
    const mails = digestMails(op, [judged], 'ip\r\n', ME, 'desk@spamdesk.example', w, 'fr');
    for (const m of mails) {
      const r = await readable(m.raw);
      assertNoEnglish(`${format} digest subject`, r.subject);
      assertNoEnglish(`${format} digest text`, r.text);
    }
  }

  // Complaint feedback to a sender, for a domain and for an IP.
  const facts = { received_at: '2025-11-04T09:30:00.000Z', origin_ip: alert.ip, sender_domain: 'yahoo.com' };
  for (const identity of [
    { kind: 'domain', value: 'yahoo.com' },
    { kind: 'ip', value: alert.ip },
  ] as const) {
    const fbl = await readable(
      senderArf('desk@spamdesk.example', 'fbl@sender.example', facts, raw, identity, 'fr').raw,
    );
    assertNoEnglish('feedback subject', fbl.subject);
    assertNoEnglish('feedback text', fbl.text);
  }

  // The referral covering mail.
  const authority = { name: 'CNIL', competence: 'data_protection' };
  const c = { id: 'CASE1' };
  const mail = referralMailText(
    authority,
    c,
    {
      packageId: 'P1',
      sha256: 'b'.repeat(64),
      key: { fingerprint: 'ed25519:abcd' },
      summary: {
        volumes: {
          reports: 1234,
          distinctMessages: 17,
          firstReportedAt: '2025-11-03T08:00:00.000Z',
          lastReportedAt: '2025-11-04T09:30:00.000Z',
        },
      },
    },
    'Please get back to me.',
    { org: ME.org, url: 'https://spamdesk.example' },
    'fr',
  );
  assertNoEnglish('referral subject', mail.subject);
  assertNoEnglish('referral text', mail.text);
  assert.match(mail.text, /protection des données/);
  assert.doesNotMatch(mail.subject, /referral|Case /, 'one language in the subject');
});
