/**
 * Round tb13 of issue 13: evidence a spammer cannot forge that a hop is the receiving side's — the
 * recipient's own forwarding service by a checked reverse name, the reporter's own address (given by
 * the intake), and registered domains the mail-host learner learns — on real corpus messages
 * (../shared/corpus, referenced in place; skipped loudly when absent).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR, needsCorpus } from '../../../core/test-env.ts';
import { learnReporters, loadChains, readLabelled } from '../../../../scripts/eval/evaluate-traceback.ts';
import { ipLocationDbAsnLookup } from '../../ports/ip-location-db.ts';
import { traceRaw } from '../traceback.ts';
import { holderDomain } from './org.ts';
import { parseReceived } from './received-parser.ts';
import { TrustTable } from './trust.ts';
import { nobodysName } from './receiving-side.ts';
import { walkChain } from './walk.ts';
import { narrativeIn } from '../../narrative-texts.ts';

const asn = ipLocationDbAsnLookup();
const trust = new TrustTable([], null);

async function trace(raw: Uint8Array, opts: { mailhosts?: string[]; recipientDomains?: string[] } = {}) {
  const w = await traceRaw(raw, {
    trust,
    asn,
    mailhosts: opts.mailhosts ?? [],
    recipientDomains: opts.recipientDomains ?? [],
    documentationIsPublic: false,
  });
  return { w, text: w.steps.join('\n') };
}

/** Proton ← mail2.mxb.infra.improvmx.com [91.134.148.0] (madicetea.me's MX) ← OVH's 178.33.251.173. */
const IMPROVMX = 'phishing_pot/email/sample-1274.eml';

test('a forwarding service the recipient set up, named by a checked reverse name, is the receiving side', async (t) => {
  if (!needsCorpus(t, 'phishing_pot')) return;
  const { w, text } = await trace(readLabelled(CORPUS_DIR, IMPROVMX));
  assert.equal(w.origin?.ip, '178.33.251.173', text);
  assert.match(text, /reverse name mail2\.mxb\.infra\.improvmx\.com, in improvmx\.com, a forwarding service/);
  assert.match(text, /the recipient’s forwarding service \(improvmx\.com\) is believed/);
});

test('a forwarding service’s name is not believed when the receiver recorded only the greeting', async (t) => {
  if (!needsCorpus(t, 'phishing_pot')) return;
  const raw = Buffer.from(readLabelled(CORPUS_DIR, IMPROVMX)).toString('latin1');
  // The same header with the reverse name gone: Postfix writes `unknown` when the lookup failed.
  const greeting = raw.replace(
    'from mail2.mxb.infra.improvmx.com (mail2.mxb.infra.improvmx.com [91.134.148.0])',
    'from mail2.mxb.infra.improvmx.com (unknown [91.134.148.0])',
  );
  assert.notEqual(greeting, raw, 'the test edits the real header');
  const { w, text } = await trace(Buffer.from(greeting, 'latin1'));
  assert.equal(w.origin?.ip, '91.134.148.0', text);
});

/**
 * dogma.slashnull.org ← gw.netnoteinc.com [193.120.149.226] (the reporter's netnoteinc.com server
 * forwarding jm@netnoteinc.com to jm@jmason.org) ← a DSL line that greeted as mail.netnoteinc.com.
 */
const NETNOTEINC = 'spamassassin/spam_2/00166.806d5398d7a37c080641a2d62e2d2b94';

test('a checked reverse name in the domain of the reporter’s own address is the receiving side', async (t) => {
  if (!needsCorpus(t, 'spamassassin')) return;
  const raw = readLabelled(CORPUS_DIR, NETNOTEINC);
  const mine = await trace(raw, { recipientDomains: ['netnoteinc.com'] });
  assert.equal(mine.w.origin?.ip, '64.0.198.140', mine.text);
  assert.match(
    mine.text,
    /reverse name gw\.netnoteinc\.com, in netnoteinc\.com, the domain of the reporter’s own address/,
  );
  // Another reporter's address says nothing about netnoteinc.com: the forwarder is the origin.
  const other = await trace(raw, { recipientDomains: ['example.org'] });
  assert.equal(other.w.origin?.ip, '193.120.149.226', other.text);
});

test('the reporter’s domain under a shared name service covers their own names only', () => {
  assert.equal(holderDomain('mothlight.dyndns.org'), 'mothlight.dyndns.org');
  assert.equal(holderDomain('mail.uwaterloo.ca'), 'uwaterloo.ca');
  const walk = (client: string, ip: string) => {
    const chain = [
      `from ${client} (${client} [${ip}]) by mx.example.net (Postfix) with ESMTP id 1`,
      `from bot (unknown [203.0.113.5]) by ${client} (Postfix) with SMTP id 2`,
    ].map((r) => ({ ...parseReceived(r), raw: r }));
    return walkChain({
      received: chain,
      trust,
      asnOf: new Map(),
      webmailHeaders: [],
      documentationIsPublic: true,
      recipientDomains: ['mothlight.dyndns.org'],
    });
  };
  // The reporter's own host is believed; a stranger's machine under the same dynamic-DNS parent is the origin.
  const own = walk('relay.mothlight.dyndns.org', '198.51.100.7');
  assert.equal(own.origin?.ip, '203.0.113.5', own.steps.join('\n'));
  const stranger = walk('stranger.dyndns.org', '198.51.100.9');
  assert.equal(stranger.origin?.ip, '198.51.100.9', stranger.steps.join('\n'));
});

test('the learner learns the domain of a checked forwarder name; the walk believes a new address in it', async (t) => {
  if (!needsCorpus(t, 'spamassassin')) return;
  const hosts = learnReporters(CORPUS_DIR, loadChains()).get('jmason') ?? [];
  assert.ok(hosts.includes('easydns.com'), hosts.join(', '));
  assert.ok(!hosts.includes('216.220.40.243'), 'ns1.easydns.com is not a learned address');
  // mail.netnoteinc.com ← ns1.easydns.com [216.220.40.243], easyDNS forwarding jm@netnoteinc.com ← Wanadoo.
  const { w, text } = await trace(
    readLabelled(CORPUS_DIR, 'spamassassin/spam_2/00083.1aead789d4b4c7022c51bc632e4f2445'),
    {
      mailhosts: hosts,
    },
  );
  assert.notEqual(w.origin?.ip, '216.220.40.243', text);
  assert.match(
    text,
    /checked its reverse name ns1\.easydns\.com, in easydns\.com, a domain learned from earlier reports/,
  );
  // Without what was learned, the forwarder itself is the origin.
  const bare = await trace(readLabelled(CORPUS_DIR, 'spamassassin/spam_2/00083.1aead789d4b4c7022c51bc632e4f2445'));
  assert.equal(bare.w.origin?.ip, '216.220.40.243', bare.text);
});

test('a forwarder most of whose mail shows signs of lists is not learned: timhunt.net into the trap', async (t) => {
  if (!needsCorpus(t, 'spamassassin')) return;
  // Three of the seven messages ns1.timhunt.net forwarded carry `Precedence: bulk`, a list owner's `Errors-To` or a
  // LISTSERV `Sender`: four without are below the five reports a forwarder needs.
  const hosts = learnReporters(CORPUS_DIR, loadChains()).get('jmason') ?? [];
  assert.ok(!hosts.includes('216.27.147.130') && !hosts.includes('timhunt.net'), hosts.join(', '));
  const raw = readLabelled(CORPUS_DIR, 'spamassassin/hard_ham_20021010/0186.4d84e4bcd7c9ee568f5b33f8883a54ab');
  assert.equal((await trace(raw, { mailhosts: hosts })).w.origin?.ip, '216.27.147.130');
  // Declared by the reporter, it is looked past to CNET's relay.
  assert.equal((await trace(raw, { mailhosts: [...hosts, '216.27.147.130'] })).w.origin?.ip, '206.16.1.164');
});

/**
 * Same registered domain, different holders (public suffix list, private section): Ruhr-Universität
 * Bochum lists `ruhr-uni-bochum.de` there, so yoda.bph… and sunu422.rz… are different holders'
 * names. yoda ← sunu422.rz.ruhr-uni-bochum.de [134.147.64.14] ← mi-1 (qmail) ← sunu450 ← web.de's
 * mx15 217.72.192.174.
 */
const BOCHUM = 'spamassassin/hard_ham/00006.3409dec8ca4fcf2d6e0582554473b5c9';

test('a name under a shared parent is believed when a research network’s address backs it', async (t) => {
  if (!needsCorpus(t, 'spamassassin')) return;
  const { w, text } = await trace(readLabelled(CORPUS_DIR, BOCHUM));
  assert.equal(w.origin?.ip, '217.72.192.174', text);
  assert.match(text, /sunu422\.rz\.ruhr-uni-bochum\.de, under ruhr-uni-bochum\.de, whose names belong to different/);
  assert.match(text, /a research and education network/);
  for (const s of w.steps) assert.notEqual(narrativeIn(s, 'fr'), null, s);
});

test('a name under a shared parent from an address that does not back it is the origin', async (t) => {
  if (!needsCorpus(t, 'spamassassin')) return;
  const raw = Buffer.from(readLabelled(CORPUS_DIR, BOCHUM)).toString('latin1');
  // The same checked name on a Linode address (AS63949, hosting): the parent alone proves nothing.
  const moved = raw.replace(
    '(sunu422.rz.ruhr-uni-bochum.de [134.147.64.14])',
    '(sunu422.rz.ruhr-uni-bochum.de [172.104.1.9])',
  );
  assert.notEqual(moved, raw, 'the test edits the real header');
  const { w, text } = await trace(Buffer.from(moved, 'latin1'));
  assert.equal(w.origin?.ip, '172.104.1.9', text);
  assert.match(text, /shares only the parent ruhr-uni-bochum\.de with the receiving organisation/);
  for (const s of w.steps) assert.notEqual(narrativeIn(s, 'fr'), null, s);
});

test('a receiver under a dynamic-DNS parent does not believe a stranger’s name under the same parent', () => {
  const walk = (client: string) => {
    const chain = [
      `from ${client} (${client} [198.51.100.9]) by mx.mothlight.dyndns.org (Postfix) with ESMTP id 1`,
      'from bot (unknown [203.0.113.5]) by relay (Postfix) with SMTP id 2',
    ].map((r) => ({ ...parseReceived(r), raw: r }));
    return walkChain({ received: chain, trust, asnOf: new Map(), webmailHeaders: [], documentationIsPublic: true });
  };
  const stranger = walk('relay.stranger.dyndns.org');
  assert.equal(stranger.origin?.ip, '198.51.100.9', stranger.steps.join('\n'));
  const own = walk('relay.mothlight.dyndns.org');
  assert.equal(own.origin?.ip, '203.0.113.5', own.steps.join('\n'));
});

test('names under documentation domains are nobody’s organisation; an internal `.local` domain may be one', () => {
  assert.equal(nobodysName('z2.example.com', false), true);
  assert.equal(nobodysName('example.com', false), true);
  assert.equal(nobodysName('relay.mail.test', false), true);
  assert.equal(nobodysName('host.invalid.', false), true);
  assert.equal(nobodysName('APCNHUB11.correo.local', false), false);
  assert.equal(nobodysName('mail.example-corp.com', false), false);
  assert.equal(nobodysName(null, false), false);
  // Test fixtures whose documentation names stand for real organisations.
  assert.equal(nobodysName('z2.example.com', true), false);
});
