/**
 * Who a relay belongs to, for the trace-back's "receiving organisation" rules: the registered
 * domain of a name (public suffix list, via tldts), whether a reverse-DNS name is a consumer-access
 * or generic hosting name (which never makes a hop trusted), and whether an AS is an access or
 * hosting network (whose address space is shared with strangers, so "same AS" proves nothing).
 *
 * Pure and bounded: the name tests look at one host name (≤ 255 characters) at a time.
 */
import ipaddr from 'ipaddr.js';
import { getDomain, parse } from 'tldts';
import { BoundedMemo } from '../../../core/bounded-memo.ts';

/**
 * Labels that access providers and hosting companies put in the reverse names of their
 * subscribers' lines and customers' machines: `ATuileries-108-2-1-172.abo.wanadoo.fr`,
 * `x.subs.proxad.net`, `c-24-61-102-132.hsd1.ma.comcast.net`, `CPE-72-131-51-207.wi.res.rr.com`,
 * `li123-45.members.linode.com`. A mail relay is named `smtp`, `mx`, `mail`, `relay`, … instead.
 */
const ACCESS_LABELS = new Set([
  'abo',
  'subs',
  'fbx',
  'dsl',
  'adsl',
  'vdsl',
  'xdsl',
  'sdsl',
  'cable',
  'cpe',
  'dhcp',
  'dyn',
  'dynamic',
  'dynip',
  'dial',
  'dialup',
  'dialin',
  'ppp',
  'pppoe',
  'pool',
  'res',
  'client',
  'clients',
  'customer',
  'customers',
  'cust',
  'user',
  'users',
  'broadband',
  'hsd1',
  'cm',
  'catv',
  'ftth',
  'fttx',
  'fttb',
  'fiber',
  'fibre',
  'wireless',
  'wlan',
  'mobile',
  'lte',
  'nat',
  'home',
  'access',
  'members',
  'range',
  'rev',
  'static',
  'dip',
  'dip0',
  'resnet',
  'modem',
  'sta',
  'ip',
  'in-addr',
  'vps',
  'compute',
  'cloud',
  'hosted-by',
  'your-server',
]);

/**
 * A label that starts like a generic line name: `host86-128-81-59`, `ip-10-0-0-1`, `dsl88-233`, `pd184`, `bb220-255`.
 */
const GENERIC_LABEL =
  /^(?:host|ip|dsl|adsl|ppp|dhcp|dyn|dial|pool|cable|cpe|bb|client|cust|static|dynamic|vps|ec2|li)[-_]?\d/i;

/**
 * Whole labels that large access providers give their subscribers' lines and that carry no access
 * word (each seen on real mail as the client of a spam or of a bot's forged chain):
 * - a cable modem's MAC address, `s0106000c41ce0f10.vc.shawcable.net` (Shaw's DOCSIS lines);
 * - Comcast's 2003–2005 lines, `pcp04346360pcs.pthurn01.mi.comcast.net`, `bgp01360964bgs…` (the same two
 *   letters before `p` and `s`: Verizon's relay `vms173001pub.verizon.net` is not one);
 * - @Home's cable customers, `cc1130914-a.zwoll1.ov.home.nl`, `cp504694-a…` (`h12.mail.home.com`
 *   is its relay and stays one);
 * - chello/UPC's regions, `a227055.upc-a.chello.nl`;
 * - NTT OCN's lines, `p7205-ipad208funabasi.chiba.ocn.ne.jp`, `p5052-ipbfp403gifu…`, `p41211-adsau16honb10-acca…`,
 *   and its fibre lines `p1285116-ipngn200805sizuokaden…`, `p912131-ipoe.ipoe.ocn.ne.jp`;
 * - UUNET's dial-up ports, `1cust91.tnt15.det3.da.uu.net`.
 */
const LINE_SCHEME_LABEL = new RegExp(
  [
    String.raw`^(?:([a-z]{2})p\d{6,}\1s|c[a-z]\d{5,}-[a-z]|upc-[a-z]|`,
    String.raw`p\d+-(?:ipad|ipbf|adsau|ipngn|ipoe)[0-9a-z-]*|\d+cust\d+)$`,
  ].join(''),
);

/**
 * Labels that mark a line only under their provider's own domain, being too short to mean it anywhere
 * else: Telekomunikacja Polska's fixed access (`pb72.jedwabne.sdi.tpnet.pl`), Netvigator's home lines
 * (`pcd589144.netvigator.com`).
 */
const PROVIDER_LINE_LABELS: ReadonlyMap<string, RegExp> = new Map([
  ['tpnet.pl', /^sdi$/],
  ['netvigator.com', /^pcd\d{5,}$/],
]);

/** A label that is a MAC address (twelve hex digits or more, letters and digits both) after a short prefix. */
const MAC_LABEL = /^[a-z]{0,3}([0-9a-f]{12,})$/;

function isLineSchemeLabel(label: string): boolean {
  if (LINE_SCHEME_LABEL.test(label)) return true;
  const mac = MAC_LABEL.exec(label);
  return mac !== null && /[a-f]/.test(mac[1]) && /\d/.test(mac[1]);
}

/** Longest host name looked at (RFC 1035 §2.3.4). */
const MAX_NAME = 255;

/**
 * True when `name` looks like the reverse name of a consumer line or a rented machine rather than
 * a mail relay: an access label (`abo`, `subs`, `dsl`, `cable`, `pool`, …), a generic line label
 * (`host86-128-…`), or three or more of the address's octets written into the name — each judged
 * on the labels below the registered domain only (`home.com`, `cable.co.uk`, `mobile.de` name an
 * organisation, not a line).
 */
export function isAccessName(name: string, ip: string | null): boolean {
  return accessMemo.get(`${name}\u0000${ip ?? ''}`);
}

/** The same relays recur in every chain of a mailbox: each name is judged once (bounded). */
const accessMemo = new BoundedMemo((key: string) => {
  const cut = key.indexOf('\u0000');
  const ip = key.slice(cut + 1);
  return accessUncached(key.slice(0, cut), ip.length > 0 ? ip : null);
});

function accessUncached(name: string, ip: string | null): boolean {
  const n = name.toLowerCase().slice(0, MAX_NAME);
  const below = belowRegisteredDomain(n);
  const provider = below.length === 0 ? undefined : PROVIDER_LINE_LABELS.get(n.slice(below.length + 1));
  for (const label of below.length === 0 ? [] : below.split('.')) {
    if (ACCESS_LABELS.has(label) || GENERIC_LABEL.test(label) || isLineSchemeLabel(label)) return true;
    if (provider?.test(label) === true) return true;
    for (const part of label.split('-')) if (ACCESS_LABELS.has(part) && part.length > 2) return true;
  }
  // The address written into the name marks a line wherever it stands, registered domain included
  // (`211-236-161-5-e-serverbank.com`, `1434930387.ip2long.net`).
  return ip !== null && spellsAddress(n, ip);
}

/**
 * True when a name spells its IPv4 address: three of its octets as numbers, the four octets run
 * together (`cr200248273` for 200.24.82.73, or zero-padded), the address as one decimal integer
 * (`1434930387` for 85.135.76.211), or in hex (`C8B08DDF`).
 */
function spellsAddress(n: string, ip: string): boolean {
  if (!ip.includes(':')) {
    const octets = ip.split('.');
    const numbers = new Set(
      n
        .split(/[^0-9]+/)
        .filter((x) => x.length > 0 && x.length <= 3)
        .map((x) => String(Number(x))),
    );
    let hits = 0;
    for (const o of new Set(octets)) if (numbers.has(o)) hits++;
    if (hits >= 3) return true;
    const runs = new Set(n.split(/[^0-9]+/).filter((x) => x.length >= 7));
    if (runs.size > 0) {
      const values = octets.map(Number);
      const joined = values.join('');
      const padded = values.map((o) => String(o).padStart(3, '0')).join('');
      const integer = String(((values[0] * 256 + values[1]) * 256 + values[2]) * 256 + values[3]);
      for (const r of runs) if (r.includes(joined) || r.includes(padded) || r === integer) return true;
    }
    if (octetsSpelt(n, octets) >= 3) return true;
    // The address in hex, as some providers write it (`cm-net-fln-C8B08DDF`).
    const hex = octets.map((o) => Number(o).toString(16).padStart(2, '0')).join('');
    if (n.includes(hex)) return true;
  }
  return false;
}

/**
 * How many of the address's four octets a name writes, counting runs of digits that join two or
 * more neighbouring octets, in the address's order or reversed, padded to three digits or not:
 * `cs242197-43.houston.rr.com` (24.242.197.43), `c141.h061013202.is.net.tw` (61.13.202.141),
 * `cm168005.red83-165.mundo-r.com` (83.165.168.5); reversed only as a whole, `unregister210213225195…`
 * (195.225.213.210). A run is read once, as the longest join it equals; a lone number counts one
 * octet of that value not yet counted. `mail-40138.protonmail.ch` (185.70.40.138) writes two.
 */
function octetsSpelt(n: string, octets: readonly string[]): number {
  const values = octets.map(Number);
  const covered = new Set<number>();
  const runs = n.split(/[^0-9]+/).filter((x) => x.length > 0 && x.length <= 12);
  const joins = (o: number[]): string[] => [o.join(''), o.map((x) => String(x).padStart(3, '0')).join('')];
  for (const r of runs) {
    if (r.length <= 3) continue;
    // Each run is read once, as the longest join it equals; reversed, only the whole address (`in-addr` order).
    if (joins([...values].reverse()).includes(r)) return 4;
    let found = false;
    for (let k = 4; k >= 2 && !found; k--) {
      for (let i = 0; i + k <= 4 && !found; i++) {
        if (!joins(values.slice(i, i + k)).includes(r)) continue;
        for (let j = i; j < i + k; j++) covered.add(j);
        found = true;
      }
    }
  }
  for (const r of runs) {
    if (r.length > 3) continue;
    const at = values.findIndex((v, i) => v === Number(r) && !covered.has(i));
    if (at >= 0) covered.add(at);
  }
  return covered.size;
}

/**
 * The labels of `name` below its registered domain (public suffix list, ICANN section), where an
 * access provider writes what kind of line a name is: `ATuileries-108-2-1-172.abo` of
 * `…abo.wanadoo.fr`. The registered domain itself names the organisation, not the line, and an
 * organisation may be called after an access word: `h12.mail.home.com` is @Home's relay, `mail`
 * below `home.com`. A name whose suffix is in no public list (`mypc.home`, `x.localdomain`) has no
 * registered domain: all of it is judged.
 */
function belowRegisteredDomain(n: string): string {
  const parsed = parse(n);
  if (parsed.isIcann !== true || parsed.domain === null) return n;
  if (n === parsed.domain) return '';
  return n.endsWith(`.${parsed.domain}`) ? n.slice(0, n.length - parsed.domain.length - 1) : n;
}

/**
 * Whether a host name ends in a suffix the public suffix list knows (its ICANN or private section):
 * `dogma.slashnull.org`, not `localhost.localdomain` or a made-up top-level name.
 */
export function hasPublicSuffix(name: string | null): boolean {
  if (name === null || name.length === 0 || name.length > MAX_NAME || !name.includes('.')) return false;
  const p = parse(name.toLowerCase(), { allowPrivateDomains: true });
  return p.domain !== null && (p.isIcann === true || p.isPrivate === true);
}

/** The registered domain (public suffix + 1) of a host name, or null (an IP, `localhost`, one label). */
export function registeredDomain(name: string | null): string | null {
  if (name === null || name.length === 0 || name.length > MAX_NAME || !name.includes('.')) return null;
  return domainMemo.get(name);
}

const domainMemo = new BoundedMemo((name: string) => getDomain(name.toLowerCase()));

/**
 * The domain one holder controls, counting the public suffix list's private section too: the
 * registered domain, except under a shared name service (`mothlight.dyndns.org`, not `dyndns.org`,
 * whose other names are strangers' machines). For evidence about one person's or organisation's own
 * domain, where a shared parent would believe strangers.
 */
export function holderDomain(name: string | null): string | null {
  if (name === null || name.length === 0 || name.length > MAX_NAME || !name.includes('.')) return null;
  return holderMemo.get(name);
}

/**
 * Names reserved for documentation and testing (RFC 2606, RFC 6761: `example.com`, `*.example`,
 * `*.test`, `*.invalid`, `*.localhost`) and the mDNS `*.local`: no organisation holds them, so they
 * prove nothing about who runs a machine. Anonymised corpora put them in place of real domains, so two
 * unrelated parties can end up with the same one.
 */
export function isPlaceholderDomain(name: string | null): boolean {
  const n = name?.toLowerCase().replace(/\.$/, '') ?? null;
  return n !== null && (DOCUMENTATION.test(n) || /(?:^|\.)local$/.test(n));
}

/**
 * Names reserved for documentation and testing alone (RFC 2606, RFC 6761), without the mDNS `*.local`
 * that organisations also give their internal hosts (an Active Directory `corp.local`).
 */
export function isDocumentationDomain(name: string | null): boolean {
  return name !== null && DOCUMENTATION.test(name.toLowerCase().replace(/\.$/, ''));
}

const DOCUMENTATION = /(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid|localhost)$/;

const holderMemo = new BoundedMemo((name: string) => getDomain(name.toLowerCase(), { allowPrivateDomains: true }));

/**
 * Words in AS names of access and hosting networks, transit and research networks: an address
 * space shared with subscribers, customers or other organisations, where "same AS as our relay"
 * says nothing about who runs a machine. Matched as whole words, case-insensitive.
 */
const SHARED_AS_WORDS = new RegExp(
  [
    String.raw`\b(?:communications?|telecom\w*|telekom\w*|telecommunications?|cable\w*|broadband|dsl|internet|`,
    String.raw`isp|networks?|net|online|hosting|host\w*|cloud\w*|servers?|data ?cent(?:er|re)s?|colo\w*|vps|`,
    String.raw`amazon|aws|google|microsoft|azure|akamai|linode|digitalocean|ovh\w*|hetzner|leaseweb|contabo|`,
    'vultr|choopa|scaleway|alibaba|tencent|oracle|rackspace|godaddy|verizon|comcast|charter|at&t|',
    String.raw`virgin|orange|telefonica|vodafone|mobile|wireless|forschungsnetz\w*|research|education network|`,
    'janet|renater|internet2|signal|level ?3|cogent|lumen|centurylink|ntt|kddi|chinanet|china|unicom|',
    String.raw`hinet|telstra|bell|rogers|shaw|sprint|t-mobile|tiscali|wanadoo|proxad|free sas)\b`,
  ].join(''),
  'i',
);

/**
 * Whether an AS's registered name bears the name of one of these organisation domains: the domain's first label (four
 * characters or more, not a hosting word) inside the AS name with everything but letters and digits taken out
 * (`canonical.com` in "Canonical Group Limited", `redhat.com` in "Red Hat, Inc."). A network that only carries no
 * hosting word in its name is not thereby the organisation's: M247, Unified Layer, FranTech rent machines to anyone.
 */
export function asNamesOrganisation(asName: string | null, domains: Iterable<string>): boolean {
  if (asName === null) return false;
  const flat = asName.toLowerCase().replace(/[^a-z0-9]/g, '');
  for (const d of domains) {
    const label =
      d
        .toLowerCase()
        .split('.')[0]
        ?.replace(/[^a-z0-9]/g, '') ?? '';
    if (label.length >= 4 && !HOSTING_AS_WORDS.test(label) && flat.includes(label)) return true;
  }
  return false;
}

/** True when an AS, by its registered name, is an access, hosting, transit or research network. */
export function isSharedAs(asName: string | null): boolean {
  // Unknown name: unknown network; do not vouch for it.
  if (asName === null || asName.trim().length === 0) return true;
  return SHARED_AS_WORDS.test(asName);
}

/**
 * Research and education networks (NRENs, universities), by the AS's registered name. Their address
 * blocks go only to member institutions, which run their own reverse zones: nobody rents a machine
 * there and writes a reverse name of their choosing, as on a hosting network.
 */
const RESEARCH_AS_WORDS = new RegExp(
  [
    String.raw`\b(?:forschungsnetz\w*|research and education|education(?:al)? network|academic|universit\w*|`,
    String.raw`college|hochschul\w*|janet|jisc|renater|internet2|surfnet|sunet|nordunet|funet|uninett|garr|`,
    String.raw`rediris|cesnet|pionier|belnet|heanet|arnes|aarnet|canarie|cernet|kreonet|sinet|redclara|rnp)\b`,
  ].join(''),
  'i',
);

/**
 * True when an AS, by its registered name, is a research and education network and not also an
 * access or hosting network (a university that sells hosting is judged as hosting).
 */
export function isResearchAs(asName: string | null): boolean {
  if (asName === null) return false;
  return (
    RESEARCH_AS_WORDS.test(asName) &&
    !/\b(?:hosting|host\w*|cloud\w*|servers?|data ?cent(?:er|re)s?|colo\w*|vps|broadband|dsl|cable\w*)\b/i.test(asName)
  );
}

/**
 * Words in AS names of hosting networks, where a company rents machines to strangers and names them
 * under its own domain (`vmi222222.contaboserver.net`, `h2912345.stratoserver.net`): the hosting part
 * of {@link SHARED_AS_WORDS}. Access and transit networks are left out: their subscribers' lines are
 * caught by their names ({@link isAccessName}), and their own relays may carry no mail word.
 */
const HOSTING_AS_WORDS = new RegExp(
  [
    String.raw`\b(?:hosting|host\w*|cloud\w*|servers?|data ?cent(?:er|re)s?|colo\w*|vps|dedicated|amazon|aws|google|`,
    String.raw`microsoft|azure|akamai|linode|digitalocean|ovh\w*|hetzner|leaseweb|contabo|vultr|choopa|scaleway|`,
    String.raw`alibaba|tencent|oracle|rackspace|godaddy|ionos|strato)\b`,
  ].join(''),
  'i',
);

/**
 * Hosting companies whose AS is registered under a name their customers' domain does not carry
 * (IONOS's servers under `onlinehome-server.*`, Linode's under Akamai since 2022, Vultr's as The
 * Constant Company): the AS name, and the domains the company names its customers' own servers under.
 * Only domains of servers the customer runs, whose mail software writes what the customer wants: not
 * shared web hosting (`www123.your-server.de`, `gator4123.hostgator.com`), whose machines and mail
 * software are the hosting company's own.
 */
const HOSTER_DOMAINS: readonly { as: RegExp; domains: readonly string[] }[] = [
  { as: /\bionos\b/i, domains: ['onlinehome-server.info', 'onlinehome-server.com'] },
  { as: /\b(?:akamai|linode)\b/i, domains: ['linode.com', 'linodeusercontent.com'] },
  { as: /\b(?:constant company|choopa|vultr)\b/i, domains: ['vultrusercontent.com'] },
  // OVH names its customers' dedicated servers under its own domain (`ns3012345.ovh.net`), beside its own mail
  // system (`mx4.mail.ovh.net`, `mo7.mail-out.ovh.net`: mail names, still believed when the receiver checked them).
  { as: /\bovh\b/i, domains: ['ovh.net'] },
];

/** Words of an AS name that are a legal form or a trade, not the holder's own name. */
const AS_NAME_FILLER = new Set([
  'the',
  'inc',
  'llc',
  'ltd',
  'limited',
  'gmbh',
  'sas',
  'sarl',
  'srl',
  'corp',
  'corporation',
  'company',
  'com',
  'net',
  'group',
  'online',
  'internet',
  'hosting',
  'cloud',
  'network',
  'networks',
  'technologies',
  'communications',
  'services',
]);

/**
 * The AS holder's own name: its first word, and all its words up to the first legal form or trade
 * word (`host` and `hosteurope` of "Host Europe GmbH", `contabo` of "Contabo GmbH"), short words left out.
 */
function asHolderName(asName: string): { first: string; whole: string } | null {
  const words = asName
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length >= 3);
  const start = words.findIndex((w) => !AS_NAME_FILLER.has(w));
  if (start < 0) return null;
  const end = words.findIndex((w, i) => i > start && AS_NAME_FILLER.has(w));
  return { first: words[start] ?? '', whole: words.slice(start, end < 0 ? undefined : end).join('') };
}

/**
 * True when `domain` (a registered domain) is the one a hosting company names its customers' rented
 * machines under, and `asName` is that company's hosting network: the AS is a hosting network by its
 * name ({@link HOSTING_AS_WORDS}) and the domain is the AS holder's name and more (`contaboserver.net`
 * and "Contabo GmbH", `stratoserver.net` and "Strato AG", `amazonaws.com` and "Amazon.com, Inc."), or
 * it is one of {@link HOSTER_DOMAINS}. Under such a domain one name is one customer's server and the
 * next a stranger's: the domain says nothing about who runs a machine. The holder's own domain, its
 * name alone (`contabo.com`, `oracle.com`, `yandex.net`, `hosteurope.de`), names its own machines, and a
 * company's own domain in a hosting network (`mx2.company.com` at Hetzner) is not the hosting
 * company's at all: both stay out.
 */
export function isHostingDomain(domain: string, asName: string | null): boolean {
  if (asName === null) return false;
  const d = domain.toLowerCase();
  if (HOSTER_DOMAINS.some((h) => h.as.test(asName) && h.domains.includes(d))) return true;
  if (!HOSTING_AS_WORDS.test(asName)) return false;
  const holder = asHolderName(asName);
  const label = (parse(d).domainWithoutSuffix ?? '').replace(/[^a-z0-9]/g, '');
  // Four letters at least, so that a short holder name does not match every name that starts like it.
  if (holder === null || holder.first.length < 4) return false;
  return label.startsWith(holder.first) && label !== holder.first && label !== holder.whole;
}

/**
 * A label a mail system gives its own machines: one that begins with `mx`, `relay`, `mta` or
 * `forward`, or holds `mail` or `smtp` (`mxback1h`, `mail-out`, `smtp-out-02`, `p3plibsmtp01-05`).
 */
const MAIL_LABEL = /^(?:mx|relay|mta|forward)|mail|smtp/;

/**
 * True when a name, below its registered domain, has a label of a mail machine
 * (`a14-92.smtp-out.amazonses.com`, `10.mo7.mail-out.ovh.net`) and not a rented machine's (`vmi222222` of
 * `contaboserver.net`). Under a hosting company's own naming domain the company chose every name: a
 * mail label there names its own mail system, which its customers' mail passes through, not a
 * customer's server.
 */
export function isMailHostName(name: string): boolean {
  const below = belowRegisteredDomain(name.toLowerCase().slice(0, MAX_NAME));
  return below.length > 0 && below.split('.').some((l) => MAIL_LABEL.test(l));
}

/** The /24 (IPv4) or /48 (IPv6) an address lies in, as text, for "same small network" comparisons. */
export function sitePrefix(ip: string): string {
  if (!ip.includes(':')) return ip.slice(0, ip.lastIndexOf('.'));
  if (!ipaddr.IPv6.isValid(ip)) return ip;
  return ipaddr.IPv6.parse(ip).parts.slice(0, 3).join(':');
}
