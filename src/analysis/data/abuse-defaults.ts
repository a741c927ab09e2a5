/**
 * The shipped default abuse contacts, by AS number: only large networks whose abuse mailbox is
 * published in their Regional Internet Registry record (ARIN `OrgAbuseEmail`, RIPE `abuse-c` →
 * `abuse-mailbox`), which is public data anyone can read with `whois -h whois.arin.net "a AS15169"`
 * or `whois -h whois.ripe.net AS16276`. No bulk RIR dataset with abuse mailboxes is available
 * as an npm package, so this list is short on purpose; the operator's CSV
 * (SPAMDESK_ABUSE_CONTACTS_FILE) extends and overrides it. Re-check an entry with whois before
 * relying on it: networks change their mailboxes.
 */
export interface DefaultAbuseContact {
  asn: number;
  address: string;
  /** Which registry record publishes it. */
  registry: 'ARIN' | 'RIPE' | 'APNIC' | 'LACNIC' | 'AFRINIC';
}

export const DEFAULT_ABUSE_CONTACTS: readonly DefaultAbuseContact[] = [
  { asn: 15169, address: 'network-abuse@google.com', registry: 'ARIN' },
  { asn: 8075, address: 'abuse@microsoft.com', registry: 'ARIN' },
  { asn: 16509, address: 'abuse@amazonaws.com', registry: 'ARIN' },
  { asn: 14618, address: 'abuse@amazonaws.com', registry: 'ARIN' },
  { asn: 14061, address: 'abuse@digitalocean.com', registry: 'ARIN' },
  { asn: 13335, address: 'abuse@cloudflare.com', registry: 'ARIN' },
  { asn: 63949, address: 'abuse@linode.com', registry: 'ARIN' },
  { asn: 20473, address: 'abuse@vultr.com', registry: 'ARIN' },
  { asn: 16276, address: 'abuse@ovh.net', registry: 'RIPE' },
  { asn: 24940, address: 'abuse@hetzner.com', registry: 'RIPE' },
  { asn: 12322, address: 'abuse@proxad.net', registry: 'RIPE' },
];
