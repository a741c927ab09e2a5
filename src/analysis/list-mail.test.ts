import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR, needsCorpus } from '../core/test-env.ts';
import { readLabelled } from '../../scripts/eval/evaluate-traceback.ts';
import { isListMail } from './list-mail.ts';

/** A message with these header lines and a short body. */
function message(...fields: string[]): Buffer {
  return Buffer.from(
    [...fields, 'From: a@example.org', 'Subject: hello', '', 'Body with List-Id: in it', ''].join('\r\n'),
  );
}

test('a field only a list manager writes marks list mail: List-Id, List-Post, ezmlm, Mailman, Precedence', () => {
  assert.equal(isListMail(message('List-Id: "R help"\r\n <r-help.stat.math.ethz.ch>')), true);
  assert.equal(isListMail(message('list-post: <mailto:fork@xent.com>')), true);
  assert.equal(isListMail(message('Mailing-List: contact beginners-help@perl.org; run by ezmlm')), true);
  assert.equal(isListMail(message('X-BeenThere: exmh-users@redhat.com')), true);
  assert.equal(isListMail(message('Precedence: list')), true);
});

test('List-Unsubscribe, Precedence bulk and a body that names list fields are not list mail', () => {
  assert.equal(isListMail(message('List-Unsubscribe: <https://esp.example/u/1>', 'Precedence: bulk')), false);
  assert.equal(isListMail(message()), false);
  assert.equal(isListMail(Buffer.alloc(0)), false);
});

test('the corpus list servers’ mail is list mail, the recipients’ forwards are not (spamassassin, trec07p)', (t) => {
  if (!needsCorpus(t)) return;
  // The FoRK, Red Hat exmh, R-help and perl.org beginners lists: the labels name each list's server as the origin.
  for (const p of [
    'spamassassin/easy_ham/00368.f86324a03e7ae7070cc40f302385f5d3',
    'spamassassin/easy_ham/00979.9eef0c20fa5a680d5d4d5b752bbf9453',
    'trec07p/data/inmail.4256',
    'trec07p/data/inmail.2902',
  ])
    assert.equal(isListMail(readLabelled(CORPUS_DIR, p)), true, p);
  // sonic.net's forward into the spam traps, cheerco.net's role address, the Bochum web.de forward: forwarders.
  for (const p of [
    'spamassassin/spam/00034.8e582263070076dfe6000411d9b13ce6',
    'spamassassin/spam/00331.a61788d316e7393c8bbf8ee19b24c713',
    'spamassassin/hard_ham/00010.e82bd1f5f7eae426682a7f8e4cbf1ae6',
  ])
    assert.equal(isListMail(readLabelled(CORPUS_DIR, p)), false, p);
});

test('hostile headers: a 2 MiB header block, NUL and invalid UTF-8 bytes, no blank line — an answer, no throw', () => {
  const huge = Buffer.concat([
    Buffer.from(`X-Pad: ${'a'.repeat(2 * 1024 * 1024)}\r\n`),
    Buffer.from('List-Id: <beyond.the.bound>\r\n\r\nbody'),
  ]);
  assert.equal(isListMail(huge), false, 'a field past the 1 MiB bound of the header block is not read');
  assert.equal(isListMail(Buffer.from([0x4c, 0x69, 0x73, 0x74, 0x2d, 0x49, 0x64, 0x3a, 0x20, 0xff, 0x00, 0xfe])), true);
  assert.equal(isListMail(Buffer.from('Subject: \xff\xfe no blank line, no list field')), false);
});
