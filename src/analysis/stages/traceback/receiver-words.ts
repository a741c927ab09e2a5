/**
 * The receiving side's own words in an authentication field (`Received-SPF`, `Authentication-Results`,
 * `ARC-Authentication-Results`), with what the sender chose blanked, and the clients its SPF result names. Shared by
 * the inbound gateway (`inbound-gateway.ts`) and the sealed hand-off (`sealed-handoff.ts`).
 */
import { normaliseIp } from './ip-class.ts';

/** Characters of one field read (a receiver's result is short; a long field is not scanned to its end). */
const MAX_SCAN = 1500;

/** Addresses per field kept (one SPF result names one client; a few fields carry two or three results). */
const MAX_PER_FIELD = 4;

/** The forms in which receivers name the client they checked SPF against. */
const CLIENT_FORMS: readonly RegExp[] = [
  /\bclient-ip=\[?([0-9a-f.:]{3,45})\]?/gi,
  /\bdesignates? ([0-9a-f.:]{3,45}) as permitted sender/gi,
  /\bdoes not designate ([0-9a-f.:]{3,45}) as permitted sender/gi,
  /\bsender IP is ([0-9a-f.:]{3,45})/gi,
];

/**
 * What the sender chose in a receiver's field, blanked before it is read: quoted strings, any token with an `@`
 * (the envelope sender, `domain of LOCAL@d`), and the values of the properties that carry the sender's words
 * (`smtp.mailfrom=`, `smtp.helo=`, `envelope-from=`, `helo=`, `identity=`, `header.*=`, `policy.*=`). A review
 * framed an address by sending from `client-ip=93.184.216.34@evil.example`.
 */
const QUOTED = /"(?:[^"\\]|\\.)*"/g;
const SENDER_PROPERTIES =
  /\b(?:smtp\.mailfrom|smtp\.helo|envelope-from|helo|identity|header\.[a-z]+|policy\.[a-z.-]+)=[^\s;]*/gi;
const TOKEN = /[^\s;()]+/g;

/** The receiving side's own words in one field, lower case: the sender's blanked, bounded (each pass linear). */
export function receiverText(value: string): string {
  return value
    .slice(0, MAX_SCAN)
    .replace(QUOTED, ' ')
    .replace(SENDER_PROPERTIES, ' ')
    .replace(TOKEN, (t) => (t.includes('@') ? ' ' : t))
    .toLowerCase();
}

/** The addresses one SPF field names as the client that was checked (`text` from {@link receiverText}). */
export function clientsOf(text: string): string[] {
  const out: string[] = [];
  for (const re of CLIENT_FORMS) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null && out.length < MAX_PER_FIELD; m = re.exec(text)) {
      // As written first (an IPv6 address may end in `::`), then without a sentence's trailing dot or colon.
      const ip = normaliseIp(m[1]) ?? normaliseIp(m[1].replace(/[.:]+$/, ''));
      if (ip !== null && !out.includes(ip)) out.push(ip);
    }
  }
  return out;
}
