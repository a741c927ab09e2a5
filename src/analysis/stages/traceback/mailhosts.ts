/**
 * A reporter's own mail hosts, learned as SpamCop learns a user's "mailhosts": a machine that, in
 * many of one reporter's (or one intake's) reports, received mail addressed to that reporter and
 * passed it on towards the reporter's mailbox is the reporter's own relay — a secondary MX, a
 * forwarder the reporter set up, an inbound gateway of their provider — and the trace-back should
 * look past it. A mailing-list server or a spammer's relay is never one: the message says a list passed it on
 * (a forwarder, too, writes another recipient than the reporter: their mailbox it forwards), or the reports it
 * appears in come from too few sources.
 * For one reporter's key, the hosts that delivered their mail are learned too (`=name` entries).
 *
 * Pure: the caller hands in parsed chains (see `mailhost-store.ts` for the rows kept per reporter).
 */
import { MAX_DECLARED } from './declared.ts';
import type { ParsedReceived } from './received-parser.ts';
import { classifyIp, parseCidr, type Cidr } from './ip-class.ts';
import { hasPublicSuffix, holderDomain, isAccessName, isMailHostName, isPlaceholderDomain } from './org.ts';
import { compileRelay, type CompiledRelay, type TrustTable } from './trust.ts';
import { walkChain } from './walk.ts';

/** Reports a host must appear in, as the relay of mail addressed to the reporter, before it is learned. */
export const MIN_MAILHOST_REPORTS = 5;
/** Distinct machines it must have received that mail from: one spammer's forged chain is not a relay. */
export const MIN_MAILHOST_SOURCES = 3;
/** Most mail hosts kept per reporter (a reporter's mail passes through a handful at most). */
export const MAX_MAILHOSTS = 32;
/** Rounds of learning: each learned host can uncover the one behind it (secondary MX → gateway). */
const MAX_ROUNDS = 3;

/** Normalised `for` address: lower case, without angle brackets. */
function recipient(r: ParsedReceived): string | null {
  if (r.for === null) return null;
  const a = r.for.replace(/^<|>$/g, '').trim().toLowerCase();
  return a.includes('@') ? a : null;
}

/** Whether a hop is a hand-off from a public address (a retrieval line is none). */
function isPublicHandOff(r: ParsedReceived): boolean {
  return r.fromIp !== null && classifyIp(r.fromIp) === 'public' && !r.notes.includes('retrieval');
}

/** Whether hop `below` was written by the client of hop `above` (its IP, reverse name or HELO). */
function writtenBy(below: ParsedReceived, above: ParsedReceived): boolean {
  const by = below.byHost;
  if (by === null) return false;
  if (above.fromIp !== null && by === above.fromIp) return true;
  return [above.fromRdns, above.fromHelo].some((n) => n !== null && (n === by || n.split('.')[0] === by.split('.')[0]));
}

/**
 * The domain of a hop's reverse name (its holder's: `x.dyndns.org`, not `dyndns.org`) when the
 * receiver looked it up and found it to resolve back (not "may be forged", not qmail's unchecked
 * name) and it is not a consumer line: the address's holder and the domain's holder both wrote it,
 * so a sender cannot claim it by HELO.
 */
function checkedDomain(r: ParsedReceived, ip: string): string | null {
  if (r.fromRdns === null || r.notes.includes('rdns-may-be-forged') || r.notes.includes('rdns-unverified')) return null;
  // A placeholder domain (an anonymised corpus's `example.com`) is nobody's: learned, it would vouch for strangers.
  if (isAccessName(r.fromRdns, ip) || isPlaceholderDomain(r.fromRdns)) return null;
  const d = holderDomain(r.fromRdns);
  // The store keeps entries of at most 64 characters (`analysis_mailhosts.ip`).
  return d !== null && d.length <= 64 ? d : null;
}

/**
 * A delivering host's own name as a learned entry (`=name`: matched whole, never as a suffix), when
 * it can stand for the reporter's mail side: a dotted name under a listed public suffix, not an
 * address, not a trusted provider's or this instance's (the trust table speaks for those), not a
 * placeholder, not a consumer line.
 */
function deliveringHost(byHost: string | null, trust: TrustTable): string | null {
  if (byHost === null || !byHost.includes('.') || !/[a-z]/i.test(byHost) || /^\[|:/.test(byHost)) return null;
  if (trust.byName(byHost) !== null || isPlaceholderDomain(byHost) || isAccessName(byHost, null)) return null;
  const host = byHost.toLowerCase().replace(/\.$/, '');
  return hasPublicSuffix(host) && host.length < 64 ? `=${host}` : null;
}

export interface LearnOptions {
  /**
   * Learn the hosts that delivered the reporter's mail (default false). Right for one reporter's
   * key, whose mail one receiving side delivers; wrong for an intake's, where every reporter's
   * provider delivers and one reporter's provider is a stranger to the next reporter.
   */
  deliveringHosts?: boolean;
  /**
   * Per chain, in the same order: whether its message may have come through a mailing list (`mayBeListMail` in
   * `list-mail.ts`), true when not known. Given, a machine may also be learned as a **forwarder**, by its address
   * only: in as many reports from as many sources, the header it wrote names as the recipient another address than
   * the reporter's (their mailbox elsewhere, forwarded to them), in messages with no sign of a list, when it is the
   * chain's first hand-off from a public address, under a reverse name the receiver checked. Right for one
   * reporter's key only: an intake's reporters do not share their forwarders.
   */
  listMail?: readonly boolean[];
  /**
   * Learn a machine only under a reverse name its receiver checked, and one with a mail machine's label
   * (`isMailHostName`: `mx…`, `relay…`, `mta…`, `forward…`, `…mail…`, `…smtp…`; default false). Right for an
   * intake's key: it gathers many reporters' mail (a feedback loop, a big ISP's channel), so one bot that mails five
   * of them, writing `from <random> by <itself> for <user>` below itself, would otherwise be learned and looked past
   * for all of them, and the random addresses it wrote named instead. A bot has no checked name, or a consumer
   * line's, which is never learned; a hosted server it runs on, or a compromised web or name server
   * (`server1.madvlad.com`, `ns1.bandung.go.id` in the corpora), has a checked name but not a mail machine's. One
   * reporter's relay without a reverse name (a home server behind a provider's address) is still learned for that
   * reporter's own key.
   */
  checkedOnly?: boolean;
}

/**
 * Learns a reporter's mail hosts from the Received chains of their reports (top header first).
 * Returns addresses and registered domains of checked reverse names (a forwarder or provider that
 * spreads the reporter's mail over many addresses: ImprovMX used four in one month), at most
 * {@link MAX_MAILHOSTS}, most frequent first. Never a HELO name: anyone can say it; the walk matches
 * a learned domain only against a reverse name the believed receiver checked.
 *
 * With `deliveringHosts`, also the hosts that wrote the reporter's chains down to their first
 * hand-off from a public address (the delivering side's own lines, which no sender writes), named in
 * as many reports from as many sources as a mail host: SpamCop's "mailhosts" of one user spread over
 * his domains (`dogma.slashnull.org` delivers most of `jm@jmason.org`'s mail, so a checked
 * `dogma.slashnull.org` relaying into his `netnoteinc.com` host is his own). Whole host names, not
 * their domains: a domain also names strangers' machines (the corpus's anonymised Red Hat list
 * server `listman.spamassassin.taint.org` sits under a domain of the reporter's own hosts).
 */
export function learnMailhosts(
  chains: readonly (readonly ParsedReceived[])[],
  trust: TrustTable,
  opts: LearnOptions = {},
): string[] {
  // The reporter's addresses: recipients written by the delivering side itself, down to and
  // including the first hand-off from a public address (deeper hops may be a third party's).
  const addresses = new Set<string>();
  const delivering = new Map<string, { reports: number; sources: Set<string> }>();
  for (const c of chains) {
    const hosts = new Set<string>();
    let source: string | null = null;
    for (const r of c) {
      const a = recipient(r);
      if (a !== null) addresses.add(a);
      if (opts.deliveringHosts === true) {
        const h = deliveringHost(r.byHost, trust);
        if (h !== null) hosts.add(h);
      }
      if (isPublicHandOff(r)) {
        source = r.fromIp;
        break;
      }
    }
    for (const h of hosts) {
      const e = delivering.get(h) ?? { reports: 0, sources: new Set<string>() };
      e.reports++;
      if (source !== null) e.sources.add(source);
      delivering.set(h, e);
    }
  }
  const learned: string[] = [...delivering.entries()]
    .filter(([, e]) => e.reports >= MIN_MAILHOST_REPORTS && e.sources.size >= MIN_MAILHOST_SOURCES)
    .sort((a, b) => b[1].reports - a[1].reports || (a[0] < b[0] ? -1 : 1))
    .slice(0, MAX_MAILHOSTS)
    .map(([d]) => d);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const seen = new Map<string, { reports: number; sources: Set<string> }>();
    for (const [ci, c] of chains.entries()) {
      const i = originIndex(c, trust, learned);
      const hop = c[i];
      const below = c[i + 1];
      if (hop === undefined || below === undefined || hop.fromIp === null || below.fromIp === null) continue;
      if (below.fromIp === hop.fromIp || classifyIp(below.fromIp) !== 'public' || !writtenBy(below, hop)) continue;
      if (hop.fromRdns !== null && isAccessName(hop.fromRdns, hop.fromIp)) continue;
      const to = recipient(below);
      if (to === null) continue;
      const domain = checkedDomain(hop, hop.fromIp);
      // An intake's key: a checked name with a mail machine's label (mx…, relay…, …mail…, …smtp…), the
      // names its reporters' secondary MXs, forwarders and gateways carry, not a web or name server's.
      if (opts.checkedOnly === true && (domain === null || !isMailHostName(hop.fromRdns as string))) continue;
      let keys = domain === null ? [hop.fromIp] : [hop.fromIp, domain];
      if (!addresses.has(to)) {
        // Forwarded to the reporter: their mailbox elsewhere took it for another address and passed it on. A list
        // server looks the same from the Received fields (it takes posts for the list's address), so only in a
        // message that shows no sign of a list; only the machine that handed the mail to the reporter's side itself
        // (the chain's first hand-off from a public address), in the first round (not a machine behind a forwarder
        // just learned: its mail is addressed to the forwarded address, which any sender can use); only under a
        // reverse name the receiver checked; and only its address, never its domain (a big ISP's or a university's
        // domain names strangers' machines, consumer lines the access patterns miss among them).
        if (round > 0 || opts.listMail?.[ci] !== false || domain === null || i !== c.findIndex(isPublicHandOff))
          continue;
        keys = [hop.fromIp];
      }
      for (const key of keys) {
        const s = seen.get(key) ?? { reports: 0, sources: new Set<string>() };
        s.reports++;
        s.sources.add(below.fromIp);
        seen.set(key, s);
      }
    }
    const fresh = [...seen.entries()]
      .filter(
        ([ip, s]) =>
          s.reports >= MIN_MAILHOST_REPORTS && s.sources.size >= MIN_MAILHOST_SOURCES && !learned.includes(ip),
      )
      .sort((a, b) => b[1].reports - a[1].reports)
      .map(([ip]) => ip);
    if (fresh.length === 0) break;
    learned.push(...fresh.slice(0, MAX_MAILHOSTS - learned.length));
    if (learned.length >= MAX_MAILHOSTS) break;
  }
  return learned;
}

/** Learned lists a chain's walk is remembered for (a key's list changes rarely; the rounds of one pass add a few). */
const WALKS_PER_CHAIN = 8;
/** Origin hop of a chain's walk, by trust table, chain and learned list (`\n`-joined). */
const walkMemo = new WeakMap<TrustTable, WeakMap<readonly ParsedReceived[], Map<string, number>>>();

/**
 * The hop a walk names as the origin of one chain (-1 for none) when `learned` are the mail hosts. A key is
 * learned again every few reports from the same window of chains (mailhost-store.ts keeps the parsed chains);
 * walking all of them again each pass was most of the learning's cost (issue 17 profile, 2026-12-04). The walk
 * is pure in its inputs: the same chain object, table and list give the same hop, so it is remembered per chain
 * object (weakly: a chain the store dropped takes its walks with it).
 */
function originIndex(c: readonly ParsedReceived[], trust: TrustTable, learned: readonly string[]): number {
  let byChain = walkMemo.get(trust);
  if (byChain === undefined) {
    byChain = new WeakMap();
    walkMemo.set(trust, byChain);
  }
  let byList = byChain.get(c);
  if (byList === undefined) {
    byList = new Map();
    byChain.set(c, byList);
  }
  const key = learned.join('\n');
  const known = byList.get(key);
  if (known !== undefined) return known;
  const out = walkChain({
    received: c.map((r) => ({ ...r, raw: '' })),
    trust,
    asnOf: new Map(),
    mailhosts: mailhostRelay(learned),
    webmailHeaders: [],
    documentationIsPublic: false,
  });
  const i = out.origin?.hopIndex ?? -1;
  if (byList.size >= WALKS_PER_CHAIN) byList.clear();
  byList.set(key, i);
  return i;
}

const relayMemo = new Map<string, CompiledRelay | null>();

/**
 * The learned (or declared, `declared.ts`) mail hosts as a relay the walk can match (addresses and
 * CIDRs as networks, `=name` entries as whole host names, other names as host-name suffixes), or null
 * for none. Bad entries are dropped, not fatal.
 */
export function mailhostRelay(list: readonly string[], kind: 'learned' | 'declared' = 'learned'): CompiledRelay | null {
  if (list.length === 0) return null;
  const key = `${kind}\n${list.join('\n')}`;
  const hit = relayMemo.get(key);
  if (hit !== undefined) return hit;
  const networks: string[] = [];
  const names: string[] = [];
  const hosts: string[] = [];
  // A reporter's declarations and their intake's (each at most MAX_DECLARED), or the learned hosts.
  for (const entry of list.slice(0, kind === 'declared' ? MAX_DECLARED * 2 : MAX_MAILHOSTS)) {
    const e = entry.trim();
    const c: Cidr | null = parseCidr(e);
    if (c !== null) networks.push(e);
    else if (/^=[a-z0-9.-]{1,253}$/i.test(e) && e.includes('.')) hosts.push(e.slice(1).toLowerCase());
    else if (/^[a-z0-9.-]{1,253}$/i.test(e) && e.includes('.')) names.push(e);
  }
  const relay: CompiledRelay = {
    ...compileRelay(
      {
        name: kind === 'declared' ? 'a mail host the reporter declared' : 'the reporter’s own mail hosts',
        names,
        networks,
        asns: [],
        authservIds: [],
        arcSealers: [],
        webmail: false,
      },
      kind,
      `${kind} mail hosts`,
    ),
    hosts,
  };
  if (relayMemo.size > 256) relayMemo.clear();
  relayMemo.set(key, relay);
  return relay;
}
