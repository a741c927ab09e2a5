/**
 * Test support for the leak test: one reporter identity, every form it can take in a message,
 * and a generator that plants all of those forms into real corpus messages (headers and the
 * decoded text of their text parts, re-encoded in the part's own transfer encoding, sometimes
 * switched to quoted-printable so a soft line break falls inside the address).
 *
 * The identity has an internationalised domain so both its Unicode and punycode (RFC 3492) forms
 * occur, and that domain is the recipient's own mail host (`mx1.léa-martin.fr`).
 */
import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { parseHeaderBlock, walkMime, decodeTransfer, type MimeEntity } from '../mail/mime-walk.ts';

export const LEAK_NAME = 'Léa Martin';
export const LEAK_DOMAIN = 'léa-martin.fr';
export const LEAK_DOMAIN_ASCII = domainToASCII(LEAK_DOMAIN);
export const LEAK_ADDRESS = `lea.martin@${LEAK_DOMAIN}`;
export const LEAK_ADDRESS_ASCII = `lea.martin@${LEAK_DOMAIN_ASCII}`;
export const LEAK_PHONE = '+33612345678';
export const LEAK_MAIL_HOST = `mx1.${LEAK_DOMAIN_ASCII}`;

const hex = (algo: string, s: string): string => createHash(algo).update(s, 'utf8').digest('hex');
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
const pct = (s: string): string => encodeURIComponent(s);
const pctAll = (s: string): string =>
  [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
const entitiesAll = (s: string): string => [...s].map((c) => `&#${c.codePointAt(0)};`).join('');
/** ASCII printable characters as their fullwidth forms (U+FF01–FF5E). */
const fullwidth = (s: string): string =>
  s.replace(/[\x21-\x7e]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

/** The forms planted in every message, each with the encoding it exercises (for the report). */
export const PLANTED_FORMS = [
  'plain address (Unicode and punycode domain, upper case)',
  'RFC 2047 encoded name (Q and B, split across words) in To and Subject',
  'recipient header fields (To, Delivered-To, X-Original-To, Received for <…>)',
  'the recipient’s own mail host (Received by, Authentication-Results authserv-id)',
  'name whole, reversed, upper case, accent-folded; first name alone',
  'local part alone',
  'phone number national, international, 00-prefixed',
  'percent-encoded address in a URL query',
  'fully percent-encoded address',
  '+-encoded name in a URL query (form encoding, UTF-8 percent-escapes)',
  'base64 of the address as a URL query value',
  'base64url of the punycode address',
  'base64 of a longer token holding the address, at byte alignment 0, 1 and 2',
  'MD5, SHA-1, SHA-256 hex of the address (lower, upper, as written)',
  'hex encoding of the address',
  'HTML character references (numeric, hexadecimal, named) in HTML parts',
  'quoted-printable (soft line break inside the address)',
  'as a reader sees it: fullwidth, a zero-width space and inline tags inside the address, a tag attribute holding >, \
a hidden element with junk between letters (HTML parts)',
  'script escapes: \\x and \\u escapes, String.fromCharCode (HTML parts)',
] as const;

/** The text planted into a text/plain part; `i` varies case, alignment and phone format. */
export function plantedText(i: number): string {
  const greet = ['Bonjour Léa,', 'Hello LEA,', 'Dear Martin Léa,', 'Chère Lea MARTIN,'][i % 4];
  const phone = ['06 12 34 56 78', '+33 6 12 34 56 78', '0033612345678', '06.12.34.56.78'][i % 4];
  const prefix = ['', 'u', 'id'][i % 3];
  const token = b64(`${prefix}=${LEAK_ADDRESS};campaign=${1000 + i};ts=1767225600`);
  return [
    greet,
    `Votre identifiant : lea.martin — compte ${i % 2 ? LEAK_ADDRESS.toUpperCase() : LEAK_ADDRESS}.`,
    `Nous vous rappellerons au ${phone}.`,
    `Vérifiez votre compte : https://secure-verify.example/login?u=${pct(LEAK_ADDRESS_ASCII)}&n=\
${pct(LEAK_NAME).replace(/%20/g, '+')}`,
    `Suivi : https://trk.example/o?e=${b64(LEAK_ADDRESS)}&e2=${b64url(LEAK_ADDRESS_ASCII)}&d=${token}`,
    `Pixel : https://trk.example/p.gif?h=${hex('md5', LEAK_ADDRESS)}&s=${hex('sha1', LEAK_ADDRESS_ASCII).toUpperCase()}\
&k=${hex('sha256', LEAK_ADDRESS)}&x=${Buffer.from(LEAK_ADDRESS_ASCII).toString('hex')}`,
    `Redirection : https://r.example/?to=${pctAll(LEAK_ADDRESS_ASCII)}`,
    // Long enough that quoted-printable soft-breaks inside the address.
    `${'Votre messagerie '.repeat(3)}${LEAK_ADDRESS_ASCII} est presque pleine (serveur ${LEAK_MAIL_HOST}).`,
    '',
  ].join('\n');
}

/** The markup planted into a text/html part. */
export function plantedHtml(i: number): string {
  return [
    `<p>Bonjour L&eacute;a, ${['LÉA MARTIN', 'l&#233;a martin', 'L&#xE9;a Martin'][i % 3]}</p>`,
    `<p>Compte : ${entitiesAll(LEAK_ADDRESS_ASCII)}</p>`,
    `<p>lea.martin&#64;${LEAK_DOMAIN_ASCII.replace(/\./g, '&period;')}</p>`,
    `<a href="https://secure-verify.example/login?u=${pct(LEAK_ADDRESS)}&amp;r=1">V&eacute;rifier</a>`,
    `<img src="https://trk.example/p.gif?e=${b64(LEAK_ADDRESS_ASCII)}&amp;h=${hex('md5', LEAK_ADDRESS_ASCII)}" \
width="1" height="1">`,
    `<p>${fullwidth(LEAK_ADDRESS_ASCII)} · lea.mar\u200btin@${LEAK_DOMAIN_ASCII} · \
lea.mar<span></span>tin@<b></b>${LEAK_DOMAIN_ASCII} · lea.mar<span title="a>b">tin@</span>${LEAK_DOMAIN_ASCII} \
· lea.mar<span style="display:none">zz@trk.example</span>tin@${LEAK_DOMAIN_ASCII}</p>`,
    `<script>var u = "${[...LEAK_ADDRESS_ASCII].map((c) => `\\x${c.charCodeAt(0).toString(16)}`).join('')}"; \
var v = String.fromCharCode(${[...LEAK_ADDRESS_ASCII].map((c) => c.charCodeAt(0)).join(', ')});</script>`,
    // Everything the text part carries too (an HTML-only message has no text part).
    `<pre>${plantedText(i).replace(/&/g, '&amp;').replace(/</g, '&lt;')}</pre>`,
    '',
  ].join('\n');
}

function eolOf(buf: Buffer): string {
  return buf.includes('\r\n') ? '\r\n' : '\n';
}

/** RFC 2045 §6.7 quoted-printable, soft line breaks at 76 characters (test support's own encoder). */
function toQuotedPrintable(data: Buffer, eol: string): string {
  const lines = data.toString('latin1').split(/\r?\n/);
  return lines
    .map((line) => {
      let enc = '';
      for (let i = 0; i < line.length; i++) {
        const c = line.charCodeAt(i);
        const last = i === line.length - 1;
        enc +=
          (c >= 33 && c <= 126 && c !== 61) || ((c === 32 || c === 9) && !last)
            ? line[i]
            : `=${c.toString(16).toUpperCase().padStart(2, '0')}`;
      }
      const out: string[] = [];
      while (enc.length > 75) {
        let cut = 75;
        if (enc[cut - 1] === '=') cut -= 1;
        else if (enc[cut - 2] === '=') cut -= 2;
        out.push(`${enc.slice(0, cut)}=`);
        enc = enc.slice(cut);
      }
      out.push(enc);
      return out.join(eol);
    })
    .join(eol);
}

function base64Lines(data: Buffer, eol: string): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join(eol) + eol;
}

/** The first leaf of a content type that is not an attachment. */
function firstLeaf(e: MimeEntity, type: string): MimeEntity | null {
  if (e.children.length > 0) {
    if (e.contentType === 'message/rfc822' || e.contentType === 'message/global') return null;
    for (const c of e.children) {
      const f = firstLeaf(c, type);
      if (f) return f;
    }
    return null;
  }
  return e.contentType === type && e.disposition !== 'attachment' ? e : null;
}

/** Replaces a leaf's body (and transfer encoding) with planted text before its own. */
function plantLeaf(
  buf: Buffer,
  e: MimeEntity,
  planted: string,
  html: boolean,
  qp: boolean,
): { start: number; end: number; bytes: Buffer } {
  const eol = eolOf(buf);
  const header = buf.subarray(e.start, e.bodyStart).toString('latin1');
  const body = decodeTransfer(Buffer.from(buf.subarray(e.bodyStart, e.end)), e.transferEncoding);
  const charset = (e.params.charset ?? 'us-ascii').toLowerCase();
  const plantedBytes = Buffer.from(planted.replace(/\n/g, eol), /utf-?8/.test(charset) ? 'utf8' : 'latin1');
  let text = body.toString('latin1');
  let combined: Buffer;
  if (html) {
    const at = /<body[^>]*>/i.exec(text);
    const cut = at ? at.index + at[0].length : 0;
    combined = Buffer.concat([
      Buffer.from(text.slice(0, cut), 'latin1'),
      plantedBytes,
      Buffer.from(text.slice(cut), 'latin1'),
    ]);
  } else {
    combined = Buffer.concat([plantedBytes, body]);
    text = '';
  }
  const cte = qp
    ? 'quoted-printable'
    : e.transferEncoding === 'base64'
      ? 'base64'
      : e.transferEncoding === 'quoted-printable'
        ? 'quoted-printable'
        : '8bit';
  const encoded =
    cte === 'base64'
      ? base64Lines(combined, eol)
      : cte === 'quoted-printable'
        ? `${toQuotedPrintable(combined, eol)}${eol}`
        : combined.toString('latin1');
  // The part's header with its transfer encoding replaced (folded continuation lines included).
  const newHeader = header
    .replace(/^content-transfer-encoding:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*\r?\n?/gim, '')
    .replace(/[\r\n]+$/, '');
  const headerBlock =
    newHeader.length > 0
      ? `${newHeader}${eol}Content-Transfer-Encoding: ${cte}${eol}${eol}`
      : `Content-Transfer-Encoding: ${cte}${eol}${eol}`;
  return { start: e.start, end: e.end, bytes: Buffer.from(`${headerBlock}${encoded}`, 'latin1') };
}

/** New and rewritten header fields naming the recipient. */
function plantHeaders(head: string, i: number, eol: string): string {
  const nameWord = [
    `=?UTF-8?Q?L=C3=A9a_Martin?=`,
    `=?UTF-8?B?${b64(LEAK_NAME)}?=`,
    `=?UTF-8?Q?L=C3=A9a?= =?UTF-8?Q?_Martin?=`,
    `=?ISO-8859-1?Q?L=E9a_MARTIN?=`,
  ][i % 4];
  let h = head
    // An mbox envelope line (`From sender date`) is not part of the message.
    .replace(/^From [^\r\n]*\r?\n/, '')
    .replace(/^(to|cc|delivered-to|x-original-to|list-unsubscribe):[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*\r?\n?/gim, '')
    .replace(/\r?\n$/, '');
  // The recipient's mail host in the first Received header (the trace-back keeps its origin).
  h = h.replace(/^(received:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*?\bby\s+)([A-Za-z0-9.-]+)/im, `$1${LEAK_MAIL_HOST}`);
  h = h.replace(/^subject:[ \t]*/im, `Subject: =?UTF-8?Q?L=C3=A9a_Martin=2C?= `);
  if (!/^subject:/im.test(h)) h += `${eol}Subject: =?UTF-8?Q?L=C3=A9a_Martin=2C_votre_compte?=`;
  const split = `=?UTF-8?B?${b64('lea.mar')}?= =?UTF-8?B?${b64(`tin@${LEAK_DOMAIN}`)}?=`;
  const added = [
    `To: "${nameWord}" <${i % 2 ? LEAK_ADDRESS_ASCII : LEAK_ADDRESS_ASCII.toUpperCase()}>`,
    `Delivered-To: ${LEAK_ADDRESS_ASCII}`,
    `X-Original-To: ${split}`,
    `X-Received-For: by ${LEAK_MAIL_HOST} for <${LEAK_ADDRESS_ASCII}>`,
    `Authentication-Results: ${LEAK_MAIL_HOST}; spf=neutral smtp.mailfrom=${LEAK_DOMAIN_ASCII}`,
    `List-Unsubscribe: \
<https://lists.example/u?e=${b64(LEAK_ADDRESS)}&h=${hex('sha256', LEAK_ADDRESS_ASCII.toUpperCase())}>, \
<mailto:unsub@lists.example?subject=${pct(LEAK_ADDRESS)}>`,
  ];
  return `${added.join(eol)}${eol}${h}${eol}`;
}

/**
 * A real message with the identity planted in all its forms. `i` varies the encodings; every
 * third message has its text parts re-encoded as quoted-printable. Returns null for a message
 * with no header block.
 */
export function plantIdentity(original: Buffer, i: number): { raw: Buffer; bodyPlanted: boolean } | null {
  const eol = eolOf(original);
  const hb = parseHeaderBlock(original);
  if (hb.fields.length === 0) return null;
  const root = walkMime(original);
  const edits: { start: number; end: number; bytes: Buffer }[] = [];
  const qp = i % 3 === 1;
  const plain = firstLeaf(root, 'text/plain');
  const html = firstLeaf(root, 'text/html');
  // The root's own header block is rewritten below; a single-part message's body is planted here.
  if (plain && plain !== root) edits.push(plantLeaf(original, plain, plantedText(i), false, qp));
  if (html && html !== root) edits.push(plantLeaf(original, html, plantedHtml(i), true, qp));
  let body = original.subarray(hb.bodyStart);
  let rootHeader = original.subarray(0, hb.headerEnd).toString('latin1');
  if (plain === root || html === root) {
    const leaf = plantLeaf(original, root, plain === root ? plantedText(i) : plantedHtml(i), html === root, qp);
    const text = leaf.bytes.toString('latin1');
    const split = text.indexOf(`${eol}${eol}`);
    rootHeader = text.slice(0, split);
    body = Buffer.from(text.slice(split + eol.length * 2), 'latin1');
  } else {
    edits.sort((a, b) => b.start - a.start);
    let out = Buffer.from(original);
    for (const e of edits) out = Buffer.concat([out.subarray(0, e.start), e.bytes, out.subarray(e.end)]);
    body = out.subarray(hb.bodyStart);
  }
  const head = plantHeaders(rootHeader, i, eol);
  return { raw: Buffer.concat([Buffer.from(`${head}${eol}`, 'latin1'), body]), bodyPlanted: Boolean(plain || html) };
}

/** An SMS text with the reporter's name and number planted. */
export function plantSms(text: string, i: number): string {
  return `${i % 2 ? 'Léa' : 'LEA MARTIN'}, ${text} Rappel au ${i % 2 ? '06 12 34 56 78' : '+33612345678'}.`;
}
