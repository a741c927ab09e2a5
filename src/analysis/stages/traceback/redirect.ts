/**
 * A report that is the reporter's redirect of the spam (a mail client's "Redirect", RFC 5322 §3.6.6: the message
 * sent on as it was, with a `Resent-*` block added; the intake's `how: 'resent'`). The Received fields the message
 * gathered after the reporter resent it record the way from the reporter to this instance: the reporter's own
 * machine, logged in at their provider, then their provider's relays. Walked as the spam's way in, they name the
 * reporter's home address as the origin (a review saw an ISP alert about "an infected machine" sent to the reporter's
 * own ISP). Those fields stand above the resent block the reporter's client added; the spam's own chain, as the
 * reporter's mailbox received it, starts below it.
 *
 * Read only when the intake says the report is a redirect and names the reporter's own addresses (never from the
 * message alone: a spam can carry a `Resent-From` naming its recipient, and a rule that took the message's word for
 * it would skip the spammer's own hand-off), and only for the topmost resent block, the one added last, whose
 * `Resent-From` (or `Resent-Sender`) is one of those addresses.
 */

/** Where the reporter's redirect starts in the header, or null when the rule does not apply. */
export interface RedirectBoundary {
  /** Index of the topmost `Resent-*` field: the fields from here on are the message as the reporter received it. */
  at: number;
  /** The reporter's address as the resent block writes it. */
  resender: string;
  /** Received fields above the block: the redirect's own hops, left out of the walk. */
  redirectHops: number;
}

const ADDRESS = /[^\s<>"(),;:@]+@[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?/i;

/** The boundary of the reporter's redirect in `fields` (top first), for one of the reporter's `addresses`. */
export function redirectBoundary(
  fields: readonly { name: string; value: string }[],
  addresses: readonly string[],
): RedirectBoundary | null {
  if (addresses.length === 0) return null;
  const own = new Set(addresses.map((a) => a.trim().toLowerCase()));
  const at = fields.findIndex((f) => f.name.startsWith('resent-'));
  if (at < 0) return null;
  // The block: the resent fields that stand together from there (RFC 5322 §3.6.6 keeps each block together).
  let resender: string | null = null;
  for (let k = at; k < fields.length && fields[k].name.startsWith('resent-'); k++) {
    const f = fields[k];
    if (f.name !== 'resent-from' && f.name !== 'resent-sender') continue;
    const m = ADDRESS.exec(f.value);
    if (m !== null && own.has(m[0].toLowerCase())) resender = m[0];
  }
  if (resender === null) return null;
  let redirectHops = 0;
  for (let k = 0; k < at; k++) if (fields[k].name === 'received') redirectHops++;
  if (redirectHops === 0) return null;
  return { at, resender, redirectHops };
}
