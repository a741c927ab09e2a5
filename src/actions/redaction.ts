/**
 * How the reporter's identity is kept out of what leaves (DESIGN.md "Privacy and law").
 *
 * - The reporter's own wrapper (their forward, their note, their account) never leaves at all.
 * - Every outbound artefact (ISP digests, ARF to senders, X-ARF, summaries, HTML reports) carries
 *   only redacted copies: each identity the platform knows for the reporters of those messages
 *   (the address they reported from, their account's e-mail and name) is replaced, and so is the
 *   local part of those addresses where it appears alone (greetings such as "Dear jdupont").
 * - An evidence package for an authority carries, besides the redacted copies, the byte-exact
 *   original as the reporter received it (authority evidence mode `original-and-redacted`,
 *   the default): that is the evidence, its hash is the one recorded at intake, and the authority
 *   is entitled to it. Mode `redacted-only` withholds the original and keeps only its hash.
 *
 * The byte-level replacement works on the raw octets (latin1 view), so nothing else in the
 * message changes; identities hidden in base64 or quoted-printable bodies are decoded by the
 * evidence redactor when it is available (`src/evidence/redact.ts`).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

export const REDACTED = '[redacted]';
/** Shortest local part redacted on its own (shorter ones are too common to be identifying). */
const MIN_LOCAL_PART = 4;

/** Identities (addresses, names) of the reporters of these reports. */
export async function identitiesOfReports(db: Kysely<Database>, reportIds: string[]): Promise<string[]> {
  const out = new Set<string>();
  for (let i = 0; i < reportIds.length; i += 500) {
    const rows = await db
      .selectFrom('reports as r')
      .leftJoin('users as u', 'u.id', 'r.reporter_user_id')
      .select(['r.reporter_address', 'u.email', 'u.name', 'r.context'])
      .where('r.id', 'in', reportIds.slice(i, i + 500))
      .execute();
    for (const r of rows) {
      for (const v of [r.reporter_address, r.email, r.name]) if (v && v.trim().length >= 3) out.add(v.trim());
      for (const v of contextIdentities(r.context)) out.add(v);
    }
  }
  return [...out];
}

/** Addresses a channel recorded in the report context (the forwarder, the envelope sender). */
function contextIdentities(context: string | null): string[] {
  if (!context) return [];
  let v: unknown;
  try {
    v = JSON.parse(context);
  } catch {
    return [];
  }
  if (typeof v !== 'object' || v === null) return [];
  const out: string[] = [];
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'string' && /reporter|forwarder|mailfrom|envelope|rcpt|wrapperfrom/i.test(k) && /@/.test(val)) out.push(val.replace(/^<|>$/g, ''));
  }
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The patterns to remove for a set of identities: whole identities, then lone local parts. */
function patterns(identities: string[]): RegExp[] {
  const whole = [...new Set(identities.map((s) => s.trim()).filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
  const locals = new Set<string>();
  for (const id of whole) {
    const at = id.indexOf('@');
    if (at >= MIN_LOCAL_PART) locals.add(id.slice(0, at));
    // A display name: each word of four letters or more is a name part ("Jean Dupont" → Dupont).
    if (at < 0) for (const w of id.split(/\s+/)) if (w.length >= MIN_LOCAL_PART) locals.add(w);
  }
  const out: RegExp[] = [];
  if (whole.length > 0) out.push(new RegExp(whole.map(escapeRe).join('|'), 'gi'));
  if (locals.size > 0) out.push(new RegExp(`(?<![A-Za-z0-9._%+-])(?:${[...locals].map(escapeRe).join('|')})(?![A-Za-z0-9_-])`, 'gi'));
  return out;
}

/** A redacted copy of a text. */
export function redactText(text: string, identities: string[]): string {
  let s = text;
  for (const re of patterns(identities)) s = s.replace(re, REDACTED);
  return s;
}

/** A redacted copy of raw message bytes (only the identifying octets change). */
export function redactMessage(raw: Buffer, identities: string[]): Buffer {
  // The raw octets are viewed as latin1; UTF-8 identities must be viewed the same way to match.
  const ps = patterns(identities.map((id) => Buffer.from(id, 'utf8').toString('latin1')));
  if (ps.length === 0) return raw;
  let s = raw.toString('latin1');
  for (const re of ps) s = s.replace(re, REDACTED);
  return Buffer.from(s, 'latin1');
}
