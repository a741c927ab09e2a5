/**
 * Learning a reporter's mail hosts from real chains: the walks a learning pass remembers give what
 * walking every chain afresh gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS_DIR, needsCorpus } from '../../../core/test-env.ts';
import { analyse } from '../../analyse.ts';
import { staticPorts } from '../../ports/index.ts';
import { defaultAnalysisSettings } from '../../settings.ts';
import { webnoteCorpus } from '../../test-webnote.ts';
import { mayBeListMail } from '../../list-mail.ts';
import { headerFields } from './header-block.ts';
import { learnMailhosts } from './mailhosts.ts';
import { parseReceived, type ParsedReceived } from './received-parser.ts';
import { trustTableFor } from './trust.ts';

/** The Received hops of spam_2 messages that reached their reporter through his secondary MX (mail.webnote.net). */
async function webnoteChains(): Promise<ParsedReceived[][]> {
  const { files } = webnoteCorpus();
  const ports = staticPorts();
  const settings = defaultAnalysisSettings({ dnsMode: 'offline' });
  const chains: ParsedReceived[][] = [];
  for (const f of files) {
    const a = await analyse(fs.readFileSync(f), { ports, settings });
    chains.push(a.traceback.hops.map(({ raw: _raw, ...hop }) => hop));
  }
  return chains;
}

test('learning again from the same chains gives what walking each chain afresh gives', async (t) => {
  if (!needsCorpus(t, 'spamassassin/spam_2')) return;
  const chains = await webnoteChains();
  assert.ok(chains.length >= 25, `${chains.length} webnote.net chains`);
  const trust = trustTableFor([], null);
  const first = learnMailhosts(chains, trust);
  assert.ok(first.includes('193.120.211.219'), `learned ${first.join(', ')}`);
  // Passes over the same chain objects (as the store hands them, pass after pass), and over copies no walk was
  // remembered for: the same hosts in the same order.
  assert.deepEqual(learnMailhosts(chains, trust), first);
  assert.deepEqual(
    learnMailhosts(chains.slice().reverse(), trust),
    learnMailhosts(structuredClone(chains).reverse(), trust),
  );
  assert.deepEqual(learnMailhosts(structuredClone(chains), trust), first);
  // Fewer chains than the thresholds need: nothing learned, remembered walks or not.
  assert.deepEqual(learnMailhosts(chains.slice(0, 2), trust), []);
  // Another trust table is walked for itself: one that already trusts the secondary MX learns what lies behind it.
  const withMx = trustTableFor(['193.120.211.219'], null);
  const behind = learnMailhosts(chains, withMx);
  assert.deepEqual(behind, learnMailhosts(structuredClone(chains), withMx));
  assert.ok(!behind.includes('193.120.211.219'), `learned with the MX trusted: ${behind.join(', ')}`);
});

/** The SpamAssassin author's hard_ham and spam messages that Tim Hunt's ns1.timhunt.net forwarded into his trap. */
function timhuntChains(): ParsedReceived[][] {
  const dir = path.join(CORPUS_DIR, 'spamassassin');
  return ['hard_ham', 'spam']
    .flatMap((folder) => fs.readdirSync(path.join(dir, folder)).map((f) => path.join(dir, folder, f)))
    .map((file) => fs.readFileSync(file))
    .filter((raw) => raw.includes('216.27.147.130'))
    .map((raw) =>
      headerFields(raw)
        .filter((f) => f.name === 'received')
        .map((f) => parseReceived(f.value)),
    );
}

test('a forwarder is learned only from messages that say no list passed them on, under a checked name', (t) => {
  if (!needsCorpus(t, 'spamassassin/hard_ham')) return;
  const chains = timhuntChains();
  assert.equal(chains.length, 7);
  const trust = trustTableFor([], null);
  const none = chains.map(() => false);
  // ns1.timhunt.net wrote `for <sdfs@fsg.com>` and the like: not the reporter's address (the trap's), a forward. Its
  // address is learned, never its domain (a big ISP's domain names strangers' machines too).
  const learned = learnMailhosts(chains, trust, { listMail: none });
  assert.deepEqual(learned, ['216.27.147.130']);
  // Not known whether a list passed them on, or a list did: a list's server takes posts for another address too.
  assert.deepEqual(learnMailhosts(chains, trust), []);
  assert.deepEqual(learnMailhosts(chains, trust, { listMail: chains.map(() => true) }), []);
  // A shorter list than the chains (a caller's mistake) leaves the chains past its end unknown: held back, not
  // learned; so two of seven known teach nothing, six of seven still teach (five reports, three sources).
  assert.deepEqual(learnMailhosts(chains, trust, { listMail: none.slice(0, 2) }), []);
  assert.deepEqual(learnMailhosts(chains, trust, { listMail: none.slice(0, 6) }), ['216.27.147.130']);
  // The same hop with a name the receiver did not check (qmail's): a greeting or an unchecked name is anyone's.
  const unchecked = chains.map((c) =>
    c.map((h) => (h.fromIp === '216.27.147.130' ? { ...h, notes: [...h.notes, 'rdns-unverified'] } : h)),
  );
  assert.deepEqual(learnMailhosts(unchecked, trust, { listMail: none }), []);
  // Below the thresholds (five reports, three sources): nothing.
  assert.deepEqual(learnMailhosts(chains.slice(0, 4), trust, { listMail: none.slice(0, 4) }), []);
  // Not the first hand-off from a public address: the reporter's host handed each message on to this instance's
  // intake (81.2.69.142 wrote the top line, believed), so the chain's first public hand-off is the reporter's own;
  // a machine further down is not taken for the reporter's forwarder.
  const intake = trustTableFor(['81.2.69.142'], null);
  const top = (c: ParsedReceived[]): ParsedReceived => ({
    ...(c[0] as ParsedReceived),
    fromIp: '81.2.69.142',
    fromRdns: 'dogma.slashnull.org',
    fromHelo: 'dogma.slashnull.org',
    byHost: 'intake.spamdesk-test.org',
    notes: [],
  });
  const behind = chains.map((c) => [top(c), ...c]);
  assert.deepEqual(learnMailhosts(behind, intake, { listMail: none }), []);
});

test('the traces of lists that write no List- field hold a forwarder back', () => {
  const f = (name: string, value: string) => ({ name, value });
  assert.equal(mayBeListMail([f('Precedence', 'bulk')]), true);
  assert.equal(mayBeListMail([f('Errors-To', 'owner-quicktime_news@applenews.lists.apple.com')]), true);
  assert.equal(mayBeListMail([f('Sender', 'Daily Slang List <DAILYSLANG@LISTSERV.DLI.COM>')]), true);
  assert.equal(mayBeListMail([f('X-Loop', 'x@example.org')]), true);
  assert.equal(mayBeListMail([f('LIST-ID', '<a.b.example>')]), true);
  assert.equal(mayBeListMail([f('Sender', 'Jane <jane@example.org>'), f('Precedence', 'first-class')]), false);
});

test('an intake’s key learns only machines under a checked reverse name; a reporter’s learns the rest too', (t) => {
  if (!needsCorpus(t, 'spamassassin/spam_2')) return;
  const dir = path.join(CORPUS_DIR, 'spamassassin/spam_2');
  // The SpamAssassin author's Virgin Media forwarder 213.105.180.140 greets as mandark.labs.netnoteinc.com and has
  // no reverse name; his secondary MX mail.webnote.net (193.120.211.219) has a checked one.
  const chains = fs
    .readdirSync(dir)
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f)))
    .filter((raw) => raw.includes('213.105.180.140') || raw.includes('193.120.211.219'))
    .slice(0, 300)
    .map((raw) =>
      headerFields(raw)
        .filter((f) => f.name === 'received')
        .map((f) => parseReceived(f.value)),
    );
  const trust = trustTableFor([], null);
  const all = learnMailhosts(chains, trust);
  assert.ok(all.includes('213.105.180.140') && all.includes('193.120.211.219'), all.join(' '));
  const checked = learnMailhosts(chains, trust, { checkedOnly: true });
  assert.ok(!checked.includes('213.105.180.140'), checked.join(' '));
  assert.ok(checked.includes('193.120.211.219'), checked.join(' '));
});

test('an intake’s key never learns a hosted server writing lines below itself, whatever sources they name', (t) => {
  if (!needsCorpus(t, 'trec07p/data/inmail.1711')) return;
  // A hosted server with a checked name (server1.madvlad.com, 72.3.232.146, delivering to Waterloo) and the line it
  // wrote below itself. A bot on such a machine writes that line with any source it likes: five reports to an
  // intake's reporters, three made-up sources, would teach the intake to look past it and name the made-up ones.
  const raw = fs.readFileSync(path.join(CORPUS_DIR, 'trec07p/data/inmail.1711'), 'latin1');
  // The sources: spam senders' addresses of other corpus messages.
  const forged = ['61.230.8.153', '216.166.208.195', '185.189.112.11'].map((ip) => raw.replaceAll('72.32.2.227', ip));
  const chainsOf = (texts: string[]) =>
    texts.map((text) =>
      headerFields(Buffer.from(text, 'latin1'))
        .filter((f) => f.name === 'received')
        .map((f) => parseReceived(f.value)),
    );
  const chains = chainsOf([...forged, ...forged]);
  assert.equal(chains[0]?.[0]?.fromRdns, 'server1.madvlad.com');
  const trust = trustTableFor([], null);
  assert.deepEqual(learnMailhosts(chains, trust, { checkedOnly: true }), []);
  // One reporter's own key still learns a relay the reporter's mail keeps passing through (a home server, a
  // forwarder of theirs), as SpamCop learns a user's mail hosts.
  assert.ok(learnMailhosts(chains, trust).includes('72.3.232.146'));
  // The same machine named as a mail relay is what an intake's reporters' secondary MXs and gateways look like.
  const relay = chainsOf(
    [...forged, ...forged].map((text) => text.replaceAll('server1.madvlad.com', 'mail.madvlad.com')),
  );
  assert.ok(learnMailhosts(relay, trust, { checkedOnly: true }).includes('72.3.232.146'));
});
