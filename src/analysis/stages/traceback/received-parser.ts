/**
 * A tolerant parser for `Received:` header fields (RFC 5321 §4.4, RFC 5322 §3.6.7).
 *
 * The grammar is `Received: [from X] [by Y] [via L] [with P] [id I] [for F] ; date`, but every MTA
 * decorates it with comments of its own. What each one writes about the connecting client:
 *
 * | MTA                     | `from` clause                                   |
 * |-------------------------|-------------------------------------------------|
 * | Sendmail, Postfix | `helo (rdns [ip])`, `helo (unknown [ip])`, `helo ([ip])`, `helo (user@rdns [ip] (may be
 * forged))` |
 * | Gmail                   | `helo (rdns. [ip])` (trailing dot), `by 2002:…:0 with SMTP id …` (no from) |
 * | Exim                    | `rdns ([ip]:port helo=helo)`, `[ip] (port=n helo=helo)`, `rdns ([ip])` |
 * | qmail, Yahoo            | `unknown (HELO helo) (ip)`, `ip (EHLO helo) (ip)`, `ip by host via HTTP` |
 * | Exchange / Microsoft 365 | `helo (ip)`, `helo (IPv6)`, `helo (::1) … with HTTPS`, `([fe80::…]) … with mapi` |
 * | comment-only            | `(qmail 123 invoked from network)`, `(from user@localhost)` |
 *
 * The parser tokenises once (words, nested comments, `[literals]`, `<paths>`) in O(n), splits
 * clauses on the RFC 5321 keywords at the top level only, then reads the comments of the `from`
 * clause for the address, the reverse-DNS name and the HELO. Input is bounded
 * ({@link MAX_RECEIVED_CHARS}); nothing here throws.
 */
import { classifyIp, normaliseIp } from './ip-class.ts';

/** Longest Received value read; the rest is ignored (a hostile header can be megabytes). */
export const MAX_RECEIVED_CHARS = 4000;
const MAX_FIELD_CHARS = 320;

/** One hop as read from one Received header. */
export interface ParsedReceived {
  /** The name the client gave in HELO/EHLO (forgeable). */
  fromHelo: string | null;
  /** The name the receiver found by reverse DNS for the client's address. */
  fromRdns: string | null;
  /** The client's address as the receiver saw it (normalised). */
  fromIp: string | null;
  byHost: string | null;
  /**
   * The receiver's own address when it wrote one beside its name (`by pt02.example ([192.0.2.7])`,
   * `by mx.example (192.0.2.7)`): what the believed receiver says about itself.
   */
  byIp?: string | null;
  /** Upper-case protocol word: SMTP, ESMTP, ESMTPS, ESMTPSA, LMTP, HTTP, HTTPS, MAPI, … */
  protocol: string | null;
  /** true when the hop says it used TLS, false when it says plain (E)SMTP, null when unknown. */
  tls: boolean | null;
  id: string | null;
  for: string | null;
  /** ISO 8601 when the date parses, else null. */
  date: string | null;
  /** False when nothing useful could be read. */
  parsed: boolean;
  /**
   * Short notes: `rdns-may-be-forged`, `rdns-unknown`, `comment-only`, `local-submission`,
   * `webmail-http`, `retrieval` (a POP3/IMAP pickup by fetchmail, getmail or the like: the
   * reporter's own client fetching from its mailbox, not a hand-off between mail servers),
   * `rdns-unverified` (qmail's form `from name (HELO x) (ip)`: `name` is the reverse name tcpserver
   * looked up, never checked to resolve back), `qmail-name` (qmail's `from name (ip)`: the HELO was
   * omitted because it equals that same unverified reverse name, so `fromHelo` is also it), `address-ambiguous` (the
   * `from` clause names two client addresses where the receiver wrote one: none is read).
   */
  notes: string[];
}

/**
 * One token; `glued` when no white space separates it from the token before (`x(192.0.2.7)`: the comment is part of
 * what the client sent as its greeting, one word on the wire).
 */
type Token = (
  | { kind: 'word'; text: string }
  | { kind: 'comment'; text: string }
  | { kind: 'literal'; text: string }
  | { kind: 'angle'; text: string }
  | { kind: 'semi' }
) & { glued?: boolean };

/** A character that ends a word token: whitespace, `(`, `)`, `[`, `<` or `;`. */
function isWordEnd(c: number): boolean {
  return (
    c === 0x20 ||
    c === 0x09 ||
    c === 0x0d ||
    c === 0x0a ||
    c === 0x28 ||
    c === 0x29 ||
    c === 0x5b ||
    c === 0x3c ||
    c === 0x3b
  );
}

/** Where the next white space is at or after `i` (`n` when none). */
function nextSpace(s: string, i: number, n: number): number {
  for (let j = i; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) return j;
  }
  return n;
}

/**
 * Splits a header value into top-level tokens. A `(` that never closes, or a `[` or `<` whose closing bracket lies
 * beyond white space, is a word of its own up to the next white space: the client's greeting can carry any of them
 * (`HELO x(`, `HELO <x`), and must not swallow what the receiver wrote after it. A `[literal]` and an `<angle>` hold
 * no white space in what receivers write (an address, a path, a message id).
 */
function tokenise(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = s.length;
  let spaced = true;
  const push = (t: Token) => {
    if (!spaced) t.glued = true;
    out.push(t);
    spaced = false;
  };
  const word = (from: number, to: number) => {
    push({ kind: 'word', text: s.slice(from, to) });
    i = to;
  };
  while (i < n) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      spaced = true;
    } else if (c === '(') {
      let depth = 1;
      let j = i + 1;
      while (j < n && depth > 0) {
        const d = s[j];
        if (d === '\\') j++;
        else if (d === '(') depth++;
        else if (d === ')') depth--;
        j++;
      }
      if (depth > 0) word(i, Math.max(i + 1, nextSpace(s, i, n)));
      else {
        push({ kind: 'comment', text: s.slice(i + 1, j - 1) });
        i = j;
      }
    } else if (c === '[' || c === '<') {
      const j = s.indexOf(c === '[' ? ']' : '>', i + 1);
      const space = nextSpace(s, i, n);
      if (j < 0 || j > space) word(i, Math.max(i + 1, space));
      else {
        push({ kind: c === '[' ? 'literal' : 'angle', text: s.slice(i + 1, j) });
        i = j + 1;
      }
    } else if (c === ';') {
      push({ kind: 'semi' });
      i++;
    } else if (c === ')' || c === ']' || c === '>') {
      i++;
    } else {
      let j = i + 1;
      while (j < n && !isWordEnd(s.charCodeAt(j))) j++;
      word(i, j);
    }
  }
  return out;
}

const KEYWORDS = new Set(['from', 'by', 'via', 'with', 'id', 'for']);
type Clause = 'from' | 'by' | 'via' | 'with' | 'id' | 'for';

function clip(s: string, max = MAX_FIELD_CHARS): string {
  return s.length > max ? s.slice(0, max) : s;
}

/** `host.example.` → `host.example`, lower case; null for empty. */
function hostName(s: string | undefined): string | null {
  if (s === undefined) return null;
  const h = s.trim().replace(/\.+$/, '').toLowerCase();
  return h.length === 0 ? null : clip(h, 255);
}

/** What the comments of a `from` clause say about the client. */
interface ClientInfo {
  ip: string | null;
  rdns: string | null;
  helo: string | null;
  forged: boolean;
  unknownRdns: boolean;
  /** The address came in a bare comment `(ip)` / `(user@ip)`, qmail's and Exchange's form, not `[ip]`. */
  bareIp: boolean;
}

/** Reads one `from`-clause comment: `rdns [ip]`, `[ip]:port helo=x`, `HELO x`, `ip`, `user@ip with login`. */
function readComment(text: string, info: ClientInfo): void {
  if (/may be forged/i.test(text)) info.forged = true;
  const heloMatch = /(?:^|[\s(])(?:helo=|HELO\s+|EHLO\s+)([^\s()\]]+)\]?/i.exec(text);
  if (heloMatch && info.helo === null) info.helo = hostName(heloMatch[1]);
  // The greeting is the client's own word: an address it names (`HELO 192.0.2.7`, `helo=[10.0.0.1]`) is
  // never the client's address, which the receiver writes apart (qmail: `(HELO 192.0.2.7) (198.51.100.4)`).
  const rest =
    heloMatch === null ? text : text.slice(0, heloMatch.index) + text.slice(heloMatch.index + heloMatch[0].length);
  const bracket = /(?:([^\s[\]()]+)\s+)?\[([^\]]+)\]/.exec(rest);
  if (bracket) {
    const ip = normaliseIp((bracket[2] ?? '').split(/\s/)[0] ?? '');
    if (ip !== null && info.ip === null) {
      info.ip = ip;
      const before = bracket[1];
      if (before !== undefined && !/^(?:helo|ehlo)=?/i.test(before)) {
        const name = before.includes('@') ? before.slice(before.lastIndexOf('@') + 1) : before;
        if (/^unknown$/i.test(name)) info.unknownRdns = true;
        else if (normaliseIp(name) === null && info.rdns === null) info.rdns = hostName(name);
      }
      return;
    }
  }
  if (info.ip !== null) return;
  // Exchange `(203.0.113.5)`, `(2603:10b6:408:e6::28)`, qmail `(user@198.51.100.7 with login)`.
  for (const word of rest.split(/[\s,]+/).slice(0, 4)) {
    const candidate = word.includes('@') ? word.slice(word.lastIndexOf('@') + 1) : word;
    const ip = normaliseIp(candidate);
    if (ip !== null) {
      info.ip = ip;
      info.bareIp = true;
      return;
    }
  }
  if (/^unknown$/i.test(text.trim())) info.unknownRdns = true;
}

/** Whether a comment is the receiver's note of a login (Postfix): the name in it is the client's account's. */
const LOGIN_COMMENT = /^\s*authenticated\s+(?:sender|user)\s*:/i;

/**
 * Interprets the tokens of the `from` clause. The client's greeting comes first, as one word on the wire with
 * whatever it glued to it (`x(192.0.2.7)`, `(192.0.2.7)`, `[192.0.2.7]`): the receiver writes what it saw of the
 * connection after it, in a comment of its own (`(rdns [ip])`, qmail's `(HELO x) (ip)`, Exchange's `(ip)`). So the
 * address is read from the last comment or literal after the greeting that names one (a login note aside), and the
 * greeting is read for an address only when nothing follows it (`from ([192.0.2.1])`, `from [192.0.2.1]` with a
 * `(helo=…)` comment: no greeting written).
 */
function readFrom(tokens: Token[]): Pick<ParsedReceived, 'fromHelo' | 'fromRdns' | 'fromIp'> & {
  ambiguous: boolean;
  forged: boolean;
  unknownRdns: boolean;
  bareIp: boolean;
  leadingName: boolean;
} {
  const info: ClientInfo = { ip: null, rdns: null, helo: null, forged: false, unknownRdns: false, bareIp: false };
  const first = tokens[0];
  let firstName: string | null = null;
  let firstIp: string | null = null;
  if (first?.kind === 'word' || first?.kind === 'literal') {
    const ip = normaliseIp(first.text);
    if (ip !== null) firstIp = ip;
    else firstName = hostName(first.text);
  }
  // The greeting: the first token and every token glued to it.
  let after = first === undefined ? 0 : 1;
  while (after < tokens.length && tokens[after]?.glued === true) after++;
  const rest = tokens.slice(after);
  // The receiver's notes, in order; the address comes from the last one that names one.
  let chosen: ClientInfo | null = null;
  for (const t of rest) {
    if (t.kind === 'comment') {
      if (LOGIN_COMMENT.test(t.text)) continue;
      const one: ClientInfo = {
        ip: null,
        rdns: null,
        helo: null,
        forged: false,
        unknownRdns: false,
        bareIp: false,
      };
      readComment(t.text, one);
      if (one.forged) info.forged = true;
      if (one.helo !== null && info.helo === null) info.helo = one.helo;
      if (one.ip !== null) chosen = one;
      else if (one.unknownRdns && chosen === null) info.unknownRdns = true;
    } else if (t.kind === 'literal') {
      const ip = normaliseIp(t.text);
      if (ip !== null) chosen = { ip, rdns: null, helo: null, forged: false, unknownRdns: false, bareIp: false };
    }
  }
  if (chosen !== null) {
    info.ip = chosen.ip;
    info.rdns = chosen.rdns;
    info.bareIp = chosen.bareIp;
    if (chosen.unknownRdns) info.unknownRdns = true;
  } else if (first?.kind === 'comment') {
    // `from (127.0.0.1 [127.0.0.1])`, `from ([192.0.2.1]) (authenticated bits=0)`: no greeting, and no note after it
    // names an address: the first comment is the receiver's note.
    readComment(first.text, info);
  }
  // Exchange 5.5 SMTPSVC: `from helo - 192.0.2.1 by …`.
  const second = tokens[1];
  const third = tokens[2];
  if (info.ip === null && second?.kind === 'word' && second.text === '-' && third?.kind === 'word')
    info.ip = normaliseIp(third.text);
  const explicitHelo = info.helo;
  // qmail's and cp.net's forms lead with the address the receiver saw (`from 192.0.2.7 (HELO x)`, `… (EHLO x) (ip)`),
  // and a greeting with white space in it (qmail takes the whole line) can add a comment after its own: two
  // addresses where the receiver wrote one. Neither is read then (`address-ambiguous`): the walk stops at the hop.
  // Yahoo's `from 127.0.0.1 (EHLO x) (ip)` leads with its own proxy's loopback address: the client is the last one.
  const ambiguous =
    explicitHelo !== null &&
    firstIp !== null &&
    info.ip !== null &&
    info.ip !== firstIp &&
    classifyIp(firstIp) === 'public';
  const ip = ambiguous ? null : (info.ip ?? firstIp);
  let helo: string | null;
  let rdns = info.rdns;
  if (explicitHelo !== null) {
    // Exim / qmail / Yahoo: the leading name is the receiver's reverse-DNS name (or `unknown`).
    helo = explicitHelo;
    if (rdns === null && firstName !== null) {
      if (firstName === 'unknown') info.unknownRdns = true;
      else rdns = firstName;
    }
  } else {
    // Sendmail / Postfix / Exchange / Gmail: the leading name is the HELO.
    helo = firstName;
  }
  return {
    fromHelo: helo,
    fromRdns: rdns,
    fromIp: ip,
    ambiguous,
    forged: info.forged,
    unknownRdns: info.unknownRdns,
    bareIp: info.bareIp && info.rdns === null,
    leadingName: firstName !== null && firstName !== 'unknown',
  };
}

const TLS_PROTOCOL =
  /^(?:E?SMTPS|ESMTPSA|ESMTPS|LMTPS|LMTPSA|UTF8SMTPS|UTF8SMTPSA|UTF8LMTPS|UTF8LMTPSA|HTTPS|IMAPS|POP3S)$/;
const TLS_COMMENT = /version=TLS|using TLS|TLSv1|TLS1_[0-3]|Google Transport Security|cipher=|\bSSLv3\b|\(TLS\b/i;

/** `with` words of a mailbox pickup (POP3, IMAP4, IMAPS, …). */
const RETRIEVAL_PROTOCOL = /^(?:POP|POP3|POP3S|IMAP|IMAP4|IMAP4REV1|IMAPS)(?:-SSL)?$/;
/** The retrieval tools that write a Received field of their own, as they name themselves (`fetchmail-6.4.0`). */
const RETRIEVAL_AGENT = /^(?:fetchmail|getmail6?)(?:-[0-9][0-9.]*)?$/i;

/** Whether the `with` clause names a retrieval tool: a word `getmail6`, a comment `(fetchmail-6.4.0 …)`. */
function retrievalAgent(tokens: readonly Token[] | undefined): boolean {
  for (const t of tokens ?? NO_TOKENS) {
    if (t.kind === 'word' && RETRIEVAL_AGENT.test(t.text)) return true;
    if (t.kind === 'comment' && RETRIEVAL_AGENT.test(t.text.trim().split(/\s/, 1)[0] ?? '')) return true;
  }
  return false;
}

/** `with` words qmail-smtpd writes (SMTP, ESMTP, with AUTH: ESMTPA/SMTPA, with TLS: ESMTPS/ESMTPSA; QMQP). */
const QMAIL_PROTOCOL = /^(?:E?SMTPS?A?|QMQP)$/;

/** The receiver's own address written beside its name in the `by` clause: `by host ([ip])`, `by host (ip)`. */
function readByIp(tokens: Token[]): string | null {
  for (let i = 1; i < 3 && i < tokens.length; i++) {
    const t = tokens[i];
    if (t === undefined) break;
    if (t.kind === 'literal') return normaliseIp(t.text);
    if (t.kind === 'comment') {
      const inner = t.text.trim();
      const m = /^\[?([0-9A-Fa-f.:]+)(?:%\w+)?\]?$/.exec(inner);
      if (m) return normaliseIp(m[1] ?? '');
    }
  }
  return null;
}

const SCRATCH_DATE = new Date(0);
/** Printable ASCII with no `(` and no two spaces in a row. */
const PLAIN_DATE = /^(?:[!-'*-~]| (?! ))*$/;

/** Parses the date part (`Tue, 19 Sep 2023 18:36:46 +0000 (UTC)`) to ISO 8601, or null. */
export function parseReceivedDate(text: string): string | null {
  // Most dates are plain printable ASCII without a comment or a double space: nothing to clean.
  const s = PLAIN_DATE.test(text)
    ? text.trim()
    : text
        .replace(/\([^)]*\)/g, ' ')
        .replace(/\s+/g, ' ')
        .trim();
  if (s.length === 0 || s.length > 80) return null;
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) return null;
  // One Date reused: allocating two per header was most of this function's cost.
  SCRATCH_DATE.setTime(ms);
  const year = SCRATCH_DATE.getUTCFullYear();
  return year < 1980 || year > 2200 ? null : SCRATCH_DATE.toISOString();
}

const NO_TOKENS: readonly Token[] = [];

/** Whether a comment among these tokens says the hop used TLS. */
function saysTls(tokens: readonly Token[]): boolean {
  for (const t of tokens) if (t.kind === 'comment' && TLS_COMMENT.test(t.text)) return true;
  return false;
}

/** Parses one Received header value (without the `Received:` name). Never throws. */
export function parseReceived(value: string): ParsedReceived {
  const text = value.length > MAX_RECEIVED_CHARS ? value.slice(0, MAX_RECEIVED_CHARS) : value;
  const tokens = tokenise(text);
  // The date follows the last top-level semicolon (RFC 5322 §3.6.7).
  let lastSemi = -1;
  tokens.forEach((t, i) => {
    if (t.kind === 'semi') lastSemi = i;
  });
  const body = lastSemi >= 0 ? tokens.slice(0, lastSemi) : tokens;
  const semiAt = text.lastIndexOf(';');
  // A cut-off line's last semicolon may be inside what the client wrote (a long `for` address): no date then.
  const date =
    text.length === value.length && lastSemi >= 0 && semiAt >= 0 ? parseReceivedDate(text.slice(semiAt + 1)) : null;

  const clauses = new Map<Clause, Token[]>();
  let current: Clause | null = null;
  const leading: Token[] = [];
  for (let k = 0; k < body.length; k++) {
    const t = body[k];
    // What follows `from` is the client's greeting first, whatever it says (`HELO by`, `HELO with`): a keyword
    // there, or glued to it, opens no clause.
    const greeting = current === 'from' && (clauses.get('from')?.length === 0 || t.glued === true);
    if (t.kind === 'word' && !greeting && KEYWORDS.has(t.text.toLowerCase())) {
      const key = t.text.toLowerCase() as Clause;
      if (!clauses.has(key)) {
        current = key;
        clauses.set(key, []);
        continue;
      }
    }
    if (t.kind === 'semi') continue;
    if (current === null) leading.push(t);
    else clauses.get(current)?.push(t);
  }

  const notes: string[] = [];
  let fromTokens = clauses.get('from');
  // Comment-only forms: `(from user@localhost)`, `(qmail 123 invoked from network)`.
  if (fromTokens === undefined && leading[0]?.kind === 'comment') {
    notes.push('comment-only');
    const inner = leading[0].text.trim();
    if (/^from\s/i.test(inner)) {
      const rest = tokenise(inner.slice(5));
      const who = rest[0];
      if (who?.kind === 'word' && who.text.includes('@')) notes.push('local-submission');
      else fromTokens = rest;
    } else if (/^qmail\b/i.test(inner)) {
      notes.push(/invoked from network/i.test(inner) ? 'qmail-from-network' : 'local-submission');
    }
  }
  const from = fromTokens
    ? readFrom(fromTokens)
    : {
        fromHelo: null,
        fromRdns: null,
        fromIp: null,
        ambiguous: false,
        forged: false,
        unknownRdns: false,
        bareIp: false,
        leadingName: false,
      };
  if (from.forged) notes.push('rdns-may-be-forged');
  if (from.ambiguous) notes.push('address-ambiguous');
  if (from.unknownRdns) notes.push('rdns-unknown');

  const byTokens = clauses.get('by') ?? [];
  const byFirst = byTokens.find((t) => t.kind === 'word' || t.kind === 'literal');
  const byHost = byFirst && (byFirst.kind === 'word' || byFirst.kind === 'literal') ? hostName(byFirst.text) : null;
  const byIp = readByIp(byTokens);

  // Plain loops rather than filter/map/spread chains: the arrays those make differ in element kind from one header
  // to the next (empty, strings), and each new kind made V8 throw away this function's optimised code (issue 17).
  let withText = '';
  let firstWith: string | null = null;
  for (const t of clauses.get('with') ?? NO_TOKENS) {
    if (t.kind !== 'word') continue;
    withText = firstWith === null ? t.text : `${withText} ${t.text}`;
    firstWith ??= t.text;
  }
  let protocol: string | null = null;
  if (/^microsoft\s+smtp/i.test(withText)) protocol = 'SMTP';
  else if (firstWith !== null) protocol = clip(firstWith.replace(/[^A-Za-z0-9_-]/g, '').toUpperCase(), 20) || null;
  const viaTokens = clauses.get('via') ?? [];
  const viaWord = viaTokens.find((t) => t.kind === 'word');
  if (viaWord?.kind === 'word' && /^https?$/i.test(viaWord.text)) {
    if (protocol === null) protocol = viaWord.text.toUpperCase();
    notes.push('webmail-http');
  }

  // RFC 3848 registers no POP/IMAP "with" values: fetchmail writes `with POP3 (fetchmail-6.4.0)`,
  // getmail6 `from pop.example by host with POP3-SSL getmail6 for <…>`, POPDOWN `with POP`.
  // The agent counts only where the receiver names its own software, in the `with` clause: a client's greeting, reverse
  // name or envelope sender (`fetchmail.example`, `(envelope-from fetchmail@…)`) says nothing of who wrote the field.
  if ((protocol !== null && RETRIEVAL_PROTOCOL.test(protocol)) || retrievalAgent(clauses.get('with')))
    notes.push('retrieval');
  let tls: boolean | null = null;
  // Any comment of the header's body (those of the `with` clause among them) that says TLS.
  if ((protocol !== null && TLS_PROTOCOL.test(protocol)) || saysTls(body)) tls = true;
  else if (protocol !== null && /^(?:E?SMTPA?|LMTP|HTTP|UTF8SMTPA?)$/.test(protocol)) tls = false;

  // qmail-smtpd writes `from <TCPREMOTEHOST> (HELO <helo>) (<info>@<ip>) by <host> with SMTP`, without
  // an id and without the receiver's address, and leaves out `(HELO …)` when the greeting equals the
  // reverse name. Exchange's `from helo (ip)` always carries `id` (and names itself with its address).
  if (
    from.bareIp &&
    from.leadingName &&
    byIp === null &&
    !clauses.has('id') &&
    protocol !== null &&
    QMAIL_PROTOCOL.test(protocol) &&
    !/^microsoft/i.test(withText)
  ) {
    notes.push(from.fromRdns !== null ? 'rdns-unverified' : 'qmail-name');
  }
  const idTok = (clauses.get('id') ?? []).find((t) => t.kind === 'word' || t.kind === 'angle');
  const id =
    idTok && (idTok.kind === 'word' || idTok.kind === 'angle') ? clip(idTok.text.replace(/[;,]+$/, ''), 200) : null;
  const forTok = (clauses.get('for') ?? []).find((t) => t.kind === 'word' || t.kind === 'angle');
  const forAddr =
    forTok && (forTok.kind === 'word' || forTok.kind === 'angle') ? clip(forTok.text.replace(/[;,]+$/, '')) : null;

  const parsed = byHost !== null || from.fromIp !== null || from.fromHelo !== null || notes.includes('comment-only');
  return {
    fromHelo: from.fromHelo,
    fromRdns: from.fromRdns,
    fromIp: from.fromIp,
    byHost,
    byIp,
    protocol,
    tls,
    id,
    for: forAddr,
    date,
    parsed,
    notes,
  };
}
