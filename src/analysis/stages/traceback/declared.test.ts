/**
 * Declared mail hosts (SpamCop's "mailhosts", declared instead of learned): a forwarder or a filter
 * of the recipient that only its own headers name, which no header rule can vouch for, is looked past
 * for the declarer's own reports once declared — and only as declared: by address, or by a reverse
 * name a believed receiver checked, never by a greeting. Real corpus messages (../shared/corpus,
 * referenced in place; skipped loudly when absent) and the checks a declaration must pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CORPUS_DIR, needsCorpus } from '../../../core/test-env.ts';
import { readLabelled } from '../../../../scripts/eval/evaluate-traceback.ts';
import { ipLocationDbAsnLookup } from '../../ports/ip-location-db.ts';
import { traceRaw } from '../traceback.ts';
import { DECLARED_MARK, inDeclaredDomain, parseDeclaration, showDeclaration, splitMailhosts } from './declared.ts';
import { TrustTable } from './trust.ts';

const asn = ipLocationDbAsnLookup();
const trust = new TrustTable([], null);

function declare(...lines: string[]): string[] {
  return lines.map((l) => {
    const r = parseDeclaration(l, trust);
    if ('problem' in r) throw new Error(`${l}: ${r.problem}`);
    return `${DECLARED_MARK}${r.entry}`;
  });
}

async function origin(raw: Buffer | string, mailhosts: string[]) {
  const w = await traceRaw(typeof raw === 'string' ? Buffer.from(raw) : raw, {
    trust,
    asn,
    mailhosts,
    documentationIsPublic: false,
  });
  return { ip: w.origin?.ip ?? 'none', text: w.steps.join('\n') };
}

/**
 * dogma.slashnull.org ← K1.VINEYARD.NET 204.17.195.90: the forward of `gazette@vineyard.net` into a
 * spam trap of the SpamAssassin author, set up for him; vineyard.net received it from
 * heroic.aynrand.org 64.52.14.131, the first outside machine.
 */
const VINEYARD = 'spamassassin/hard_ham/00152.651a40f1c0b2ba19122eccebccbae788';
/** mail1.domain.com ← crimelabs.net 64.94.171.112 (the recipient's own forward) ← a Yahoo BB line 219.23.252.108. */
const CRIMELABS = 'nazario_phishing/phishing0.mbox#41';

test('a declared forwarder domain is looked past: the walk goes on to the host that handed it the mail', async (t) => {
  if (!needsCorpus(t, 'spamassassin')) return;
  const raw = readLabelled(CORPUS_DIR, VINEYARD);
  const before = await origin(raw, []);
  assert.equal(before.ip, '204.17.195.90', before.text);
  const after = await origin(raw, declare('vineyard.net'));
  assert.equal(after.ip, '64.52.14.131', after.text);
  assert.match(
    after.text,
    /K1\.VINEYARD\.NET, in vineyard\.net, a domain the reporter declared as their own mail side/i,
  );
  // The same declaration by one host name, and by its address.
  assert.equal((await origin(raw, declare('k1.vineyard.net'))).ip, '64.52.14.131');
  assert.equal((await origin(raw, declare('204.17.195.0/24'))).ip, '64.52.14.131');
  // Another host of the domain, declared whole, says nothing about this one.
  assert.equal((await origin(raw, declare('mx9.vineyard.net'))).ip, '204.17.195.90');
});

test('a declared forwarder address is looked past (Nazario’s crimelabs.net forward)', async (t) => {
  if (!needsCorpus(t, 'nazario_phishing')) return;
  const raw = readLabelled(CORPUS_DIR, CRIMELABS);
  assert.equal((await origin(raw, [])).ip, '64.94.171.112');
  const after = await origin(raw, declare('64.94.171.112'));
  assert.equal(after.ip, '219.23.252.108', after.text);
  assert.match(after.text, /64\.94\.171\.112 was declared by the reporter as one of their own mail hosts/);
});

test('a greeting naming a declared host earns nothing: only a checked reverse name or the address does', async () => {
  // A spammer's machine (no reverse name) greets as the declared forwarder and writes a header below
  // blaming an innocent address.
  const raw = [
    'Received: from k1.vineyard.net (unknown [45.33.1.7])',
    '\tby mail.example.net (Postfix) with ESMTP id 1A2B3C for <victim@example.net>;',
    '\tTue, 3 Nov 2026 10:00:02 +0000',
    'Received: from innocent.example.org (innocent.example.org [93.184.216.34])',
    '\tby k1.vineyard.net with ESMTP id 77; Tue, 3 Nov 2026 10:00:01 +0000',
    'From: a@b.example',
    'To: victim@example.net',
    'Subject: hello',
    '',
    'body',
    '',
  ].join('\r\n');
  const w = await origin(raw, declare('vineyard.net', 'k1.vineyard.net'));
  assert.equal(w.ip, '45.33.1.7', w.text);
});

/** A chain as Postfix writes it (reverse names checked), top first: [by, rdns, ip] per hop, then a body. */
function chain(hops: [string, string, string][]): string {
  const lines = hops.map(
    ([by, rdns, ip], i) =>
      `Received: from ${rdns} (${rdns} [${ip}])\r\n\tby ${by} (Postfix) with ESMTP id ${i}A2B3C; Tue, 3 Nov 2026 \
10:00:0${9 - i} +0000`,
  );
  return `${lines.join('\r\n')}\r\nFrom: a@b.example\r\nTo: victim@example.net\r\nSubject: hi\r\n\r\nbody\r\n`;
}

test('a declared domain or network is not believed inside a hosting network: its customers are strangers', async () => {
  // A spammer rents a Contabo server (reverse name under contaboserver.net) and writes a header below
  // blaming an innocent address; the reporter had declared the hosting company's domain by mistake.
  const raw = chain([
    ['mail.example.net', 'vmi222222.contaboserver.net', '167.86.75.1'],
    ['vmi222222.contaboserver.net', 'innocent.example.org', '93.184.216.34'],
  ]);
  assert.equal((await origin(raw, declare('contaboserver.net'))).ip, '167.86.75.1');
  assert.equal((await origin(raw, declare('167.86.75.0/24'))).ip, '167.86.75.1');
  // The one machine named whole (the reporter's own VPS there) is theirs to declare.
  const own = await origin(raw, declare('vmi222222.contaboserver.net'));
  assert.equal(own.ip, '93.184.216.34', own.text);
  assert.equal((await origin(raw, declare('167.86.75.1'))).ip, '93.184.216.34');
});

test('below a declared host at a hosting company, its neighbours there are strangers, not its side', async () => {
  // The reporter's own VPS (declared by address or by name) received it from another customer's VPS of
  // the same hosting company, which wrote a line blaming an innocent address.
  const raw = chain([
    ['mail.example.net', 'vmi222222.contaboserver.net', '167.86.75.1'],
    ['vmi222222.contaboserver.net', 'vmi333333.contaboserver.net', '167.86.75.2'],
    ['vmi333333.contaboserver.net', 'innocent.example.org', '93.184.216.34'],
  ]);
  for (const d of ['167.86.75.1', 'vmi222222.contaboserver.net']) {
    const w = await origin(raw, declare(d));
    assert.equal(w.ip, '167.86.75.2', `${d}: ${w.text}`);
  }
  // A declared network around the reporter's own address does not hide the address declared beside it,
  // whichever comes first; inside a hosting network the network alone is not believed, and the step says so.
  for (const order of [
    ['167.86.75.0/24', '167.86.75.1'],
    ['167.86.75.1', '167.86.75.0/24'],
  ]) {
    const w = await origin(raw, declare(...order));
    assert.equal(w.ip, '167.86.75.2', `${order.join(', ')}: ${w.text}`);
  }
  const onlyNet = await origin(raw, declare('167.86.75.0/24'));
  assert.equal(onlyNet.ip, '167.86.75.1');
  assert.match(onlyNet.text, /declared by the reporter, but its AS is an access, hosting or transit network/);
});

test('one declared host does not make its network believed: another holder’s host is judged alone', async () => {
  // k1.vineyard.net is declared; below it a host of another holder in the same AS hands it the mail
  // and writes a line blaming an innocent address.
  const raw = chain([
    ['mail.example.net', 'k1.vineyard.net', '204.17.195.90'],
    ['k1.vineyard.net', 'host.neighbour-company.com', '204.17.195.91'],
    ['host.neighbour-company.com', 'innocent.example.org', '93.184.216.34'],
  ]);
  const w = await origin(raw, declare('204.17.195.90'));
  assert.equal(w.ip, '204.17.195.91', w.text);
});

test('a declaration is read as typed and refused, with its reason, when it would speak for strangers', () => {
  const ok = (text: string) => {
    const r = parseDeclaration(text, trust);
    assert.ok('entry' in r, `${text}: ${'problem' in r ? r.problem : ''}`);
    return r.entry;
  };
  const refused = (text: string, reason: RegExp) => {
    const r = parseDeclaration(text, trust);
    assert.ok('problem' in r, `${text} accepted as ${'entry' in r ? r.entry : ''}`);
    assert.match(r.problem, reason, text);
  };
  assert.equal(ok('Vineyard.NET.'), 'vineyard.net');
  assert.equal(ok('*.vineyard.net'), 'vineyard.net');
  assert.equal(ok('*.relay.vineyard.net'), 'relay.vineyard.net');
  assert.equal(ok('K1.vineyard.net'), '=k1.vineyard.net');
  assert.equal(ok('204.17.195.90'), '204.17.195.90');
  assert.equal(ok('204.17.195.90/24'), '204.17.195.0/24');
  assert.equal(ok('2001:db8:1::/48'), '2001:db8:1::/48');
  assert.equal(ok('bücher.de'), 'xn--bcher-kva.de');
  assert.equal(ok('10.1.0.0/16'), '10.1.0.0/16', 'private space: harmless, never overlaps a provider');
  assert.equal(showDeclaration('vineyard.net'), '*.vineyard.net');
  assert.equal(showDeclaration('=k1.vineyard.net'), 'k1.vineyard.net');
  assert.equal(showDeclaration('204.17.195.0/24'), '204.17.195.0/24');

  refused('10.0.0.0/8', /wider than \/16/);
  refused('2001:db8::/16', /wider than \/48/);
  refused('2001:41d0::/32', /wider than \/48/);
  refused('010.1.1.1', /leading zero/);
  refused('204.17.195/24', /four decimal parts/);
  refused('204.17/16', /four decimal parts/);
  refused('3423453018/32', /four decimal parts/);
  refused('209.85.128.0/17', /overlaps Google/);
  refused('209.85.220.41', /overlaps Google/);
  refused('127.0.0.1', /loopback/);
  refused('net', /not a host name/);
  refused('co.uk', /public suffix/);
  refused('*.dyndns.org', /shared parent/);
  refused('gmail.com', /trusted provider/);
  refused('mail-ot1-f41.google.com', /trusted provider/);
  refused('example.com', /placeholder/);
  refused('dsl-84-1-2-3.example-isp.de', /consumer-access/);
  refused('not a host', /not a host name/);
  refused('', /empty/);
});

test('a declared domain matches within one holder only, never a shared parent’s strangers', () => {
  assert.ok(inDeclaredDomain('k1.vineyard.net', 'vineyard.net'));
  assert.ok(inDeclaredDomain('vineyard.net', 'vineyard.net'));
  assert.ok(inDeclaredDomain('a.relay.vineyard.net', 'relay.vineyard.net'));
  assert.ok(!inDeclaredDomain('k1.vineyard.net', 'relay.vineyard.net'));
  assert.ok(!inDeclaredDomain('evilvineyard.net', 'vineyard.net'));
  // `amazonaws.com` is above the holders of EC2's names (public suffix list, private section).
  assert.ok(!inDeclaredDomain('ec2-3-80-1-2.compute-1.amazonaws.com', 'amazonaws.com'));
});

test('learned and declared entries travel in one list and part again', () => {
  assert.deepEqual(splitMailhosts(['1.2.3.4', '+vineyard.net', '=mx.example.org', '+=k1.vineyard.net']), {
    learned: ['1.2.3.4', '=mx.example.org'],
    declared: ['vineyard.net', '=k1.vineyard.net'],
  });
});
