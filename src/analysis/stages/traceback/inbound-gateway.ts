/**
 * The recipient's inbound gateway, as the receiving side's own SPF check records it.
 *
 * An organisation that puts a hosted filter in front of its mailbox provider (Proofpoint or Mimecast in
 * front of Google Workspace or Microsoft 365) tells the provider so: Google Workspace's "inbound gateway"
 * setting, Microsoft 365's "enhanced filtering for connectors". The provider then looks past the gateway's
 * addresses and checks SPF against the machine the gateway received the message from, and says so in the
 * fields it writes: `Received-SPF: … client-ip=52.1.96.230`, `spf=pass (google.com: domain of … designates
 * 52.1.96.230 as permitted sender)`, `spf=pass (sender IP is 52.1.96.230)`. Such a field above a hop's
 * `Received:` field in the header was written after that hop, by the receiving side (every field is
 * prepended), so no sender wrote it. When it names as the sending client an address that a field *below*
 * the hop records, not the hop's own client, the receiving side has declared that client its gateway.
 *
 * Pure and bounded: each field is read once, its first {@link MAX_SCAN} characters.
 */
import { effectiveClass } from './receiving-side.ts';
import { normaliseIp } from './ip-class.ts';
import { registeredDomain } from './org.ts';

/** Fields in which a receiver records the result of its own SPF check. */
const SPF_FIELDS: ReadonlySet<string> = new Set([
  'received-spf',
  'authentication-results',
  'arc-authentication-results',
]);

/** Characters of one field read (a receiver's result is short; a long field is not scanned to its end). */
const MAX_SCAN = 4000;

/** Addresses per field kept (one SPF result names one client; a few fields carry two or three results). */
const MAX_PER_FIELD = 4;

/** The forms in which receivers name the client they checked SPF against. */
const CLIENT_FORMS: readonly RegExp[] = [
  /\bclient-ip=\[?([0-9a-f.:]{3,45})\]?/gi,
  /\bdesignates? ([0-9a-f.:]{3,45}) as permitted sender/gi,
  /\bdoes not designate ([0-9a-f.:]{3,45}) as permitted sender/gi,
  /\bsender IP is ([0-9a-f.:]{3,45})/gi,
];

/** The addresses one SPF field names as the client that was checked. */
function clientsOf(value: string): string[] {
  const text = value.slice(0, MAX_SCAN);
  const out: string[] = [];
  for (const re of CLIENT_FORMS) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null && out.length < MAX_PER_FIELD; m = re.exec(text)) {
      const ip = normaliseIp(m[1].replace(/[.:]+$/, ''));
      if (ip !== null && !out.includes(ip)) out.push(ip);
    }
  }
  return out;
}

/** One SPF client a receiver recorded, with the text of the field that records it (lower case, bounded). */
export interface SpfClient {
  ip: string;
  field: string;
}

/**
 * For each `Received:` field, in order (top first), the SPF clients named by the receiving side's
 * authentication fields above it. `fields` is the whole header in order, names in lower case.
 */
export function spfClientsAbove(fields: readonly { name: string; value: string }[], maxHops: number): SpfClient[][] {
  const seen: SpfClient[] = [];
  const out: SpfClient[][] = [];
  for (const f of fields) {
    if (out.length >= maxHops) break;
    if (f.name === 'received') out.push([...seen]);
    else if (SPF_FIELDS.has(f.name)) {
      const field = f.value.slice(0, MAX_SCAN).toLowerCase();
      for (const ip of clientsOf(f.value)) seen.push({ ip, field });
    }
  }
  return out;
}

/**
 * Why the client of hop `i` is the recipient's inbound gateway, or null: the receiving side's SPF check,
 * recorded above the hop by the very receiver of the hop (the field names its registered domain:
 * `mx.google.com`'s `google.com: domain of …`, `receiver=protection.outlook.com`), names another public
 * address as the sending client, and a hop below records that address as its client.
 */
export function inboundGatewayWhy(
  i: number,
  ip: string,
  received: readonly { fromIp: string | null; byHost: string | null }[],
  clientsAbove: readonly (readonly SpfClient[])[] | undefined,
  documentationIsPublic: boolean,
): string | null {
  const receiver = registeredDomain(received[i]?.byHost ?? null);
  if (receiver === null) return null;
  const named = (clientsAbove?.[i] ?? []).filter((c) => c.field.includes(receiver));
  if (named.some((c) => c.ip === ip)) return null;
  for (const { ip: x } of named) {
    if (effectiveClass(x, documentationIsPublic) !== 'public') continue;
    const j = received.findIndex((r, k) => k > i && r.fromIp === x);
    if (j < 0) continue;
    return `the receiving side's own SPF check, recorded above this hop by ${receiver}, took ${x} (hop ${j}'s \
client) as the sending machine, not ${ip}: the recipient's domain made ${ip} an inbound gateway its provider looks \
past (Google Workspace's inbound gateway, Microsoft 365's enhanced filtering), so it is the receiving side`;
  }
  return null;
}
