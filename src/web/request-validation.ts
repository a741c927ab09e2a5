/**
 * Request validation in one place, before authentication and before any handler: a request whose
 * target or parsed body could not be a sensible input gets 400 with a JSON reason, instead of
 * reaching a query and failing there (PostgreSQL refuses NUL in text: "invalid byte sequence for
 * encoding UTF8: 0x00", which was a 500 on eleven routes).
 *
 * - The request target (RFC 9110 §7.1): every path segment and every query name and value is
 *   percent-decoded to bytes and must be UTF-8 (RFC 3629; no surrogates, no over-long forms)
 *   without NUL; values are bounded in length and count.
 * - Parsed JSON and form bodies: no string holds NUL, nesting is bounded. Message bytes (raw
 *   bodies, uploaded files, base64) are not text and are left to the intake.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.ts';

/** Longest request target; Node refuses request heads over 16 KiB anyway. */
export const MAX_URL_CHARS = 8192;
/** Longest query value or path segment once decoded (filters are words, domains, days, cursors). */
export const MAX_PARAM_CHARS = 2048;
/** Most query parameters per request (the widest page, the workbench list, reads a dozen). */
export const MAX_QUERY_PARAMS = 64;
/** Deepest JSON or form nesting accepted; no route reads more than a few levels. */
export const MAX_BODY_DEPTH = 32;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A request refused here: always answered as JSON (`BAD_REQUEST` with the reason), pages
 * included — the page error handler checks for this class, and the page context (who is asking)
 * may not exist yet when the target is refused.
 */
export class MalformedRequestError extends AppError {
  constructor(message: string) {
    super('BAD_REQUEST', message);
    this.name = 'MalformedRequestError';
  }
}

/** Percent-decodes to bytes and then UTF-8, or null when the bytes are not UTF-8. */
function decodeComponent(s: string, plusIsSpace: boolean): string | null {
  const text = plusIsSpace ? s.replace(/\+/g, ' ') : s;
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      bytes.push(...Buffer.from(text[i], 'utf8'));
    }
  }
  try {
    return UTF8.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

function checkText(where: string, raw: string, plusIsSpace: boolean, bounded = true): MalformedRequestError | null {
  const v = decodeComponent(raw, plusIsSpace);
  if (v === null) return new MalformedRequestError(`${where} is not valid UTF-8 once percent-decoded.`);
  if (v.includes('\0')) return new MalformedRequestError(`${where} contains a NUL byte.`);
  if (bounded && v.length > MAX_PARAM_CHARS)
    return new MalformedRequestError(`${where} is too long (at most ${MAX_PARAM_CHARS} characters).`);
  return null;
}

/** Why a request target (path and query, as sent) is refused, or null when it is acceptable. */
export function checkRequestTarget(url: string): MalformedRequestError | null {
  if (url.length > MAX_URL_CHARS)
    return new MalformedRequestError(`The URL is too long (at most ${MAX_URL_CHARS} characters).`);
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  for (const seg of path.split('/')) {
    const e = checkText('A path segment', seg, false);
    if (e) return e;
  }
  if (q === -1) return null;
  return checkUrlEncoded(url.slice(q + 1), 'Query parameter', true);
}

/**
 * Why an `application/x-www-form-urlencoded` text (a query string or a form body) is refused, or
 * null. Form bodies are bounded by their route's body limit, not by the per-parameter limits.
 */
export function checkUrlEncoded(text: string, label = 'Form field', limits = false): MalformedRequestError | null {
  const pairs = text.split('&').filter((p) => p !== '');
  if (limits && pairs.length > MAX_QUERY_PARAMS)
    return new MalformedRequestError(`Too many query parameters (at most ${MAX_QUERY_PARAMS}).`);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    const nameErr = checkText(`A ${label.toLowerCase()} name`, rawName, true, limits);
    if (nameErr) return nameErr;
    const name = decodeComponent(rawName, true) ?? '';
    const valueErr = eq === -1 ? null : checkText(`${label} "${name.slice(0, 40)}"`, pair.slice(eq + 1), true, limits);
    if (valueErr) return valueErr;
  }
  return null;
}

/** A form body as @fastify/formbody gives it: repeated names become arrays, no prototype. */
export function parseUrlEncoded(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [k, v] of new URLSearchParams(text)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** Why a parsed JSON or form body is refused, or null. Walks without recursion (deep bodies). */
export function checkParsedBody(body: unknown): MalformedRequestError | null {
  if (body === null || typeof body !== 'object' || Buffer.isBuffer(body))
    return typeof body === 'string' && body.includes('\0') ? nulIn('the body') : null;
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: body, depth: 0, path: '' }];
  while (stack.length > 0) {
    const item = stack.pop();
    if (!item) break;
    const { v, depth, path } = item;
    if (typeof v === 'string') {
      if (v.includes('\0')) return nulIn(path ? `field "${path.slice(0, 60)}"` : 'the body');
      continue;
    }
    if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) continue;
    if (depth >= MAX_BODY_DEPTH)
      return new MalformedRequestError(`The body is nested too deeply (at most ${MAX_BODY_DEPTH} levels).`);
    for (const [k, child] of Object.entries(v)) {
      if (k.includes('\0')) return nulIn('a field name');
      stack.push({ v: child, depth: depth + 1, path: path ? `${path}.${k}` : k });
    }
  }
  return null;
}

function nulIn(where: string): MalformedRequestError {
  return new MalformedRequestError(`A NUL byte in ${where}: text fields cannot hold one.`);
}

/**
 * Registers the checks: the target before anything else runs (authentication included), the
 * parsed body before validation and handlers.
 */
export const requestValidation = fp(async (app: FastifyInstance) => {
  app.addHook('onRequest', async (req) => {
    const e = checkRequestTarget(req.raw.url ?? '/');
    if (e) throw e;
  });
  app.addHook('preValidation', async (req) => {
    const e = checkParsedBody(req.body);
    if (e) throw e;
  });
});
