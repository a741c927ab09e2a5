/**
 * The listings evaluation's stream learns each reporter's mail hosts as the live job does: on the SpamAssassin
 * author's real spam_2 messages (read in place from ../shared/corpus, skipped loudly when absent), first after
 * FIRST_LEARNING_AFTER reports, then every RELEARN_EVERY, from the last MAX_LEARNING_CHAINS chains, each chain with
 * its own list-ness; an intake's key never learns delivering hosts or forwarders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../../src/core/test-env.ts';
import { FIRST_LEARNING_AFTER, MAX_LEARNING_CHAINS, RELEARN_EVERY } from '../../src/analysis/mailhost-store.ts';
import { mayBeListMail } from '../../src/analysis/list-mail.ts';
import { headerFields } from '../../src/analysis/stages/traceback/header-block.ts';
import { learnMailhosts } from '../../src/analysis/stages/traceback/mailhosts.ts';
import { parseReceived } from '../../src/analysis/stages/traceback/received-parser.ts';
import { trustTableFor } from '../../src/analysis/stages/traceback/trust.ts';
import { StreamReporters } from './stream-reporters.ts';
import { TIMHUNT, TIMHUNT_FEED, withoutListTraces } from '../../src/analysis/test-support/timhunt-feed.ts';

function folder(rel: string): { rel: string; raw: Buffer }[] {
  const dir = path.join(CORPUS_DIR, rel);
  return fs
    .readdirSync(dir)
    .sort()
    .filter((f) => f !== 'cmds')
    .map((f) => ({ rel: `${rel}/${f}`, raw: fs.readFileSync(path.join(dir, f)) }));
}

/** The SpamAssassin author's own reports: a top-four Received field names one of his domains (his reporter label). */
function authors(messages: { rel: string; raw: Buffer }[]): { rel: string; raw: Buffer }[] {
  return messages.filter((m) =>
    headerFields(m.raw)
      .filter((f) => f.name === 'received')
      .slice(0, 4)
      .some((f) => /jmason\.org|netnoteinc\.com|spamassassin\.taint\.org|slashnull\.org|zzzzason\.org/i.test(f.value)),
  );
}

test('the stream learns a reporter’s hosts on the live schedule, from the last window of their reports', (t) => {
  if (!needsCorpus(t, 'spamassassin/spam_2')) return;
  const stream = new StreamReporters();
  // Exactly FIRST_LEARNING_AFTER + k·RELEARN_EVERY of the author's reports, so the last one ends a learning pass.
  const mine = authors(folder('spamassassin/spam_2'));
  const n = MAX_LEARNING_CHAINS + RELEARN_EVERY;
  assert.ok(mine.length >= n, `${mine.length} of the author's spam_2 messages`);
  const used = mine.slice(0, n);
  const passes: number[] = [];
  used.forEach((m, i) => {
    const r = stream.next(m.rel, m.raw, i);
    assert.equal(r.reporter, 'user:jmason');
    assert.deepEqual(r.recipientDomains, ['jmason.org']);
    // Nothing is known of a new reporter before the first pass.
    if (i < FIRST_LEARNING_AFTER) assert.deepEqual(r.mailhosts, [], `report ${i}`);
    for (const l of r.done()) {
      if (l.key !== 'user:jmason') continue;
      passes.push(i + 1);
      assert.ok(l.window.length <= MAX_LEARNING_CHAINS);
      assert.equal(l.window.at(-1)?.ref, i, 'the window ends at the report that started the pass');
    }
  });
  assert.equal(stream.reports.get('user:jmason'), n);
  assert.equal(stream.reports.get('intake:eval'), n);
  // Passes that learned something new come only at the live job's points.
  for (const p of passes) assert.ok(p === FIRST_LEARNING_AFTER || p % RELEARN_EVERY === 0, `pass after report ${p}`);
  // The last pass read the last MAX_LEARNING_CHAINS chains with their own list-ness: the same as learning afresh.
  const last = used.slice(-MAX_LEARNING_CHAINS);
  const chains = last.map((m) =>
    headerFields(m.raw)
      .filter((f) => f.name === 'received')
      .map((f) => parseReceived(f.value)),
  );
  const expected = learnMailhosts(chains, trustTableFor([], null), {
    deliveringHosts: true,
    listMail: last.map((m) => mayBeListMail(headerFields(m.raw))),
  });
  assert.ok(expected.length > 0, 'the author’s own relays are learned');
  assert.deepEqual(stream.learned().get('user:jmason'), expected);
  // The intake's key learns from the same chains without delivering hosts or forwarders (`=name` entries).
  assert.ok((stream.learned().get('intake:eval') ?? []).every((h) => !h.startsWith('=')));
  // A message of no labelled reporter's mailbox is an anonymous report through the intake.
  const other = folder('spamassassin/spam_2').find((m) => !used.includes(m) && !mine.includes(m));
  if (other !== undefined) {
    const r = stream.next('nazario_phishing/x', other.raw);
    assert.equal(r.reporter, null);
    assert.deepEqual(r.recipientDomains, []);
  }
});

test('each chain of the window is learned from with its own list-ness, after the window has moved on', (t) => {
  if (!needsCorpus(t, 'spamassassin/hard_ham')) return;
  // ns1.timhunt.net forwards throw-away addresses into the author's trap (hard_ham/00126 and six more); without the
  // list traces three of them carry, as a personal mailbox's forward arrives, it is learned as his forwarder. Before
  // it, enough of the author's other mail to move the window past its start, the last of it list mail: read against
  // the wrong chain, those messages' list-ness would hold the forwarder back.
  const timhunt = TIMHUNT_FEED.map((p) => ({
    rel: `spamassassin/${p}`,
    raw: withoutListTraces(CORPUS_DIR, p),
  }));
  const others = authors(folder('spamassassin/spam_2')).filter((m) => !m.raw.includes(TIMHUNT));
  const list = others.filter((m) => mayBeListMail(headerFields(m.raw)));
  const plain = others.filter((m) => !mayBeListMail(headerFields(m.raw)));
  const n = MAX_LEARNING_CHAINS + RELEARN_EVERY;
  const filler = n - timhunt.length;
  assert.ok(list.length >= RELEARN_EVERY && plain.length >= filler - RELEARN_EVERY);
  const feed = [...plain.slice(0, filler - RELEARN_EVERY), ...list.slice(0, RELEARN_EVERY), ...timhunt];
  const stream = new StreamReporters();
  for (const [i, m] of feed.entries()) stream.next(m.rel, m.raw, i).done();
  assert.equal(stream.reports.get('user:jmason'), n);
  assert.ok(stream.learned().get('user:jmason')?.includes(TIMHUNT), 'the forwarder is learned');
  assert.ok(!stream.learned().get('intake:eval')?.includes(TIMHUNT), 'never for the intake');
});
