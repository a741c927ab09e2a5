/**
 * The MISP feed of one collection (MISP core format, `../shared/standards/misp/`): one event per
 * published campaign, its attributes typed (`ip-src`, `domain`, `url`, `email-src`,
 * `phone-number`, `btc`, `xmr`, …) and tagged with the collection's TLP level and the RSIT
 * taxonomy (`rsit:…`), with UUIDs derived from the values so a MISP instance pulling the feed
 * again updates its events. Events come out without timestamps: the store (`store.ts`) stamps an
 * event when its content changes and keeps an attribute that disappeared as `deleted`.
 */
import type { CollectionSpec, IndicatorKind } from './collections.ts';
import type { SourceCampaign, SourceSnapshot } from './sources.ts';
import { inCollection, notBefore, stixTime, type Producer } from './stix.ts';
import { uuidV5, type TlpLevel } from './stix-ids.ts';
import { instanceOrgUuid } from './collections.ts';

export interface MispTag {
  name: string;
  colour: string;
}

export interface MispAttribute {
  uuid: string;
  type: string;
  category: string;
  value: string;
  to_ids: boolean;
  distribution: string;
  comment: string;
  deleted: boolean;
  first_seen: string;
  last_seen: string;
  timestamp?: string;
  Tag?: MispTag[];
}

export interface MispEventDraft {
  uuid: string;
  campaignId: string;
  event: {
    uuid: string;
    info: string;
    date: string;
    published: boolean;
    analysis: string;
    threat_level_id: string;
    distribution: string;
    sharing_group_id: string;
    Orgc: { id: string; name: string; uuid: string };
    Tag: MispTag[];
    Attribute: MispAttribute[];
  };
}

const TLP_COLOURS: Record<TlpLevel, string> = {
  white: '#ffffff',
  green: '#339900',
  amber: '#ffc000',
  red: '#ff0033',
};

/** MISP distribution per TLP level: AMBER and RED stay in the subscribing organisation. */
const DISTRIBUTION: Record<TlpLevel, string> = { white: '3', green: '1', amber: '0', red: '0' };

/** RSIT taxonomy tags (github.com/MISP/misp-taxonomies, `rsit`) per campaign category. */
const RSIT: Record<string, string[]> = {
  phishing: ['rsit:fraud="phishing"'],
  malware: ['rsit:malicious-code="malware-distribution"'],
  scam: ['rsit:fraud="masquerade"', 'rsit:abusive-content="spam"'],
  commercial: ['rsit:abusive-content="spam"'],
};

const WALLET_TYPES: Record<string, string> = { BTC: 'btc', XMR: 'xmr', DASH: 'dash' };

/** Type, category and to_ids of a value (null: MISP has no type for it). */
function typeOf(kind: IndicatorKind, value: string): { type: string; category: string; value: string } | null {
  switch (kind) {
    case 'ip':
      return { type: 'ip-src', category: 'Network activity', value };
    case 'domain':
      return { type: 'domain', category: 'Network activity', value };
    case 'url':
      return { type: 'url', category: 'Network activity', value };
    case 'email':
      return { type: 'email-src', category: 'Payload delivery', value };
    case 'phone':
      return { type: 'phone-number', category: 'Financial fraud', value };
    case 'wallet': {
      const colon = value.indexOf(':');
      const currency = colon > 0 ? value.slice(0, colon).toUpperCase() : '';
      const address = colon > 0 ? value.slice(colon + 1) : value;
      const type = WALLET_TYPES[currency];
      return type ? { type, category: 'Financial fraud', value: address } : null;
    }
  }
}

const COMMENTS: Record<IndicatorKind, string> = {
  ip: 'origin of the spam (first untrusted relay of the Received chain)',
  domain: 'advertised domain',
  url: 'advertised URL',
  email: 'authenticated sender address',
  phone: 'phone number given in the message',
  wallet: 'payment wallet given in the message',
};

export function tlpTag(level: TlpLevel): MispTag {
  return { name: `tlp:${level}`, colour: TLP_COLOURS[level] };
}

/** The events of a collection, sorted by UUID. */
export function mispEventsFor(snapshot: SourceSnapshot, spec: CollectionSpec, p: Producer): MispEventDraft[] {
  const out: MispEventDraft[] = [];
  for (const c of snapshot.campaigns) {
    if (!inCollection(c, spec)) continue;
    const e = eventOf(c, spec, p);
    if (e) out.push(e);
  }
  return out.sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
}

function eventOf(c: SourceCampaign, spec: CollectionSpec, p: Producer): MispEventDraft | null {
  const first = stixTime(c.firstSeen);
  if (!first) return null;
  const uuid = uuidV5(p.namespace, `${spec.tlp}|misp-event|${c.id}`);
  const attributes: MispAttribute[] = [];
  const seen = new Set<string>();
  for (const v of c.values) {
    if (!spec.kinds.includes(v.kind)) continue;
    const t = typeOf(v.kind, v.value);
    const f = stixTime(v.firstSeen);
    const l = stixTime(v.lastSeen);
    if (!t || !f || !l) continue;
    const key = `${t.type}|${t.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    attributes.push({
      uuid: uuidV5(p.namespace, `${spec.tlp}|misp-attribute|${c.id}|${key}`),
      type: t.type,
      category: t.category,
      value: t.value,
      to_ids: true,
      distribution: '5',
      comment: `${COMMENTS[v.kind]}; ${v.messages} message(s)`,
      deleted: false,
      first_seen: f,
      last_seen: notBefore(l, f),
    });
  }
  attributes.sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
  return {
    uuid,
    campaignId: c.id,
    event: {
      uuid,
      info: `${p.org}: ${c.category} campaign ${c.id}`,
      date: first.slice(0, 10),
      published: true,
      analysis: '2',
      threat_level_id: c.category === 'phishing' || c.category === 'malware' ? '2' : '3',
      distribution: DISTRIBUTION[spec.tlp],
      sharing_group_id: '0',
      Orgc: { id: '1', name: p.org, uuid: instanceOrgUuid(p.namespace) },
      Tag: [
        tlpTag(spec.tlp),
        ...(RSIT[c.category] ?? ['rsit:abusive-content="spam"']).map((name) => ({ name, colour: '#004646' })),
      ],
      Attribute: attributes,
    },
  };
}
