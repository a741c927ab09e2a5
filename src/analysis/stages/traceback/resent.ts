/**
 * A message resent by hand inside the receiving organisation (RFC 5322 §3.6.6: Pine's and mutt's
 * "bounce", which keep the message and add a `Resent-*` block). The resender's own client handed the copy
 * in, so every Received field is the organisation's: the walk ends inside the receiving side and names
 * nothing outside. Some delivery set-ups keep the original delivery to the resender below, its Received
 * fields renamed `X-Received` so the new chain starts clean. Those fields were written by the
 * organisation's own hosts when the message first arrived, and the first outside machine they record is
 * the message's true origin; below it, as in any chain, the sender's own lines prove nothing.
 *
 * Read only when all of these hold: the walk of the Received fields named no outside machine; the header
 * carries a resent block (`Resent-Date` and `Resent-From` or `Resent-Sender`) whose address is in the
 * registered domain of the machine that delivered the message (the top Received field's `by` host), so
 * the resender is one of the organisation's own users; and the `X-Received` fields sit below every
 * Received field, the first of them written by a host of that same domain. Then the `X-Received` fields
 * are walked as the continuation of the chain, with everything the walk believed above them.
 */
import { registeredDomain } from './org.ts';
import { parseReceived, type ParsedReceived } from './received-parser.ts';

/** Note on a hop read from an `X-Received` field of the original delivery. */
export const RESENT_ORIGINAL_NOTE = 'resent-original';

/** What the resent block and the original delivery give the walk, or null when the rule does not apply. */
export interface ResentOriginal {
  /** The resender's address, as written in `Resent-From` (or `Resent-Sender`). */
  resender: string;
  /** The organisation's registered domain (the delivering host's). */
  domain: string;
  /** The original delivery's fields, top first, parsed and marked {@link RESENT_ORIGINAL_NOTE}. */
  fields: (ParsedReceived & { raw: string })[];
}

const ADDRESS = /[^\s<>"(),;:@]+@([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)/i;

/**
 * The original delivery of a message resent inside the receiving organisation, or null (see the module
 * comment for the conditions). `maxFields` bounds the fields read; `maxChars` each field's kept text.
 */
export function resentOriginal(
  fields: readonly { name: string; value: string }[],
  received: readonly ParsedReceived[],
  maxFields: number,
  maxChars: number,
): ResentOriginal | null {
  const domain = registeredDomain(received[0]?.byHost ?? null);
  if (domain === null) return null;
  let lastReceived = -1;
  let resender: string | null = null;
  let resentDate = false;
  for (let k = 0; k < fields.length; k++) {
    const f = fields[k];
    if (f.name === 'received') lastReceived = k;
    else if (f.name === 'resent-date') resentDate = true;
    else if ((f.name === 'resent-from' || f.name === 'resent-sender') && resender === null) {
      const m = ADDRESS.exec(f.value);
      if (m !== null && registeredDomain(m[1].toLowerCase()) === domain) resender = m[0];
    }
  }
  if (!resentDate || resender === null || lastReceived < 0) return null;
  const original: (ParsedReceived & { raw: string })[] = [];
  for (let k = 0; k < fields.length && original.length < maxFields; k++) {
    const f = fields[k];
    if (f.name !== 'x-received') continue;
    // Only below the whole Received chain: an X-Received field among the Received ones is another
    // system's annotation of its own hop (Google writes them), not the original delivery.
    if (k < lastReceived) return null;
    const parsed = parseReceived(f.value);
    parsed.notes.push(RESENT_ORIGINAL_NOTE);
    original.push(Object.assign(parsed, { raw: f.value.slice(0, maxChars) }));
  }
  if (original.length === 0 || registeredDomain(original[0].byHost) !== domain) return null;
  return { resender, domain, fields: original };
}
