/**
 * Features of the learned text model, read from the Analysis record only — the same record the
 * worker produces — so training and inference see identical inputs. Tokens of the visible text
 * (words and word pairs), the subject, header names and values, link domains, attachment types
 * and finding codes are hashed into 2^FEATURE_BITS buckets ("the hashing trick", Weinberger et
 * al. 2009) and L2-normalised. Live authentication verdicts are left out: the corpora are years
 * old and their DNS has changed, so the model must not learn what a lookup says today.
 */
import type { Analysis } from '../analysis-schema.ts';
import { hashString } from '../text/minhash.ts';

export const FEATURE_BITS = 18;
export const FEATURE_DIM = 1 << FEATURE_BITS;
const MAX_BODY_TOKENS = 2500;
const MAX_BIGRAM_TOKENS = 1000;
const MAX_HEADERS = 60;
const MAX_TOKENS_PER_HEADER = 30;
const FEATURE_SEED = 0xfea7;
/** Headers whose values are per-delivery noise rather than sender habits. */
const SKIP_VALUE_HEADERS = new Set(['date', 'message-id', 'delivered-to', 'x-original-to', 'to', 'cc']);
/**
 * A date and time written in a header value (RFC 5322 `Sun, 6 Dec 2026 11:00:07 +0000`, the
 * asctime form of old relays, ISO 8601): when the message was handled, not who sent it. The
 * corpora's years separate their labels (ham from 2002–2007, phishing and recent spam from
 * 2015 on), so a model that reads them learns the year, and the same message delivered at another
 * hour changed category (the parcel phish of the intel tests: phishing or commercial depending on
 * the minute in its `Received:` line).
 */
const MONTH = '(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*';
const CLOCK = '\\d{1,2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?';
const HEADER_DATE_TIME_RE = new RegExp(
  [
    // [Sun, ](6 Dec 2026 | Dec 6 [2026]) 11:00:07 [2026] [+0000] [(UTC) | UTC]
    `(?:\\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\\s+)?`,
    `(?:\\b\\d{1,2}\\s+${MONTH}\\s+\\d{2,4}\\s+|\\b${MONTH}\\s+\\d{1,2}\\s+(?:\\d{4}\\s+)?)?`,
    `\\b${CLOCK}(?:\\s+\\d{4})?(?:\\s*[+-]\\d{4})?(?:\\s*\\([a-z]{1,5}\\)|\\s+(?:ut|utc|gmt|[a-z]{1,3}t)\\b)?`,
    // 2026-12-06[T11:00:07[.5][Z|+01:00]]
    `|\\b\\d{4}-\\d{2}-\\d{2}(?:[t ]${CLOCK}(?:z|[+-]\\d{2}:?\\d{2})?)?`,
  ].join(''),
  'gi',
);

const WORD_RE = /[\p{L}\p{N}$€£%!]+/gu;
const HEADER_TOKEN_RE = /[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]/g;

/** A sparse, L2-normalised feature vector. */
export interface FeatureVector {
  indices: Uint32Array;
  values: Float32Array;
}

function words(text: string, max: number): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(WORD_RE)) {
    const w = m[0];
    if (w.length < 2 || w.length > 25) continue;
    out.push(/^\d+$/.test(w) ? `#${Math.min(w.length, 6)}` : w);
    if (out.length >= max) break;
  }
  return out;
}

/** The named tokens of an analysis (before hashing); exported for inspection and tests. */
export function featureTokens(a: Analysis): string[] {
  const toks: string[] = [];
  const body = words(a.parse.visibleText, MAX_BODY_TOKENS);
  for (const w of body) toks.push(`w:${w}`);
  for (let i = 0; i + 1 < Math.min(body.length, MAX_BIGRAM_TOKENS); i++) toks.push(`b:${body[i]} ${body[i + 1]}`);
  for (const w of words(a.parse.subject ?? '', 50)) toks.push(`s:${w}`);
  for (const h of a.parse.headers.slice(0, MAX_HEADERS)) {
    const name = h.name.toLowerCase();
    toks.push(`h:${name}`);
    if (SKIP_VALUE_HEADERS.has(name)) continue;
    let n = 0;
    for (const m of h.value.replace(HEADER_DATE_TIME_RE, ' ').matchAll(HEADER_TOKEN_RE)) {
      // Numbers as their length, as in the text: a queue id or a count, not its value.
      const t = /^\d+$/.test(m[0]) ? `#${Math.min(m[0].length, 6)}` : m[0].toLowerCase();
      toks.push(`hv:${name}:${t}`);
      if (++n >= MAX_TOKENS_PER_HEADER) break;
    }
  }
  for (const u of a.indicators.urls.slice(0, 100)) {
    toks.push(`u:${u.registrableDomain ?? 'ip'}`, `us:${u.source}`);
    if (u.shortener) toks.push('u:shortener');
  }
  for (const att of a.parse.attachments.slice(0, 20)) {
    toks.push(`a:${(att.sniffedType ?? att.declaredType).toLowerCase()}`);
    const ext = /\.([a-z0-9]{1,8})$/i.exec(att.filename ?? '');
    if (ext) toks.push(`ax:${ext[1].toLowerCase()}`);
  }
  for (const f of a.findings) toks.push(`f:${f.code}`);
  toks.push(
    `html:${a.parse.htmlPresent}`,
    `text:${a.parse.textPresent}`,
    `optout:${a.compliance.optOut.status}`,
    `kind:${a.kind}`,
  );
  for (const c of a.parse.charsets.slice(0, 10)) toks.push(`cs:${c}`);
  if (a.indicators.wallets.length > 0) toks.push('wallet');
  if (a.indicators.phones.length > 0) toks.push('phone');
  return toks;
}

/** Hashes tokens into a sparse binary vector, normalised to unit length. */
export function featuresOf(a: Analysis): FeatureVector {
  const set = new Set<number>();
  for (const t of featureTokens(a)) set.add(hashString(t, FEATURE_SEED) & (FEATURE_DIM - 1));
  const indices = Uint32Array.from(set).sort();
  const v = indices.length > 0 ? 1 / Math.sqrt(indices.length) : 0;
  return { indices, values: new Float32Array(indices.length).fill(v) };
}
