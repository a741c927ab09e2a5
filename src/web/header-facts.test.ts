/**
 * The subject and sender a report is listed with before its analysis (`headerFacts` in indexer.ts) are
 * what postal-mime reads from the same header block, on every corpus message, mixed as they come; where
 * the two differ, the header-block reader is the one that reads the field (CR-only line ends, a
 * byte-order mark before the first field, `From :` written with a space before its colon).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import PostalMime from 'postal-mime';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { corpusMessages } from '../analysis/test-support/corpus-messages.ts';
import { headerFacts } from './indexer.ts';

/** postal-mime's reading of the header block alone: what the list showed before `headerFacts`. */
async function postalMimeFacts(raw: Buffer): Promise<{ subject: string | null; sender: string | null }> {
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = raw.indexOf('\n\n');
  const head = raw.subarray(0, end < 0 ? raw.length : end);
  try {
    const email = await PostalMime.parse(Buffer.concat([head, Buffer.from('\r\n\r\n')]), { maxNestingDepth: 4 });
    return { subject: email.subject?.slice(0, 500) ?? null, sender: email.from?.address?.slice(0, 320) ?? null };
  } catch {
    return { subject: null, sender: null };
  }
}

test('the subject and sender read before the analysis are postal-mime’s on corpus messages', {
  timeout: 600_000,
}, async (t) => {
  if (!needsCorpus(t)) return;
  const messages = corpusMessages(CORPUS_DIR).filter((m) => !m.origin.includes('SMSSpamCollection'));
  const differ: string[] = [];
  let withSubject = 0;
  for (const m of messages) {
    const want = await postalMimeFacts(m.raw);
    const got = headerFacts(m.raw);
    if (got.subject) withSubject++;
    if (want.subject !== got.subject || want.sender !== got.sender)
      differ.push(`${m.origin}: ${JSON.stringify(want)} / ${JSON.stringify(got)}`);
  }
  assert.ok(messages.length > 1000 && withSubject > messages.length / 2, `${withSubject} of ${messages.length}`);
  // The differences (83 of 15,756 when written): CR-only line ends that postal-mime does not split (sisimai's
  // mac folder, read here), a byte-order mark before the first field, an SMTP transcript and one malformed fixture.
  assert.ok(differ.length <= messages.length / 100, `${differ.length} differ:\n${differ.slice(0, 20).join('\n')}`);
  const known = /\/mac\/|feedback-report\.txt|rfc2822\/example13|spam\/bsmtp|unmunged\.mbox/;
  const unexpected = differ.filter((d) => !known.test(d));
  assert.deepEqual(unexpected, [], 'a difference outside the known shapes');
});

test('headerFacts reads CR-only headers, a byte-order mark and `From :` that postal-mime misses', () => {
  const cr = Buffer.from('From: a@example.org\rSubject: =?UTF-8?B?UHJpeA==?= now\r\rbody', 'latin1');
  assert.deepEqual(headerFacts(cr), { subject: 'Prix now', sender: 'a@example.org' });
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('From: <b@example.net>\nSubject: Hi\n\nx')]);
  assert.deepEqual(headerFacts(bom), { subject: 'Hi', sender: 'b@example.net' });
  const spaced = Buffer.from('From : c@example.com\nSubject: Yo\n\nx');
  assert.deepEqual(headerFacts(spaced), { subject: 'Yo', sender: 'c@example.com' });
  // An mbox envelope line is still skipped, colons in its date and all.
  const mbox = Buffer.from('From d@example.com Fri Jul  8 12:08:34 2011\nFrom: e@example.com\nSubject: S\n\nx');
  assert.deepEqual(headerFacts(mbox), { subject: 'S', sender: 'e@example.com' });
  // 8-bit UTF-8 in a field is read as UTF-8, as postal-mime reads it.
  const utf8 = Buffer.from('Subject: Café €5\nFrom: f@example.org\n\nx', 'utf8');
  assert.deepEqual(headerFacts(utf8), { subject: 'Café €5', sender: 'f@example.org' });
  assert.deepEqual(headerFacts(Buffer.from('no header here')), { subject: null, sender: null });
});
