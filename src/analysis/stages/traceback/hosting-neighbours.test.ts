/**
 * Hosting neighbours: a reporter's own mail server on a rented machine named under its hosting
 * company's domain (`vmi222222.contaboserver.net`) shares that domain, and often its /24, with every
 * other customer of the company. The domain of the receiving side (rule 3, the reporter's and the
 * recipient's domains, a learned domain, qmail's names, live DNS) must not make a neighbour "the
 * receiving organisation", or a forged line the neighbour writes below shifts the blame to an innocent
 * address. Synthetic chains over the real offline AS data (`@ip-location-db`): 167.86.75.0/24 is
 * Contabo's (AS51167, "Contabo GmbH"), 88.198.0.0/16 Hetzner's (AS24940, "Hetzner Online GmbH"). The
 * machines' names and Contabo's relay are made up; the naming domain and the AS data are real.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipLocationDbAsnLookup } from '../../ports/ip-location-db.ts';
import { StaticZoneResolver, type Zone } from '../../ports/dns-static-zone.ts';
import { traceRaw } from '../traceback.ts';
import { TrustTable } from './trust.ts';

const asn = ipLocationDbAsnLookup();
const trust = new TrustTable([], null);

interface Options {
  recipientDomains?: string[];
  mailhosts?: string[];
  zone?: Zone;
  now?: Date;
}

async function origin(raw: string, opts: Options = {}) {
  const w = await traceRaw(Buffer.from(raw), {
    trust,
    asn,
    mailhosts: opts.mailhosts ?? [],
    recipientDomains: opts.recipientDomains ?? [],
    documentationIsPublic: false,
    dns: opts.zone === undefined ? null : new StaticZoneResolver(opts.zone),
    now: opts.now,
  });
  return { ip: w.origin?.ip ?? 'none', text: w.steps.join('\n') };
}

const DATE = 'Tue, 3 Nov 2026 10:00:00 +0000';

/**
 * A chain, top first, of [by, client] per hop; the client written as a receiver that checked its
 * reverse name writes it (Postfix: `name (name [ip])`), or as given when it is a whole `from` clause.
 */
function chain(hops: [string, string][], forAddr: string | null = null): string {
  const lines = hops.map(([by, from], i) => {
    const client = from.includes('(') ? from : `${from.split(' ')[0]} (${from})`;
    const rcpt = forAddr === null ? '' : `\r\n\tfor <${forAddr}>`;
    return `Received: from ${client}\r\n\tby ${by} (Postfix) with ESMTP id ${i}A2B3C${rcpt}; ${DATE}`;
  });
  return `${lines.join('\r\n')}\r\nFrom: a@b.example\r\nTo: victim@example.net\r\nSubject: hi\r\n\r\nbody\r\n`;
}

/** The reporter's own VPS ← a neighbour's VPS of the same hosting company ← a forged line blaming an innocent. */
const NEIGHBOUR = chain([
  ['vmi222222.contaboserver.net', 'vmi333333.contaboserver.net [167.86.75.2]'],
  ['vmi333333.contaboserver.net', 'innocent.example.org [93.184.216.34]'],
]);

test('a neighbour VPS of the reporter’s own VPS at the same hosting company is the origin', async () => {
  const w = await origin(NEIGHBOUR);
  assert.equal(w.ip, '167.86.75.2', w.text);
  assert.match(
    w.text,
    new RegExp(
      'vmi333333\\.contaboserver\\.net is in contaboserver\\.net, the domain the hosting company of AS51167 ' +
        '\\(Contabo GmbH\\) names its customers’ machines under, and 167\\.86\\.75\\.2 is in that network: a ' +
        'neighbour at the same hosting company, not the receiving organisation, so the shared domain is not believed',
    ),
  );
});

test('a company’s own relays under its own domain in a hosting network are still looked past', async () => {
  // mx1 and mx2 of one company, both rented at Hetzner: the domain is the company's, not Hetzner's.
  const w = await origin(
    chain([
      ['mx1.acme-widgets.de', 'mx2.acme-widgets.de [88.198.10.11]'],
      ['mx2.acme-widgets.de', 'sender.example.org [93.184.216.34]'],
    ]),
  );
  assert.equal(w.ip, '93.184.216.34', w.text);
  assert.match(w.text, /mx2\.acme-widgets\.de, in the receiving organisation’s domain acme-widgets\.de/);
  // So are a hosting company's relays under its own company domain, named after it alone.
  const own = await origin(
    chain([
      ['www1.hetzner.com', 'backup2.hetzner.com [88.198.10.11]'],
      ['backup2.hetzner.com', 'sender.example.org [93.184.216.34]'],
    ]),
  );
  assert.equal(own.ip, '93.184.216.34', own.text);
});

test('the hosting company’s own relay under its customers’ domain is believed, the VPS behind it is not', async () => {
  // A relay the hosting company runs for its customers, named by it with a mail label, honestly names
  // the neighbour VPS that handed it the mail; the neighbour wrote a line blaming an innocent address.
  const w = await origin(
    chain([
      ['vmi222222.contaboserver.net', 'smtp-relay1.contaboserver.net [167.86.75.3]'],
      ['smtp-relay1.contaboserver.net', 'vmi333333.contaboserver.net [167.86.75.2]'],
      ['vmi333333.contaboserver.net', 'innocent.example.org [93.184.216.34]'],
    ]),
  );
  assert.equal(w.ip, '167.86.75.2', w.text);
  assert.match(w.text, /smtp-relay1\.contaboserver\.net, in the receiving organisation’s domain contaboserver\.net/);
  assert.match(w.text, /vmi333333\.contaboserver\.net is in contaboserver\.net, the domain the hosting company/);
});

test('the reporter’s address or the envelope recipient under a hosting domain vouches for no neighbour', async () => {
  // Postfix's myhostname is the short name: the receiver's domain says nothing, the addresses do.
  const short = (forAddr: string | null) =>
    chain(
      [
        ['vmi222222', 'vmi333333.contaboserver.net [167.86.75.2]'],
        ['vmi333333.contaboserver.net', 'innocent.example.org [93.184.216.34]'],
      ],
      forAddr,
    );
  const mine = await origin(short(null), { recipientDomains: ['vmi222222.contaboserver.net'] });
  assert.equal(mine.ip, '167.86.75.2', mine.text);
  const rcpt = await origin(short('root@vmi222222.contaboserver.net'));
  assert.equal(rcpt.ip, '167.86.75.2', rcpt.text);
  assert.match(rcpt.text, /a neighbour at the same hosting company/);
});

test('a learned hosting domain speaks for the reporter’s own rented server only', async () => {
  // The reporter's forwarder is their VPS, learned by address and by its domain.
  const w = await origin(
    chain([
      ['mail.reporter-isp.net', 'vmi222222.contaboserver.net [167.86.75.1]'],
      ['vmi222222.contaboserver.net', 'vmi333333.contaboserver.net [167.86.75.2]'],
      ['vmi333333.contaboserver.net', 'innocent.example.org [93.184.216.34]'],
    ]),
    { mailhosts: ['167.86.75.1', 'contaboserver.net'] },
  );
  assert.equal(w.ip, '167.86.75.2', w.text);
  assert.match(w.text, /Hop 0: .*167\.86\.75\.1 is one of the reporter’s own mail hosts/);
});

test('qmail’s unchecked name of a neighbour, backed only by the shared /24, is not believed', async () => {
  // The reporter's forwarder is their VPS (learned by its address), running qmail: it writes the
  // neighbour's reverse name unchecked, and the neighbour's address is in the /24 of the VPS's own.
  const raw = chain([
    ['mail.reporter-isp.net', 'vmi222222.contaboserver.net [167.86.75.1]'],
    ['vmi222222.contaboserver.net', 'vmi333333.contaboserver.net (HELO vmi333333.contaboserver.net) (167.86.75.2)'],
    ['vmi333333.contaboserver.net', 'innocent.example.org [93.184.216.34]'],
  ]).replace('(Postfix) with ESMTP id 1A2B3C', 'with SMTP');
  const w = await origin(raw, { mailhosts: ['167.86.75.1'] });
  assert.equal(w.ip, '167.86.75.2', w.text);
  assert.match(w.text, /Hop 1: .*a neighbour at the same hosting company/);
  // Nor a mail machine's name there: unchecked, the neighbour wrote it in its own reverse zone.
  const mail = await origin(raw.replaceAll('vmi333333.contaboserver.net (HELO', 'mail.contaboserver.net (HELO'), {
    mailhosts: ['167.86.75.1'],
  });
  assert.equal(mail.ip, '167.86.75.2', mail.text);
});

test('fresh mail: a neighbour’s forward-confirmed name under the hosting domain is not believed', async () => {
  const zone: Zone = {
    '2.75.86.167.in-addr.arpa': { PTR: ['vmi333333.contaboserver.net.'] },
    'vmi333333.contaboserver.net': { A: ['167.86.75.2'] },
  };
  const raw = chain([
    ['vmi222222.contaboserver.net', 'vmi333333.contaboserver.net (unknown [167.86.75.2])'],
    ['vmi333333.contaboserver.net', 'innocent.example.org [93.184.216.34]'],
  ]);
  const w = await origin(raw, { zone, now: new Date('2026-11-04T10:00:00Z') });
  assert.equal(w.ip, '167.86.75.2', w.text);
  assert.match(w.text, /looked up on 2026-11-04: its reverse name vmi333333\.contaboserver\.net is in/);
});

test('a customer’s dedicated server named under OVH’s own domain is no host of an OVH-hosted mailbox', async () => {
  // 91.121.14.0/24 is OVH's (AS16276, "OVH SAS"); OVH names dedicated servers nsNNNNNNN.ovh.net, beside its own
  // mail system (mx4.mail.ovh.net). A review framed an innocent through a forged line such a server wrote.
  const w = await origin(
    chain([
      ['mx4.mail.ovh.net', 'ns3012345.ovh.net [91.121.14.196]'],
      ['ns3012345.ovh.net', 'innocent.example.org [93.184.216.34]'],
    ]),
  );
  assert.equal(w.ip, '91.121.14.196', w.text);
  assert.match(w.text, /ns3012345\.ovh\.net is in ovh\.net, the domain the hosting company of AS16276/);
  // OVH's own mail relays, mail names the receiver checked, are still its mail system.
  const relay = await origin(
    chain([
      ['mx4.mail.ovh.net', '10.mo7.mail-out.ovh.net [91.121.14.20]'],
      ['10.mo7.mail-out.ovh.net', 'sender.example.org [93.184.216.34]'],
    ]),
  );
  assert.equal(relay.ip, '93.184.216.34', relay.text);
});

test('qmail’s unchecked name under the company’s own domain, from a neighbour in the /24 of its rented server, is \
not believed; in a network the company holds, it is', async () => {
  // The company's mail server is a rented machine at Hetzner (88.198.10.20, AS24940 "Hetzner Online GmbH") running
  // qmail. A neighbour in the same /24 gives its own address the reverse name relay.maison-duclos.fr (it holds
  // that reverse zone) and writes a forged line below: the /24 does not make it the company's.
  const raw = chain([
    ['store.maison-duclos.fr', 'mx.maison-duclos.fr [88.198.10.20]'],
    ['mx.maison-duclos.fr', 'relay.maison-duclos.fr (HELO relay.maison-duclos.fr) (88.198.10.77)'],
    ['relay.maison-duclos.fr', 'innocent.example.org [93.184.216.34]'],
  ]).replace('(Postfix) with ESMTP id 1A2B3C', 'with SMTP');
  const w = await origin(raw);
  assert.equal(w.ip, '88.198.10.77', w.text);
  // The same in a university's own network (AS680, DFN's research network: 130.183.0.0/16 is the Max Planck
  // Society's): its blocks go to member institutions only, and the unchecked name is believed.
  const own = chain([
    ['store.mpg.de', 'mx.mpg.de [130.183.70.20]'],
    ['mx.mpg.de', 'relay.mpg.de (HELO relay.mpg.de) (130.183.70.77)'],
    ['relay.mpg.de', 'sender.example.org [93.184.216.34]'],
  ]).replace('(Postfix) with ESMTP id 1A2B3C', 'with SMTP');
  assert.equal((await origin(own)).ip, '93.184.216.34');
});
