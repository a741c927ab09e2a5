/**
 * The STIX 2.1 objects of one collection, built from the publishable campaigns (`sources.ts`):
 * the instance's identity, the collection's TLP marking definition, one campaign object per
 * campaign (first and last seen), one indicator per value (`[ipv4-addr:value = '…']`,
 * `[ipv6-addr:…]`, `[domain-name:…]`, `[url:…]`, `[email-message:from_ref.value = '…']`), an
 * `indicates` relationship from each indicator to each campaign it was seen in, and one sighting
 * per indicator carrying how many messages showed it, first and last seen.
 *
 * Objects come out without `created` and `modified`: those are the store's (`store.ts`), which
 * keeps `created` across versions and moves `modified` only when the content changes. Ids are
 * UUIDv5 of the value under the instance's namespace and the collection's TLP level (one id and
 * version must always mean one content, so a value published under two levels is two objects).
 */
import { randomUUID } from 'node:crypto';
import { normaliseIp, ipVersion } from '../../analysis/stages/traceback/ip-class.ts';
import type { CollectionSpec, IndicatorKind } from './collections.ts';
import type { SourceCampaign, SourceSnapshot } from './sources.ts';
import { TLP_MARKINGS, stixId, tlpMarkingObject } from './stix-ids.ts';

export type StixObject = Record<string, unknown> & { type: string; id: string };

export interface Producer {
  namespace: string;
  org: string;
  contact: string;
  /**
   * Days an origin address stays valid after it was last seen (the actions policy's
   * `isp.maxOriginAgeDays`): a dynamic address changes hands, and its next holder is innocent.
   */
  originValidDays: number;
}

/** Indicator kinds STIX 2.1 has a cyber-observable for (phone numbers and wallets go to MISP only). */
export const STIX_KINDS: ReadonlySet<IndicatorKind> = new Set(['ip', 'domain', 'url', 'email']);

/** The schema's bound on a sighting's count. */
const MAX_SIGHTING_COUNT = 999_999_999;

/** A STIX pattern string literal (STIX 2.1 §9.2: `\` and `'` escaped with a backslash). */
export function patternLiteral(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The pattern of an indicator value, or null when it has none. */
export function patternOf(kind: IndicatorKind, value: string): string | null {
  switch (kind) {
    case 'ip': {
      const ip = normaliseIp(value);
      if (!ip) return null;
      return `[${ipVersion(ip) === 4 ? 'ipv4-addr' : 'ipv6-addr'}:value = ${patternLiteral(ip)}]`;
    }
    case 'domain':
      return `[domain-name:value = ${patternLiteral(value)}]`;
    case 'url':
      return `[url:value = ${patternLiteral(value)}]`;
    case 'email':
      return `[email-message:from_ref.value = ${patternLiteral(value)}]`;
    default:
      return null;
  }
}

const NAMES: Record<string, string> = {
  ip: 'Origin address of abusive mail',
  domain: 'Domain advertised in abusive mail',
  url: 'URL advertised in abusive mail',
  email: 'Authenticated sender of abusive mail',
};

/** A STIX timestamp (RFC 3339, UTC, milliseconds), or null for an unreadable one. */
export function stixTime(iso: string): string | null {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

/** `t`, or `floor` when `t` is earlier (STIX wants last seen never before first seen). */
export function notBefore(t: string, floor: string): string {
  if (t < floor) return floor;
  return t;
}

function validUntil(last: string, days: number): string {
  return new Date(Date.parse(last) + days * 86_400_000).toISOString();
}

/** Whether a campaign belongs in a collection. */
export function inCollection(c: SourceCampaign, spec: CollectionSpec): boolean {
  if (c.reports < spec.minReports) return false;
  return spec.categories.length === 0 || spec.categories.includes(c.category);
}

export function identityObject(p: Producer): StixObject {
  return {
    type: 'identity',
    spec_version: '2.1',
    id: stixId('identity', p.namespace, 'identity'),
    name: p.org,
    identity_class: 'organization',
    contact_information: p.contact,
  };
}

interface IndicatorAcc {
  kind: IndicatorKind;
  pattern: string;
  categories: Set<string>;
  campaigns: Set<string>;
  messages: number;
  first: string;
  last: string;
}

/** Every object of a collection, sorted by id. */
export function stixObjectsFor(snapshot: SourceSnapshot, spec: CollectionSpec, p: Producer): StixObject[] {
  const identity = identityObject(p);
  const marking = TLP_MARKINGS[spec.tlp].id;
  const common = { created_by_ref: identity.id, object_marking_refs: [marking] };
  const key = (what: string) => `${spec.tlp}|${what}`;
  const out: StixObject[] = [identity, tlpMarkingObject(spec.tlp) as StixObject];
  const indicators = new Map<string, IndicatorAcc>();
  for (const c of snapshot.campaigns) {
    if (!inCollection(c, spec)) continue;
    const first = stixTime(c.firstSeen);
    const last = stixTime(c.lastSeen);
    if (!first || !last) continue;
    const campaignId = stixId('campaign', p.namespace, key(`campaign|${c.id}`));
    out.push({
      type: 'campaign',
      spec_version: '2.1',
      id: campaignId,
      ...common,
      name: `${c.category} campaign ${c.id}`,
      description:
        `${c.reports} reports of ${c.messages} distinct messages, classified ${c.category}, ` + `reported to ${p.org}.`,
      labels: [c.category],
      first_seen: first,
      last_seen: notBefore(last, first),
      external_references: [{ source_name: 'spamdesk', external_id: c.id }],
    });
    for (const v of c.values) {
      if (!spec.kinds.includes(v.kind) || !STIX_KINDS.has(v.kind)) continue;
      const pattern = patternOf(v.kind, v.value);
      const vf = stixTime(v.firstSeen);
      const vl = stixTime(v.lastSeen);
      if (!pattern || !vf || !vl) continue;
      let acc = indicators.get(pattern);
      if (!acc) {
        acc = { kind: v.kind, pattern, categories: new Set(), campaigns: new Set(), messages: 0, first: vf, last: vl };
        indicators.set(pattern, acc);
      }
      acc.categories.add(c.category);
      acc.campaigns.add(campaignId);
      acc.messages += v.messages;
      if (vf < acc.first) acc.first = vf;
      if (vl > acc.last) acc.last = vl;
    }
  }
  for (const acc of indicators.values()) {
    const id = stixId('indicator', p.namespace, key(`indicator|${acc.pattern}`));
    const labels = [...acc.categories].sort();
    out.push({
      type: 'indicator',
      spec_version: '2.1',
      id,
      ...common,
      name: NAMES[acc.kind] ?? 'Indicator of abusive mail',
      description: `${NAMES[acc.kind] ?? 'Indicator'} (${labels.join(', ')}) reported to ${p.org}.`,
      indicator_types: ['malicious-activity'],
      pattern: acc.pattern,
      pattern_type: 'stix',
      pattern_version: '2.1',
      valid_from: acc.first,
      ...(acc.kind === 'ip' ? { valid_until: validUntil(notBefore(acc.last, acc.first), p.originValidDays) } : {}),
      labels,
    });
    for (const campaign of [...acc.campaigns].sort()) {
      out.push({
        type: 'relationship',
        spec_version: '2.1',
        id: stixId('relationship', p.namespace, key(`indicates|${id}|${campaign}`)),
        ...common,
        relationship_type: 'indicates',
        source_ref: id,
        target_ref: campaign,
      });
    }
    out.push({
      type: 'sighting',
      spec_version: '2.1',
      id: stixId('sighting', p.namespace, key(`sighting|${id}`)),
      ...common,
      sighting_of_ref: id,
      where_sighted_refs: [identity.id],
      count: Math.min(acc.messages, MAX_SIGHTING_COUNT),
      first_seen: acc.first,
      last_seen: notBefore(acc.last, acc.first),
      summary: false,
    });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A bundle of objects (for export; TAXII serves envelopes instead). */
export function bundleOf(objects: readonly StixObject[]): StixObject {
  return { type: 'bundle', id: `bundle--${randomUUID()}`, objects: [...objects] };
}
