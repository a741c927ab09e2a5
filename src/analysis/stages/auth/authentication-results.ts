/**
 * A parser for the `Authentication-Results` header field (RFC 8601):
 *
 *     authserv-id [version] ; method[/version]=result [reason=…] [ptype.property=value …] ; …
 *
 * Comments (`(…)`, nestable, RFC 5322 §3.2.2) are dropped; quoted values keep their content.
 * Microsoft 365 omits the authserv-id (its field starts with `spf=…`); that is reported as a null id
 * so the caller can attribute the field to the host that added it. Never throws.
 */

export interface AuthResultEntry {
  method: string;
  result: string;
  /** `reason`, `smtp.mailfrom`, `header.d`, `header.from`, `policy.*`, … */
  properties: Record<string, string>;
}

export interface ParsedAuthResults {
  /** null when the field has none (Microsoft 365 writes none). */
  authservId: string | null;
  results: AuthResultEntry[];
}

/** Longest value read. */
const MAX_CHARS = 8000;
const MAX_RESULTS = 50;

/** Removes comments, keeping quoted strings intact. */
function stripComments(s: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c === '\\' && i + 1 < s.length) {
      if (depth === 0) out += c + (s[i + 1] ?? '');
      i++;
      continue;
    }
    if (quoted) {
      out += c;
      if (c === '"') quoted = false;
      continue;
    }
    if (c === '"' && depth === 0) {
      quoted = true;
      out += c;
    } else if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}

/** Splits on `;` outside quotes. */
function splitSemis(s: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of s) {
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function unquote(v: string): string {
  return v.startsWith('"') && v.endsWith('"') && v.length >= 2 ? v.slice(1, -1) : v;
}

/** Parses one Authentication-Results value (without the field name). */
export function parseAuthenticationResults(value: string): ParsedAuthResults {
  const text = stripComments(value.slice(0, MAX_CHARS));
  const parts = splitSemis(text);
  let authservId: string | null = null;
  const first = parts[0];
  if (first !== undefined && !/^[\w.-]+(?:\/\d+)?\s*=/.test(first)) {
    authservId = first.split(/\s+/)[0]?.toLowerCase() ?? null;
    parts.shift();
  }
  const results: AuthResultEntry[] = [];
  for (const part of parts) {
    if (results.length >= MAX_RESULTS) break;
    if (/^none$/i.test(part)) continue;
    const tokens = part.match(/[^\s=]+=(?:"[^"]*"|[^\s]*)/g) ?? [];
    const head = tokens[0];
    if (head === undefined) continue;
    const eq = head.indexOf('=');
    const method = head
      .slice(0, eq)
      .replace(/\/\d+$/, '')
      .toLowerCase();
    const result = unquote(head.slice(eq + 1)).toLowerCase();
    const properties: Record<string, string> = {};
    for (const t of tokens.slice(1)) {
      const i = t.indexOf('=');
      const k = t.slice(0, i).toLowerCase();
      if (k.length > 0 && !Object.hasOwn(properties, k)) properties[k] = unquote(t.slice(i + 1)).slice(0, 500);
    }
    results.push({ method, result, properties });
  }
  return { authservId, results };
}
