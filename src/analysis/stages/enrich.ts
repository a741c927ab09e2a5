/**
 * Stage 5, enrichment: the origin's AS number, AS name and country from the offline
 * ip-location-db data (AsnLookup port), its abuse contacts (operator's CSV, then the shipped
 * defaults), and its reverse-DNS name. The name the trusted receiver recorded at arrival is
 * preferred over a fresh PTR lookup: DNS changes after the fact.
 */
import { z } from 'zod';
import { BudgetedResolver, isNotFound } from '../ports/dns-budget.ts';
import { defineStage, finding, type StageFinding } from '../stage.ts';

/** PTR lookups are one per message; the budget only guards against a misbehaving port. */
const MAX_ENRICH_DNS_LOOKUPS = 2;

/** `in-addr.arpa` / `ip6.arpa` name of an address (RFC 1035 §3.5, RFC 3596 §2.5). */
export function reverseName(ip: string): string {
  if (!ip.includes(':')) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const parts = ip.split('::');
  const head = (parts[0] ?? '').split(':').filter(Boolean);
  const tail = (parts[1] ?? '').split(':').filter(Boolean);
  const groups =
    parts.length > 1 ? [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  const nibbles = groups.map((g) => g.padStart(4, '0')).join('');
  return `${nibbles.split('').reverse().join('.')}.ip6.arpa`;
}

export const enrichStage = defineStage({
  id: 'enrich',
  description: 'Origin IP → AS number, AS name, country (offline data), abuse contacts and reverse DNS.',
  kinds: ['email'],
  params: z.object({
    /** Look the PTR up when the trusted receiver recorded no reverse-DNS name. */
    ptrLookup: z.boolean().default(true),
  }),
  async run(input, ctx) {
    const origin = input.analysis.traceback.origin;
    if (origin === null) return { result: { enrichment: { origin: null } } };
    const findings: StageFinding[] = [];
    const rec = await ctx.ports.asn.lookup(origin.ip).catch(() => null);
    const asn = rec?.asn ?? null;
    const abuseContacts = await ctx.ports.abuse.lookup(origin.ip, asn).catch(() => []);

    const hop = origin.hopIndex >= 0 ? input.analysis.traceback.hops[origin.hopIndex] : undefined;
    let rdns = hop?.fromRdns ?? null;
    if (rdns === null && ctx.params.ptrLookup) {
      const dns = new BudgetedResolver(ctx.ports.dns, MAX_ENRICH_DNS_LOOKUPS);
      try {
        const names = await dns.resolvePtr(reverseName(origin.ip));
        rdns = names[0]?.replace(/\.$/, '').toLowerCase() ?? null;
      } catch (e) {
        if (!isNotFound(e))
          findings.push(
            finding('DNS_TEMPFAIL', `Reverse DNS of ${origin.ip} failed temporarily.`, {
              value: origin.ip,
              rule: 'SPAMDESK_DNS_TIMEOUT_MS',
            }),
          );
      }
    }
    if (rdns === null && findings.length === 0)
      findings.push(finding('ORIGIN_NO_RDNS', `The origin ${origin.ip} has no reverse DNS.`, { value: origin.ip }));
    if (abuseContacts.length === 0) {
      findings.push(
        finding(
          'ORIGIN_NO_ABUSE_CONTACT',
          `No abuse contact is known for ${origin.ip}${asn !== null ? ` (AS${asn})` : ''}.`,
          { value: origin.ip },
        ),
      );
    }
    return {
      result: {
        enrichment: {
          origin: {
            ip: origin.ip,
            asn,
            asName: rec?.asName ?? null,
            country: rec?.country ?? null,
            rdns,
            abuseContacts,
          },
        },
      },
      findings,
    };
  },
});
