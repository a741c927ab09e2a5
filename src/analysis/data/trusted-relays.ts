/**
 * The shipped starting table of mailbox providers whose relays the trace-back believes.
 *
 * A relay is believed when the address it connected from is in `networks`, or its AS number is in
 * `asns` (offline ip-location-db data), or the reverse-DNS name the receiving host recorded ends in
 * one of `names` (never the HELO name: the client chooses that). Only ranges and AS numbers that
 * belong to the provider alone are listed: an AS that also hosts customers' servers (e.g. a cloud)
 * would make every customer look like a trusted relay.
 *
 * Sources (public, as published by each provider at the time of writing; re-check with
 * `dig +short TXT <spf name>`):
 * - Google: `_netblocks.google.com`, `_netblocks2.google.com`, `_netblocks3.google.com` (included
 *   from `_spf.google.com`); https://support.google.com/a/answer/10026322 ; AS15169.
 * - Microsoft 365 / Outlook.com: `spf.protection.outlook.com` (ip4 40.92.0.0/15, 40.107.0.0/16,
 *   52.100.0.0/14, 104.47.0.0/17; ip6 2a01:111:f400::/48, 2a01:111:f403::/48); "Microsoft 365 URLs and
 *   IP address ranges", Exchange Online rows 9 and 10
 *   (https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges).
 *   2603:1000::/24 is Microsoft's IPv6 allocation (ARIN NET6-2603-1000-1) used by the internal
 *   `*.prod.outlook.com` hops: internal, believed but never named as a sender's relay. Never AS8075
 *   as a whole: it holds every Azure customer's virtual machine.
 *   Hotmail's and MSN's relays of before Azure, **dated**: 64.4.0.0/18 and 65.52.0.0/14 (both AS8075 in
 *   `@ip-location-db/asn`; the corpora's checked reverse names there are all `*.hotmail.com` and `*.msn.com`,
 *   2002–2007: 79 hops of `law*.hotmail.com` in 64.4.0.0/18, `bay0-omc*.bay0.hotmail.com` and
 *   `tk2dcpuba*.msn.com` in 65.54.0.0/16), believed only for a hop its believed receiver dated before
 *   2008-10-27, the day Windows Azure was announced (PDC 2008; its previews ran from then, general availability
 *   1 February 2010): since, both ranges are among Microsoft's cloud ranges (Azure SQL Managed Instance's route
 *   tables list them) and Azure customers' machines send from 65.52.0.0/14 (two 2023 corpus messages).
 *   Not 207.46.0.0/16: its corpus names are FrontBridge's, a hosted filtering gateway (below).
 * - Yahoo / AOL: Yahoo's mail AS numbers AS36646, AS36647, AS10310, AS26101, AS34010, AS7233 (RIR whois);
 *   names yahoo.com, yahoodns.net, aol.com as in their `sonic*.mail.*.yahoo.com` relays.
 * - Orange, Free, SFR: their relays' names only (`*.smtp.orange.fr`, `*.smtpout.orange.fr`,
 *   `*.me-wanadoo.net`, `smtp*.wanadoo.fr`; `smtp*.free.fr`, `*.mail.proxad.net`, `mx*.free.fr`;
 *   `*.sfr.fr`, `*.sfr.net`, `*.neuf.fr`). Not `wanadoo.fr` or `proxad.net` as a whole: their
 *   subscribers' lines are `*.abo.wanadoo.fr` and `*.subs.proxad.net`, and a consumer-access name
 *   never makes a hop trusted whatever the table says (`traceback/org.ts`). Their AS numbers (AS3215,
 *   AS12322, AS15557) hold those lines too, so they are never listed.
 * - La Poste: relays `*.laposte.net`.
 * - GMX / Web.de (United Internet): relays `mout*.gmx.net`, `mout*.web.de`, `mout*.kundenserver.de`
 *   (names only: their AS also hosts customers).
 * - iCloud: Apple's 17.0.0.0/8 (ARIN NET-17-0-0-0-1), AS714 and AS6185; relays `*.icloud.com`, `*.me.com`.
 * - Fastmail: relays `*.messagingengine.com` (https://www.fastmail.help/hc/en-us/articles/1500000278342).
 * - Zoho: relays `*.zoho.com`, `*.zoho.eu`, `*.zohomail.com`.
 * - Proton: AS62371 (Proton AG, RIPE); relays `*.protonmail.ch`, `*.proton.ch`.
 *
 * Hosted filtering gateways (Cisco Secure Email Cloud Gateway `*.iphmx.com`, Proofpoint
 * `*.pphosted.com`, Mimecast, Barracuda Email Security Service) are deliberately absent. An
 * organisation points its MX records at them (Cisco: MX redirected to iphmx.com; Proofpoint
 * Essentials: "the MX records are changed to point to the Proofpoint Essentials MX arrays"), so they
 * are that organisation's contracted relays — but the same hosts and ranges carry the customers'
 * outbound mail ("for PPS there is no difference really, it's all just mail", inbound and outbound
 * are policy routes), and outbound abuse does go through them (Proofpoint's 2024 "EchoSpoofing"
 * relay of spoofed mail). Listed here they would be believed for every recipient, and the walk
 * would go past a sender's gateway into the sender's own network: on the labelled chains, the
 * Cisco-hosted gateway of a sending organisation (`esa.hc489-80.eu.iphmx.com` → Gmail) and IBM's
 * Proofpoint relay (`mx0b-001b2d01.pphosted.com` → a qmail host) would stop being the origin, for
 * Microsoft 365's and IBM's servers behind them. What makes a gateway the receiver's is the
 * receiver's MX record: the trace-back asks it live for fresh mail (`traceback/live-dns.ts`); an
 * operator whose own mail passes a gateway lists it in `SPAMDESK_TRUSTED_RELAYS_FILE`.
 */
export interface TrustedRelay {
  /** Provider name shown in explanations. */
  name: string;
  /** DNS suffixes of the provider's relays (matched on reverse DNS, `by` names and authserv-ids). */
  names: readonly string[];
  /** CIDRs of the provider's mail relays. */
  networks: readonly string[];
  /**
   * CIDRs of the provider's internal hops (datacentre-to-datacentre): believed like `networks`, but
   * never named as the relay a sender used when nothing deeper is known.
   */
  internalNetworks?: readonly string[];
  /**
   * Networks of the provider's relays only until a date (`YYYY-MM-DD`): believed for a hop that the believed
   * receiver dated before it; afterwards the range also held other parties' machines (Hotmail's ranges are
   * Azure's now). A hop with no readable date is not believed by them.
   */
  networksUntil?: readonly { network: string; until: string }[];
  /** AS numbers used only by the provider's own infrastructure. */
  asns: readonly number[];
  /** Authentication-Results authserv-ids (RFC 8601 §2.5) this provider writes; suffix match. */
  authservIds: readonly string[];
  /** True when the provider offers webmail and writes the client's address in a header. */
  webmail: boolean;
  /**
   * Domains that seal the provider's ARC sets (`ARC-Seal: d=`) and write their results (authserv-id under them): a
   * set of theirs that the receiving side verified records a relaying mailbox's inbound hop when the provider stripped
   * its Received fields (`sealed-handoff.ts`).
   */
  arcSealers?: readonly string[];
}

export const TRUSTED_RELAYS: readonly TrustedRelay[] = [
  {
    name: 'Google (Gmail)',
    names: ['google.com', 'googlemail.com', 'gmail.com'],
    networks: [
      '64.233.160.0/19',
      '66.102.0.0/20',
      '66.249.80.0/20',
      '72.14.192.0/18',
      '74.125.0.0/16',
      '108.177.8.0/21',
      '108.177.96.0/19',
      '173.194.0.0/16',
      '209.85.128.0/17',
      '216.58.192.0/19',
      '216.239.32.0/19',
      '172.217.0.0/19',
      '172.217.32.0/20',
      '172.217.128.0/19',
      '172.217.160.0/20',
      '172.217.192.0/19',
      '172.253.56.0/21',
      '172.253.112.0/20',
      '2001:4860:4000::/36',
      '2404:6800:4000::/36',
      '2607:f8b0:4000::/36',
      '2800:3f0:4000::/36',
      '2a00:1450:4000::/36',
      '2c0f:fb50:4000::/36',
    ],
    asns: [15169],
    authservIds: ['mx.google.com'],
    webmail: true,
    // Gmail seals ARC as `d=google.com` (a forward, a Google Group) and writes `ARC-Authentication-Results: i=N;
    // mx.google.com`.
    arcSealers: ['google.com'],
  },
  {
    name: 'Microsoft 365 / Outlook.com',
    names: [
      'outlook.com',
      'protection.outlook.com',
      'prod.outlook.com',
      'office365.com',
      'hotmail.com',
      'outlook.office365.com',
    ],
    // Exchange Online Protection's published outbound ranges (spf.protection.outlook.com). Not AS8075:
    // Azure's customer machines are in it too (phishing_pot sample-1000, an Azure VM at 20.97.213.223).
    networks: [
      '40.92.0.0/15',
      '40.107.0.0/16',
      '52.100.0.0/14',
      '104.47.0.0/17',
      '2a01:111:f400::/48',
      '2a01:111:f403::/48',
    ],
    internalNetworks: ['2603:1000::/24'],
    // Hotmail's and MSN's before Azure (see the file comment): not after, when Azure's customers came.
    networksUntil: [
      { network: '64.4.0.0/18', until: '2008-10-27' },
      { network: '65.52.0.0/14', until: '2008-10-27' },
    ],
    asns: [],
    authservIds: ['outlook.com', 'protection.outlook.com', 'office365.com'],
    webmail: true,
    // Exchange Online seals ARC as `d=microsoft.com` and writes `ARC-Authentication-Results: i=N; mx.microsoft.com`.
    arcSealers: ['microsoft.com'],
  },
  {
    name: 'Yahoo / AOL',
    names: ['yahoo.com', 'yahoo.net', 'yahoodns.net', 'aol.com'],
    networks: [],
    asns: [36646, 36647, 10310, 26101, 34010, 7233],
    authservIds: ['yahoo.com', 'aol.com'],
    webmail: true,
  },
  {
    name: 'Orange',
    names: ['smtp.orange.fr', 'smtpout.orange.fr', 'me-wanadoo.net', 'smtp.wanadoo.fr', 'mail.wanadoo.fr'],
    networks: [],
    asns: [],
    authservIds: ['orange.fr'],
    webmail: true,
  },
  {
    name: 'Free',
    names: ['free.fr', 'mail.proxad.net'],
    networks: [],
    asns: [],
    authservIds: ['free.fr'],
    webmail: true,
  },
  {
    name: 'SFR',
    names: ['sfr.fr', 'sfr.net', 'neuf.fr'],
    networks: [],
    asns: [],
    authservIds: ['sfr.fr'],
    webmail: true,
  },
  { name: 'La Poste', names: ['laposte.net'], networks: [], asns: [], authservIds: ['laposte.net'], webmail: true },
  {
    name: 'GMX / Web.de',
    names: ['gmx.net', 'gmx.de', 'gmx.com', 'web.de', 'kundenserver.de'],
    networks: [],
    asns: [],
    authservIds: ['gmx.net', 'web.de'],
    webmail: true,
  },
  {
    name: 'iCloud',
    names: ['icloud.com', 'me.com', 'mac.com', 'apple.com'],
    networks: ['17.0.0.0/8'],
    asns: [714, 6185],
    authservIds: ['icloud.com', 'apple.com'],
    webmail: true,
  },
  {
    name: 'Fastmail',
    names: ['messagingengine.com', 'fastmail.com'],
    networks: [],
    asns: [],
    authservIds: ['messagingengine.com'],
    webmail: true,
  },
  {
    name: 'Zoho',
    names: ['zoho.com', 'zoho.eu', 'zohomail.com'],
    networks: [],
    asns: [],
    authservIds: ['zoho.com', 'zohomail.com'],
    webmail: true,
  },
  {
    name: 'Proton',
    names: ['protonmail.ch', 'proton.ch'],
    networks: [],
    asns: [62371],
    authservIds: ['protonmail.ch'],
    webmail: true,
  },
];
