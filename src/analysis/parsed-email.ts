/**
 * Helpers over postal-mime's `Email` shared by the stages: flattened mailboxes, header lookup,
 * and the HTML rendering (memoised per parsed message, so parse and indicators render once).
 */
import type { Address, Email } from 'postal-mime';
import type { Mailbox } from './analysis-schema.ts';
import { htmlToText, type HtmlText } from './html-text.ts';

/** How much rendered HTML text the indicators look at (visible text keeps less). */
export const MAX_RENDERED_CHARS = 200_000;

export function mailboxes(list: Address | Address[] | undefined, max = 100): Mailbox[] {
  if (!list) return [];
  const out: Mailbox[] = [];
  for (const a of Array.isArray(list) ? list : [list]) {
    if (a.group) for (const m of a.group) out.push({ name: m.name, address: m.address });
    else out.push({ name: a.name, address: a.address ?? '' });
    if (out.length >= max) break;
  }
  return out.slice(0, max);
}

/** Values of every header named `name` (lower case), in order. */
export function headerValues(email: Email, name: string): string[] {
  const out: string[] = [];
  for (const h of email.headers) if (h.key === name) out.push(h.value);
  return out;
}

export function firstHeader(email: Email, name: string): string | null {
  for (const h of email.headers) if (h.key === name) return h.value;
  return null;
}

const rendered = new WeakMap<Email, HtmlText>();

/** The message's HTML rendered to text with its links (empty when it has no HTML). */
export function renderHtml(email: Email): HtmlText {
  const hit = rendered.get(email);
  if (hit) return hit;
  const r = email.html
    ? htmlToText(email.html, MAX_RENDERED_CHARS)
    : { text: '', links: [], truncated: false, formCount: 0 };
  rendered.set(email, r);
  return r;
}

/** Lower-case domain of an address ('' when none). */
export function domainOf(address: string | null | undefined): string {
  if (!address) return '';
  const at = address.lastIndexOf('@');
  return at < 0
    ? ''
    : address
        .slice(at + 1)
        .trim()
        .replace(/[>\]\s.]+$/, '')
        .toLowerCase();
}

/** Bounded copy of a string. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max);
}
