/**
 * A seeded generator of personalised copies of a real spam, for measuring clustering: it does to
 * one corpus message what a bulk sender does per recipient, so the copies form one known
 * campaign. Per copy (recipient), with a seeded PRNG (mulberry32), it
 *
 * - addresses it to a new recipient (`To: "First Last" <first.last@…>`), and sometimes names them
 *   in the subject ("Anna, …");
 * - prepends a greeting with the name ("Dear Anna Martin,", "Hi Anna,", "Hello anna.martin,", …);
 * - rewrites every advertised link into a per-recipient URL (tracking query or path token;
 *   the registrable domain is kept, as the sender needs it to resolve);
 * - adds a reference number and a date line that differ per copy, and a footer with the address;
 * - appends a random "hash-buster" line (random letters and digits).
 *
 * The same seed gives the same copies, byte for byte (`raw` is plain MIME built here: no random
 * boundaries or ids from a mail library).
 */
import { mulberry32 } from '../core/prng.ts';

export interface BaseMessage {
  subject: string;
  from: string;
  text: string;
  /** Advertised links of the original (they are made per-recipient). */
  urls: readonly string[];
}

export interface Recipient {
  first: string;
  last: string;
  address: string;
}

const FIRST = [
  'Anna',
  'Marc',
  'Julie',
  'Pierre',
  'Sofia',
  'Lukas',
  'Emma',
  'Jan',
  'Chloé',
  'Mohamed',
  'Olga',
  'Pablo',
  'Ines',
  'Tomasz',
  'Eva',
  'Noah',
  'Léa',
  'Ahmed',
  'Giulia',
  'Henrik',
];
const LAST = [
  'Martin',
  'Bernard',
  'Dubois',
  'Schmidt',
  'Rossi',
  'García',
  'Kowalski',
  'Novak',
  'Jensen',
  'Petit',
  'Moreau',
  'Fischer',
  'Silva',
  'Nielsen',
  'Laurent',
  'Horvat',
  'Costa',
  'Weber',
  'Leroy',
  'Ivanova',
];
const DOMAINS = ['example.org', 'example.net', 'mail.example', 'corp.example', 'fai.example'];

export type Rng = () => number;

export function seededRng(seed: number): Rng {
  return mulberry32(seed);
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}

function token(rng: Rng, n: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rng() * alphabet.length)];
  return s;
}

function ascii(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
}

export function makeRecipient(rng: Rng): Recipient {
  const first = pick(rng, FIRST);
  const last = pick(rng, LAST);
  return { first, last, address: `${ascii(first)}.${ascii(last)}${Math.floor(rng() * 100)}@${pick(rng, DOMAINS)}` };
}

/** A per-recipient variant of a URL: same host, a tracking token in the query or the path. */
export function personaliseUrl(url: string, rng: Rng): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (rng() < 0.5) u.searchParams.set(pick(rng, ['uid', 'u', 'ref', 'trk', 'id']), token(rng, 12));
  else u.pathname = `${u.pathname.replace(/\/$/, '')}/${token(rng, 16)}`;
  return u.toString();
}

/** The personalised text of one copy (subject and body). */
export function personaliseText(base: BaseMessage, r: Recipient, rng: Rng): { subject: string; body: string } {
  const greetings = [
    `Dear ${r.first} ${r.last},`,
    `Hi ${r.first},`,
    `Hello ${r.address.split('@')[0]},`,
    `Dear ${r.first.toUpperCase()},`,
    `Bonjour ${r.first},`,
    `Good day ${r.first} ${r.last},`,
  ];
  const lines: string[] = [];
  if (rng() < 0.9) lines.push(pick(rng, greetings), '');
  let text = base.text;
  for (const url of base.urls) text = text.split(url).join(personaliseUrl(url, rng));
  lines.push(text.trim(), '');
  for (const url of base.urls.slice(0, 3)) lines.push(personaliseUrl(url, rng));
  const day = new Date(
    Date.UTC(2024, Math.floor(rng() * 12), 1 + Math.floor(rng() * 28), Math.floor(rng() * 24), Math.floor(rng() * 60)),
  );
  lines.push('', `Reference: ${token(rng, 8, 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789')}`, `Sent: ${day.toUTCString()}`);
  lines.push(`This message was sent to ${r.address}.`);
  if (rng() < 0.8)
    lines.push(
      '',
      Array.from({ length: 3 + Math.floor(rng() * 4) }, () => token(rng, 6 + Math.floor(rng() * 8))).join(' '),
    );
  const subject = rng() < 0.5 ? `${r.first}, ${base.subject}` : base.subject;
  return { subject, body: lines.join('\n') };
}

function encodeWord(s: string): string {
  return /^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}

/** Builds the raw RFC 5322 copy (text/plain, UTF-8, base64). Deterministic for a given rng state. */
export function personalise(base: BaseMessage, r: Recipient, rng: Rng, index: number): Buffer {
  const { subject, body } = personaliseText(base, r, rng);
  const date = new Date(Date.UTC(2025, 0, 1) + Math.floor(rng() * 300 * 86400) * 1000);
  const b64 = Buffer.from(body, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  const from = base.from.replace(/[\r\n]/g, ' ').slice(0, 200) || 'sender@spam.example';
  const head = [
    `From: ${encodeWord(from)}`,
    `To: "${encodeWord(`${r.first} ${r.last}`)}" <${r.address}>`,
    `Subject: ${encodeWord(subject.replace(/[\r\n]/g, ' ').slice(0, 300))}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <gen-${index}-${token(rng, 10)}@generator.spamdesk.invalid>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
  ];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${b64}\r\n`, 'utf8');
}
