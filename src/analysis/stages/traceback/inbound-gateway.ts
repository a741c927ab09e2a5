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
 * Pure and bounded: each field is read once, its first 1,500 characters (`receiver-words.ts`).
 */
import { effectiveClass } from './receiving-side.ts';
import { clientsOf, receiverText } from './receiver-words.ts';
import { registeredDomain } from './org.ts';
import type { SpfClient } from './walk-input.ts';

/** Fields in which a receiver records the result of its own SPF check. */
const SPF_FIELDS: ReadonlySet<string> = new Set([
  'received-spf',
  'authentication-results',
  'arc-authentication-results',
]);

/** Authentication fields read per message (a receiving side writes a handful; more is a sender's padding). */
const MAX_FIELDS = 32;

/**
 * Whether the field was written by a receiver in `domain`: its authserv-id (RFC 8601, the first token, after an ARC
 * instance tag) or its `receiver=` (RFC 7208 §9.1) is that domain or a name under it. Microsoft 365's
 * Authentication-Results carries neither; its Received-SPF names `receiver=protection.outlook.com`.
 */
function writtenIn(text: string, domain: string): boolean {
  const id = /^\s*(?:i=\d+\s*;\s*)?([a-z0-9.-]+)\s*;/.exec(text)?.[1];
  const receiver = /\breceiver=([a-z0-9.-]+)/.exec(text)?.[1];
  return [id, receiver].some((n) => n !== undefined && (n === domain || n.endsWith(`.${domain}`)));
}

/**
 * For each `Received:` field, in order (top first), the SPF clients named by the receiving side's
 * authentication fields above it. `fields` is the whole header in order, names in lower case.
 */
export function spfClientsAbove(fields: readonly { name: string; value: string }[], maxHops: number): SpfClient[][] {
  const seen: SpfClient[] = [];
  const out: SpfClient[][] = [];
  // Only fields above a traced Received field can matter, and only so many of them are read.
  let last = -1;
  for (let k = 0, hops = 0; k < fields.length && hops < maxHops; k++)
    if (fields[k].name === 'received') {
      last = k;
      hops++;
    }
  let read = 0;
  for (const f of fields.slice(0, last + 1)) {
    if (f.name === 'received') out.push([...seen]);
    else if (SPF_FIELDS.has(f.name) && read++ < MAX_FIELDS) {
      const field = receiverText(f.value);
      for (const ip of clientsOf(field)) seen.push({ ip, field });
    }
  }
  return out;
}

/**
 * Why the client of hop `i` is the recipient's inbound gateway, or null: the receiving side's SPF check,
 * recorded above the hop by the very receiver of the hop (its authserv-id or `receiver=` in the receiver's
 * registered domain: `i=1; mx.google.com;`, `receiver=protection.outlook.com`), names another public address
 * as the sending client and never the hop's own, and a hop below records that address as its client. The
 * caller applies it only on the recipient's own side (see `walk.ts`).
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
  const named = (clientsAbove?.[i] ?? []).filter((c) => writtenIn(c.field, receiver));
  // The client itself named anywhere in the receiver's words: an ordinary hand-off.
  const self = new RegExp(`(?:^|[^0-9a-f.:])${ip.replace(/[.]/g, '\\.')}(?:$|[^0-9a-f.:])`);
  if (named.some((c) => c.ip === ip || self.test(c.field))) return null;
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
