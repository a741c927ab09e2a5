/**
 * What kind of network an origin address sits in, for the choice between the infected-machines
 * list and the spam-infrastructure list. An infected machine is a subscriber's computer on an
 * access network (broadband, cable, mobile, a dynamic pool): what seed 001 asks ISPs to clean. A
 * rented server in a datacentre, or a host with a mail server's name, is never that, however bot-like
 * its mail: at most it is a spam operation's own infrastructure.
 *
 * Decided from what the facts carry — the reverse DNS the receiving host recorded and the AS's
 * registered name (ip-location-db) — most specific first: a hosting name or a hosting AS wins over
 * the address written into the name (`static.88-198-1-2.clients.your-server.de` is Hetzner, not a
 * DSL line); then a mail server's own name; then an access-pool name (`isAccessName`, the
 * ISP-alert patterns) or, without reverse DNS, an access provider's AS name. Pure and bounded.
 */
import { getDomain } from 'tldts';
import { isAccessName } from './stages/traceback/org.ts';

export const NETWORK_KINDS = {
  /** A subscriber line or dynamic pool of an access provider. */
  ACCESS: 'access',
  /** A datacentre, cloud or hosting provider. */
  HOSTING: 'hosting',
  /** A host named as a mail server (`smtp.…`, `mail.…`, `mx1.…`), whatever network it is in. */
  MAIL_SERVER: 'mail-server',
  /** A host with a name of its own that is neither. */
  NAMED_HOST: 'named-host',
  /** Nothing tells. */
  UNKNOWN: 'unknown',
} as const;
export type NetworkKind = (typeof NETWORK_KINDS)[keyof typeof NETWORK_KINDS];

export interface OriginNetwork {
  kind: NetworkKind;
  /** Why, in words shown on the look-up page. */
  reason: string;
}

/** Longest reverse name looked at (RFC 1035 §2.3.4). */
const MAX_NAME = 255;

/**
 * Labels hosting providers put in their customers' machines' reverse names (a label, a part of a
 * label between dashes, or either with a number after it: `server1`, `vps-12`, `srv03`).
 */
const HOSTING_LABELS = new Set([
  'vps',
  'vds',
  'server',
  'servers',
  'srv',
  'dedicated',
  'dedi',
  'ded',
  'hosted',
  'hosting',
  'colo',
  'colocation',
  'cloud',
  'compute',
  'datacenter',
  'datacentre',
  'ec2',
  'hosted-by',
  'your-server',
]);

/** Registered domains of hosting providers' reverse zones (their customers' machines). */
const HOSTING_RDNS_DOMAINS = new Set([
  'amazonaws.com',
  'googleusercontent.com',
  'linode.com',
  'linodeusercontent.com',
  'your-server.de',
  'ovh.net',
  'ovh.ca',
  'kimsufi.com',
  'contabo.net',
  'contaboserver.net',
  'vultrusercontent.com',
  'vultr.com',
  'digitalocean.com',
  'scaleway.com',
  'leaseweb.com',
  'leaseweb.net',
  'secureserver.net',
  'hostgator.com',
  'bluehost.com',
  'dreamhost.com',
  'rackspace.com',
  'slicehost.net',
  'softlayer.com',
  'theplanet.com',
  'ev1servers.net',
  'cloudapp.net',
  'azure.com',
]);

/** Labels of a mail server's own name: the first label, with any number after it. */
const MAIL_SERVER_LABELS = new Set([
  'mail',
  'mails',
  'smtp',
  'smtps',
  'smtpout',
  'smtp-out',
  'mx',
  'mta',
  'mailout',
  'mail-out',
  'mailer',
  'mailhost',
  'mailgw',
  'mailgate',
  'relay',
  'out',
  'outbound',
  'mout',
  'mo',
  'correo',
  'posta',
  'exchange',
  'webmail',
  'lists',
  'list',
  'listserv',
  'news',
  'newsletter',
]);

/**
 * Words of hosting, cloud and datacentre networks' AS names, and the big clouds by name. Whole
 * words, case-insensitive.
 */
const HOSTING_AS = new RegExp(
  [
    String.raw`\b(?:hosting|hoster|webhost\w*|host(?:er|s)?|servers?|data ?cent(?:er|re)s?|colo(?:cation)?|vps|`,
    String.raw`cloud\w*|dedicated|amazon|aws|google|microsoft|azure|linode|akamai|digitalocean|digital ocean|ovh\w*|`,
    String.raw`hetzner|leaseweb|contabo|vultr|choopa|scaleway|alibaba|tencent|oracle|rackspace|godaddy|softlayer|`,
    String.raw`hostinger|ionos|strato|m247|psychz|quadranet|colocrossing|hurricane electric|servint|theplanet|`,
    String.raw`ev1servers|datapipe|dreamhost|bluehost|hostgator|unified layer|liquid web|serverius|worldstream)\b`,
  ].join(''),
  'i',
);

/** Words of access providers' AS names (a cloud's consumer arm — "Google Fiber" — is access). */
const ACCESS_AS = new RegExp(
  [
    String.raw`\b(?:broadband|cable\w*|kabel\w*|dsl|adsl|fib(?:er|re)|ftth|mobile|mobil|wireless|cellular|`,
    String.raw`telecom\w*|telekom\w*|telecommunications?|communications?|telefonica|telefonia|vodafone|`,
    String.raw`comcast|charter|verizon|at&t|cox|spectrum|virgin|orange|wanadoo|proxad|tiscali|chinanet|unicom|`,
    String.raw`hinet|vnpt|viettel|rostelecom|telmex|residential|dial\w*|subscribers?|tele|banda ancha|`,
    String.raw`telecomunica\w*|telecomunicações|infocomunica\w*)\b`,
  ].join(''),
  'i',
);

function labelsOf(name: string): string[] {
  return name.toLowerCase().slice(0, MAX_NAME).replace(/\.$/, '').split('.');
}

/** `server1` → `server`, `srv-03` → `srv`: a word with a number after it. */
function stem(label: string): string {
  return label.replace(/[-_]?\d+$/, '');
}

/** True when a reverse name is a hosting provider's name for a customer's machine. */
export function isHostingName(rdns: string): boolean {
  const labels = labelsOf(rdns);
  const registered = getDomain(labels.join('.'));
  if (registered && HOSTING_RDNS_DOMAINS.has(registered)) return true;
  for (const label of labels) {
    if (HOSTING_LABELS.has(label) || HOSTING_LABELS.has(stem(label))) return true;
    for (const part of label.split('-')) if (part.length > 2 && HOSTING_LABELS.has(stem(part))) return true;
  }
  return false;
}

/** True when a reverse name is a mail server's own name (`smtp.example.com`, `mx2.example.net`). */
export function isMailServerName(rdns: string): boolean {
  const labels = labelsOf(rdns);
  if (labels.length < 3) return false;
  return MAIL_SERVER_LABELS.has(labels[0]) || MAIL_SERVER_LABELS.has(stem(labels[0]));
}

/** True when an AS, by its registered name, is a hosting, cloud or datacentre network. */
export function isHostingAs(asName: string | null): boolean {
  if (!asName) return false;
  return HOSTING_AS.test(asName) && !(/\bgoogle fiber\b/i.test(asName) || /\bfib(?:er|re)\b/i.test(asName));
}

/** True when an AS, by its registered name, is an access (consumer line) provider and not a hosting one. */
export function isAccessAs(asName: string | null): boolean {
  if (!asName) return false;
  return ACCESS_AS.test(asName) && !isHostingAs(asName);
}

/** A first label that is a host's serial number and nothing else: `host11`, `server-3`, `node07`. */
const SERIAL_LABEL = /^(?:host|server|srv|node|web|box|machine)[-_]?\d{1,3}$/i;

/**
 * True when a reverse name is a subscriber line's: the trace-back's access-name test, except that a
 * host's serial number in the first label (`host11.websitesource.com`, `host1.accesssender.com`)
 * is a named machine, not a line (`host86-128-81-59.range86-128.btcentralplus.com` still is).
 */
function isLineName(rdns: string, ip: string): boolean {
  const labels = labelsOf(rdns);
  if (labels.length > 2 && SERIAL_LABEL.test(labels[0])) return isAccessName(labels.slice(1).join('.'), ip);
  return isAccessName(rdns, ip);
}

/**
 * The kind of network of an origin. `dynamic` is what the actions area judged of the name with the
 * operator's ISP patterns (the `dynamic-rdns` signal), so both judge a name alike.
 */
export function originNetwork(ip: string, rdns: string | null, asName: string | null, dynamic: boolean): OriginNetwork {
  const as = asName ? `AS name "${asName}"` : 'AS unknown';
  if (rdns && isHostingName(rdns))
    return { kind: NETWORK_KINDS.HOSTING, reason: `reverse DNS ${rdns} names a hosted machine` };
  if (isHostingAs(asName)) return { kind: NETWORK_KINDS.HOSTING, reason: `${as}: a hosting or cloud network` };
  if (rdns && isMailServerName(rdns))
    return { kind: NETWORK_KINDS.MAIL_SERVER, reason: `reverse DNS ${rdns} names a mail server` };
  if (rdns && (dynamic || isLineName(rdns, ip)))
    return { kind: NETWORK_KINDS.ACCESS, reason: `reverse DNS ${rdns} names an access line or dynamic pool` };
  if (rdns) return { kind: NETWORK_KINDS.NAMED_HOST, reason: `reverse DNS ${rdns} names a host of its own` };
  if (isAccessAs(asName)) return { kind: NETWORK_KINDS.ACCESS, reason: `no reverse DNS; ${as}: an access provider` };
  return { kind: NETWORK_KINDS.UNKNOWN, reason: `no reverse DNS; ${as}: not known as an access network` };
}

/**
 * Signals of the listing that say one fact count once: a missing reverse name and mail nobody
 * authorised both say "not set up as a mail server" (a rented server without a PTR record shows
 * both), and a dynamic-pool name and an access provider's AS both say "a subscriber's line".
 */
export const ACCESS_NETWORK_SIGNAL = 'access-network';
const SIGNAL_FACTS: Readonly<Record<string, string>> = {
  'dynamic-rdns': 'a subscriber line',
  [ACCESS_NETWORK_SIGNAL]: 'a subscriber line',
  'no-rdns': 'not set up as a mail server',
  unauthenticated: 'not set up as a mail server',
  'many-campaigns': 'spam of several campaigns',
  'direct-to-mx': 'sent straight to the recipient’s MX',
};

/**
 * Distinct campaigns from one origin that count as the `many-campaigns` signal. Three, not two: a
 * report not (yet) in a campaign counts its message as a campaign of its own, and the clusterer may
 * split one run's template variants, so two "campaigns" are often one run; on the 14,305-report
 * mixed stream of the shared corpora, three changes no alert and no listing, only what is claimed.
 */
export const MANY_CAMPAIGNS = 3;

/** The distinct facts a set of signals shows (an unknown signal is a fact of its own). */
export function signalFacts(signals: readonly string[]): string[] {
  return [...new Set(signals.map((s) => SIGNAL_FACTS[s] ?? s))].sort();
}

/**
 * Spam of this many distinct campaigns within the window from one origin that is not a subscriber
 * line (or that also carried legitimate mail) is a relay — a forwarder, a list server, a provider's
 * smarthost — passing on the mail of many unrelated senders, not the spammer: its abuse desk is the
 * channel. A spam operation's own server sends its own few campaigns; a bot on an access line sends
 * many, but no legitimate mail.
 */
export const RELAY_MIN_CAMPAIGNS = 20;

/**
 * Why an origin is a relay of many senders' mail (never listed, never alerted as an infected
 * machine), or null: `campaigns` distinct campaigns of spam and `clean` legitimate or authenticated
 * messages it passed on.
 */
export function relayReason(network: OriginNetwork, campaigns: number, clean: number): string | null {
  if (campaigns < RELAY_MIN_CAMPAIGNS) return null;
  if (network.kind === NETWORK_KINDS.ACCESS && clean === 0) return null;
  const ham = clean > 0 ? ` and ${clean} legitimate message(s)` : '';
  return `it passed on spam of ${campaigns} unrelated campaigns${ham} \
(${network.reason}): a relay of many senders' mail — forwarder, list server or smarthost — not their source`;
}
