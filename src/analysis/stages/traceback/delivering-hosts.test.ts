/**
 * Round tb15 of issue 13: the hosts that delivered many of one reporter's reports are that reporter's
 * own mail side (SpamCop's "mailhosts" spread over a person's domains), learned as whole host names:
 * the SpamAssassin author's `dogma.slashnull.org`, relaying into his `netnoteinc.com` host, is looked
 * past; a list server that only shares a domain with his hosts is not. Real corpus messages
 * (../shared/corpus, referenced in place; skipped loudly when absent).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR, needsCorpus } from '../../../core/test-env.ts';
import { learnReporters, loadChains, readLabelled } from '../../../../scripts/eval/evaluate-traceback.ts';
import { ipLocationDbAsnLookup } from '../../ports/ip-location-db.ts';
import { traceRaw } from '../traceback.ts';
import { TrustTable } from './trust.ts';

const asn = ipLocationDbAsnLookup();
const trust = new TrustTable([], null);

async function origin(path: string, mailhosts: string[]) {
  const w = await traceRaw(readLabelled(CORPUS_DIR, path), {
    trust,
    asn,
    mailhosts,
    recipientDomains: ['jmason.org'],
    documentationIsPublic: false,
  });
  return { ip: w.origin?.ip ?? 'none', text: w.steps.join('\n') };
}

/** mail.netnoteinc.com ← dogma.slashnull.org 212.17.35.15 (his own) ← trna.ximian.com 141.154.95.22. */
const XIMIAN = 'spamassassin_testdata/t/data/nice/016';
/** dogma.slashnull.org ← listman.spamassassin.taint.org 66.187.233.211: Red Hat's list server, anonymised. */
const RED_HAT_LIST = 'spamassassin/easy_ham/00979.9eef0c20fa5a680d5d4d5b752bbf9453';

let learned: Map<string, string[]> | null = null;
const jmason = () => {
  learned ??= learnReporters(CORPUS_DIR, loadChains());
  return learned;
};

test('the host that delivered most of a reporter’s mail is learned whole and looked past when it relays', async (t) => {
  if (!needsCorpus(t, 'spamassassin') || !needsCorpus(t, 'spamassassin_testdata')) return;
  const hosts = jmason().get('jmason') ?? [];
  assert.ok(hosts.includes('=dogma.slashnull.org'), `learned ${hosts.join(', ')}`);
  // Never a trusted provider's or a placeholder name, never a made-up suffix.
  for (const list of jmason().values())
    for (const e of list.filter((x) => x.startsWith('='))) {
      assert.equal(trust.byName(e.slice(1)), null, e);
      assert.doesNotMatch(e, /localdomain$|\.local$|example\.(com|org|net)$/, e);
    }
  assert.ok(!(jmason().get('mothlight') ?? []).includes('=localhost.localdomain'));

  const before = await origin(
    XIMIAN,
    hosts.filter((e) => !e.startsWith('=')),
  );
  assert.equal(before.ip, '212.17.35.15', before.text);
  const after = await origin(XIMIAN, hosts);
  assert.equal(after.ip, '141.154.95.22', after.text);
  assert.match(after.text, /dogma\.slashnull\.org, a host that delivered many of the reporter’s earlier reports/);
});

test('a learned delivering host is matched whole: a list server under the same domain stays the origin', async (t) => {
  if (!needsCorpus(t, 'spamassassin')) return;
  const hosts = jmason().get('jmason') ?? [];
  assert.ok(hosts.includes('=spamassassin.taint.org'), `learned ${hosts.join(', ')}`);
  const whole = await origin(RED_HAT_LIST, hosts);
  assert.equal(whole.ip, '66.187.233.211', whole.text);
  // The same name as a domain suffix would take the list server for the reporter's own and blame the poster.
  const asDomain = await origin(RED_HAT_LIST, [...hosts, 'spamassassin.taint.org']);
  assert.notEqual(asDomain.ip, '66.187.233.211', asDomain.text);
});

/** dogma.slashnull.org ← `mail.netnoteinc.com (gw.netnoteinc.com [193.120.149.226])` ← an open relay 61.119.13.18. */
const GW = 'spamassassin_testdata/t/data/spam/004';
const GW_LINE = 'from mail.netnoteinc.com (gw.netnoteinc.com [193.120.149.226])';

test('greeting as a learned delivering host under a checked name in its domain: the reporter’s own', async (t) => {
  if (!needsCorpus(t, 'spamassassin') || !needsCorpus(t, 'spamassassin_testdata')) return;
  const hosts = jmason().get('jmason') ?? [];
  assert.ok(hosts.includes('=mail.netnoteinc.com'), `learned ${hosts.join(', ')}`);
  const raw = Buffer.from(readLabelled(CORPUS_DIR, GW)).toString('latin1');
  assert.ok(raw.includes(GW_LINE), 'the real header');
  const trace = async (text: string) => {
    const w = await traceRaw(Buffer.from(text, 'latin1'), {
      trust,
      asn,
      mailhosts: hosts,
      recipientDomains: ['jmason.org'],
      documentationIsPublic: false,
    });
    return { ip: w.origin?.ip ?? 'none', text: w.steps.join('\n') };
  };
  const real = await trace(raw);
  assert.equal(real.ip, '61.119.13.18', real.text);
  assert.match(real.text, /greeted as mail\.netnoteinc\.com, a host that delivered many/);
  // The greeting alone, with no reverse name the receiver could check: not believed.
  const unchecked = await trace(raw.replace(GW_LINE, 'from mail.netnoteinc.com (unknown [193.120.149.226])'));
  assert.equal(unchecked.ip, '193.120.149.226', unchecked.text);
  // A checked name in another domain greeting as the learned host: not believed either.
  const stranger = await trace(raw.replace(GW_LINE, 'from mail.netnoteinc.com (gw.otherhost.net [193.120.149.226])'));
  assert.equal(stranger.ip, '193.120.149.226', stranger.text);
});
