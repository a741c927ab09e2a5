/**
 * Deterministic identifiers for what the intel feeds publish: the same value always gets the same
 * STIX id and MISP UUID, so a re-export updates an object instead of duplicating it (STIX 2.1
 * §2.9 allows any RFC 4122 UUID; version 5 is what makes the id a function of the value).
 */
import { createHash } from 'node:crypto';
import { BoundedMemo } from '../../core/bounded-memo.ts';

/** Spamdesk's own namespace; each instance derives its namespace from its domain under it. */
export const SPAMDESK_NAMESPACE = '9c1f3b52-4d0e-5b8a-9a6e-3f7d2c1b0a99';

function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  return Buffer.from(hex, 'hex');
}

/**
 * Every build derives the same ids again (one per published object): remembered, bounded so a
 * very large collection costs memory no larger than this many ids.
 */
const MEMO = new BoundedMemo((key: string) => {
  const cut = key.indexOf('\u0000');
  return computeUuidV5(key.slice(0, cut), key.slice(cut + 1));
}, 500_000);

/** RFC 4122 §4.3 name-based UUID, version 5 (SHA-1). */
export function uuidV5(namespace: string, name: string): string {
  return MEMO.get(`${namespace}\u0000${name}`);
}

function computeUuidV5(namespace: string, name: string): string {
  const h = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/**
 * The namespace of one instance: two instances publishing the same address produce distinct ids
 * (each is its own producer, with its own `created_by_ref`), one instance always the same.
 */
export function instanceNamespace(instanceDomain: string): string {
  return uuidV5(SPAMDESK_NAMESPACE, `instance:${instanceDomain.toLowerCase()}`);
}

export type TlpLevel = 'white' | 'green' | 'amber' | 'red';
export const TLP_LEVELS: readonly TlpLevel[] = ['white', 'green', 'amber', 'red'];

/** The TLP marking definitions STIX 2.1 §7.2.1.4 predefines (fixed ids and creation time). */
export const TLP_MARKINGS: Record<TlpLevel, { id: string; name: string }> = {
  white: { id: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9', name: 'TLP:WHITE' },
  green: { id: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da', name: 'TLP:GREEN' },
  amber: { id: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82', name: 'TLP:AMBER' },
  red: { id: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed', name: 'TLP:RED' },
};

/** The marking-definition object of a TLP level, exactly as the specification gives it. */
export function tlpMarkingObject(level: TlpLevel): Record<string, unknown> {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: TLP_MARKINGS[level].id,
    created: '2017-01-20T00:00:00.000Z',
    definition_type: 'tlp',
    name: TLP_MARKINGS[level].name,
    definition: { tlp: level },
  };
}

/** A STIX id `type--uuid5(namespace, name)`. */
export function stixId(type: string, namespace: string, name: string): string {
  return `${type}--${uuidV5(namespace, name)}`;
}
