/**
 * Base64 and base64url (RFC 4648 §4–5) for the text redactor (redact-text.ts): the fragments an
 * identity leaves at each of the three byte alignments, and the runs that hold one, decoded from
 * the fragment's alignment, redacted and re-encoded in their own alphabet and padding.
 */
import { BoundedMemo } from '../core/bounded-memo.ts';
import type { IdentityForms } from './redact-identity.ts';

export interface Counter {
  n: number;
}

/** The text redactor itself, for what a base64 run decodes to (`depth`: how deep in base64 it is). */
type RunRedactor = (s: string, c: Counter, depth: number) => string;

/** One base64 search: the fragments, the redactor for decoded runs, the count of replacements, the depth. */
interface Search {
  frags: Fragments;
  redactor: RunRedactor;
  counter: Counter;
  depth: number;
}

/** Base64 characters decoding to "xxx": the filler for a fragment that could not be decoded. */
const B64_FILLER = 'eHh4';
/** Depth of base64-inside-base64 decoding. */
const MAX_B64_DEPTH = 2;
/** Shortest base64 fragment searched (shorter ones would match by chance). */
const MIN_B64_FRAGMENT = 8;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * The base64 characters fully determined by `s` at each of the three alignments it can have
 * inside a longer base64 text, in the standard and URL-safe alphabets.
 */
export function base64Fragments(s: string | Buffer): string[] {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    // Group i (4 chars) encodes bytes [3i, 3i+3); keep the groups lying wholly inside `s`.
    const first = Math.ceil(k / 3);
    const last = Math.floor((k + bytes.length) / 3) - 1;
    if (last < first) continue;
    const frag = enc.slice(first * 4, (last + 1) * 4);
    if (frag.length >= MIN_B64_FRAGMENT) out.push(frag, frag.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...new Set(out)];
}

function isB64Char(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2b ||
    c === 0x2f ||
    c === 0x2d ||
    c === 0x5f
  );
}

export interface Fragments {
  re: RegExp;
  /** The fragments in lower case: a text whose lower case holds none holds no fragment (a fast test first). */
  anchors: string[];
  list: string[];
}

/**
 * The fragments of the fully encoded addresses (as given, in upper case, capitalised, and in each case spelling the
 * message itself writes: a tracker encodes the address its list holds), of whole names and of E.164 numbers.
 */
export function buildFragments(forms: IdentityForms): Fragments | null {
  const sources = new Set<string>();
  for (const a of forms.addresses.slice(0, forms.fullyEncoded)) {
    sources.add(a);
    sources.add(a.toUpperCase());
    sources.add(a.replace(/^./, (c) => c.toUpperCase()));
  }
  for (const w of forms.spellings) sources.add(w);
  for (const n of forms.names) if (n.tokens.length > 1) sources.add(n.tokens.join(' '));
  for (const n of forms.numbers) if (n.e164) sources.add(n.e164);
  const fragments = [...sources].flatMap((x) => RECENT_FRAGMENTS.get(x));
  for (const a of forms.addresses.slice(0, forms.fullyEncoded)) {
    // Base64 of base64 (a token inside a token), and of the address in UTF-16LE (.NET's Encoding.Unicode).
    fragments.push(...RECENT_FRAGMENTS.get(Buffer.from(a, 'utf8').toString('base64')));
    fragments.push(...base64Fragments(Buffer.from(a, 'utf16le')));
  }
  const list = [...new Set(fragments)];
  if (list.length === 0) return null;
  return {
    re: new RegExp(list.map(escapeRe).join('|'), 'g'),
    anchors: [...new Set(list.map((f) => f.toLowerCase()))],
    list,
  };
}

/** {@link base64Fragments} of the values seen lately (a redactor is compiled for each report of one reporter). */
const RECENT_FRAGMENTS = new BoundedMemo(base64Fragments, 4096);

function holdsFragment(text: string, frags: Fragments): boolean {
  const lower = text.toLowerCase();
  return frags.anchors.some((a) => lower.includes(a));
}

/**
 * Base64 runs holding a fragment of the identity: decoded from the fragment's alignment,
 * redacted, re-encoded in the same alphabet and padding.
 */
export function redactBase64(
  text: string,
  frags: Fragments,
  redactor: RunRedactor,
  counter: Counter,
  depth: number,
): string {
  const search: Search = { frags, redactor, counter, depth };
  let out = text;
  // One region per run and pass; a run holding fragments at two alignments takes a second pass.
  for (let pass = 0; pass < 3; pass++) {
    const before = counter.n;
    out = redactBase64Pass(out, search);
    if (counter.n === before) break;
  }
  return redactJoinedBase64(out, search);
}

/**
 * Where base64 is cut into pieces a decoder joins again: lines of a `data:` URI or an iCalendar attachment wrapped
 * at 76 columns (the fetch standard's forgiving base64 and RFC 2045 skip white space), and strings concatenated in a
 * script (`atob("bGVh" + "Lm1h…")`). The joints are left out of a view, the runs searched there, and each redacted
 * run written back in the source's place, wrapped at the width of its first line when the source was wrapped.
 */
const JOINT =
  /(?<=[A-Za-z0-9+/_-])(?:\r?\n[ \t]*(?![A-Za-z0-9-]+:)|["'`]\s*\+\s*(?:\r?\n\s*)?["'`])(?=[A-Za-z0-9+/_-])/g;

function redactJoinedBase64(text: string, search: Search): string {
  const { frags } = search;
  // Most texts have no fragment across a joint: the joined text is tested before any joint is mapped. A line that
  // starts a header field (`Subject:`) is never a continuation: a review saw a folded token swallow the next field.
  if (!holdsFragment(text.replace(JOINT, ''), frags)) return text;
  // Joints as (position in the view, the joint, characters left out up to and including it): a view position maps
  // to the source by adding the characters left out before it.
  const at: number[] = [];
  const joints: string[] = [];
  const skipped: number[] = [];
  let total = 0;
  const view = text.replace(JOINT, (joint: string, offset: number) => {
    at.push(offset - total);
    joints.push(joint);
    total += joint.length;
    skipped.push(total);
    return '';
  });
  /** The number of joints at view positions <= v. */
  const jointsUpTo = (v: number): number => {
    let lo = 0;
    let hi = at.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const toSource = (v: number): number => {
    const n = jointsUpTo(v);
    return v + (n === 0 ? 0 : skipped[n - 1]);
  };
  const edits = base64Edits(view, search);
  if (edits.length === 0) return text;
  const pieces: string[] = [];
  let pos = 0;
  for (const e of edits.sort((a, b) => a.start - b.start)) {
    const start = toSource(e.start);
    const end = toSource(e.end - 1) + 1;
    if (start < pos) continue;
    // The joints inside the run, put back at the same offsets from its start (a line keeps its width, a fold its
    // indentation); a longer replacement goes on in lines as wide as the widest the run had.
    const inside: { offset: number; joint: string }[] = [];
    for (let k = jointsUpTo(e.start); k < at.length && at[k] < e.end; k++)
      inside.push({ offset: at[k] - e.start, joint: joints[k] });
    let replacement = e.replacement;
    if (inside.length > 0) {
      const out: string[] = [];
      let from = 0;
      for (const j of inside) {
        if (j.offset >= replacement.length) break;
        out.push(replacement.slice(from, j.offset), j.joint);
        from = j.offset;
      }
      const widest = Math.max(...inside.map((j, k) => j.offset - (k === 0 ? 0 : inside[k - 1].offset)), 4);
      const last = inside[inside.length - 1].joint;
      for (; replacement.length - from > widest && inside.every((j) => j.offset < replacement.length); from += widest)
        out.push(replacement.slice(from, from + widest), last);
      out.push(replacement.slice(from));
      replacement = out.join('');
    }
    pieces.push(text.slice(pos, start), replacement);
    pos = end;
  }
  pieces.push(text.slice(pos));
  return pieces.join('');
}

function redactBase64Pass(text: string, search: Search): string {
  return applyEdits(text, base64Edits(text, search));
}

/**
 * Applies non-overlapping edits in one pass over the text (the earliest-starting, then the longest, wins an overlap;
 * a review made thousands of edits rewrite a megabyte each when they were applied one by one), counting those
 * applied in `counter` when given.
 */
export function applyEdits(text: string, edits: Edit[], counter?: Counter): string {
  if (edits.length === 0) return text;
  edits.sort((a, b) => a.start - b.start || b.end - a.end);
  const pieces: string[] = [];
  let pos = 0;
  for (const edit of edits) {
    if (edit.start < pos) continue;
    pieces.push(text.slice(pos, edit.start), edit.replacement);
    pos = edit.end;
    if (counter) counter.n++;
  }
  pieces.push(text.slice(pos));
  return pieces.join('');
}

export interface Edit {
  start: number;
  end: number;
  replacement: string;
}

/** The base64 runs of `text` holding a fragment, each with its redacted re-encoding. */
function base64Edits(text: string, search: Search): Edit[] {
  const { frags, redactor, counter, depth } = search;
  if (!holdsFragment(text, frags)) return [];
  const regions = new Map<number, { start: number; end: number }>();
  frags.re.lastIndex = 0;
  for (let m = frags.re.exec(text); m; m = frags.re.exec(text)) {
    let r0 = m.index;
    while (r0 > 0 && isB64Char(text.charCodeAt(r0 - 1))) r0--;
    let r1 = m.index + m[0].length;
    while (r1 < text.length && isB64Char(text.charCodeAt(r1))) r1++;
    while (r1 < text.length && text.charCodeAt(r1) === 0x3d) r1++;
    // Decoding starts where the fragment's 4-character groups start.
    if (!regions.has(r0)) regions.set(r0, { start: r0 + ((m.index - r0) % 4), end: r1 });
    frags.re.lastIndex = Math.max(frags.re.lastIndex, r1);
  }
  const edits: Edit[] = [];
  for (const r of regions.values()) {
    const region = text.slice(r.start, r.end);
    const padded = region.endsWith('=');
    let core = region.replace(/=+$/, '');
    if (core.length % 4 === 1) core = core.slice(0, -1);
    const url = /[-_]/.test(core);
    const decoded = Buffer.from(core, 'base64').toString('latin1');
    const sub: Counter = { n: 0 };
    const red = depth < MAX_B64_DEPTH ? redactor(decoded, sub, depth + 1) : decoded;
    let replacement: string;
    if (sub.n > 0 && red !== decoded) {
      const bytes = Buffer.from(red, 'latin1');
      replacement = url ? bytes.toString('base64url') : bytes.toString('base64');
      if (!padded) replacement = replacement.replace(/=+$/, '');
      else if (url && replacement.length % 4 !== 0) replacement += '='.repeat(4 - (replacement.length % 4));
      counter.n += sub.n;
    } else {
      // Not decodable into the identity (a fragment by chance, or too deep): blank the fragments.
      replacement = region;
      for (const f of frags.list)
        if (replacement.includes(f)) replacement = replacement.split(f).join(B64_FILLER.repeat(f.length / 4));
      if (replacement !== region) counter.n++;
    }
    if (replacement !== region) edits.push({ start: r.start, end: r.end, replacement });
  }
  return edits;
}
