/**
 * Who must not be identifiable in what leaves, and every form in which that identity can appear.
 *
 * A {@link ReporterIdentity} is what the platform knows about a reporter (addresses, names, phone
 * numbers). {@link identityForms} expands it, with the recipients a message itself names, into
 * what the redactor searches for: every address (both IDN forms, RFC 5890), the distinctive local
 * parts, the reporter's own mail domains unless a shared mailbox provider hosts them, names as
 * token sequences (matched accent- and case-insensitively, whole and by parts), and phone numbers.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { domainToASCII, domainToUnicode } from 'node:url';
import { getDomain } from 'tldts';
import { isSharedMailDomain } from './shared-mail-domains.ts';

/** Who must not be identifiable in what leaves. */
export interface ReporterIdentity {
  addresses: string[];
  names: string[];
  /** Phone numbers, any format (E.164 preferred). */
  numbers: string[];
  /**
   * The reporter redirected the message (intake `how: 'resent'`): the fields above the topmost resent block record the
   * way from the reporter to this instance (their machine at home, their provider) and leave no copy.
   */
  redirect?: boolean;
  /**
   * Addresses of the reporter's own mail servers (the relays of their own domain the trace-back believed): next to
   * a redacted host name, an IP literal names the same machine.
   */
  hostAddresses?: string[];
}

/** What a message says about its own recipient (a spam's recipient is its reporter). */
export interface RecipientIdentity {
  addresses: string[];
  /** Display names of the recipient fields, decoded. */
  names: string[];
  /**
   * Addresses as the message writes them, case kept (`Lea.Martin@Example.fr`): a tracker hashes the address its list
   * holds, and a hash cannot be matched in any case but its own.
   */
  spellings?: string[];
}

export interface NameForm {
  /** Accent-folded tokens in order, as written otherwise. */
  tokens: string[];
  /** Whether each token alone is redacted too ("Hello Léa"). */
  parts: boolean;
}

/** The identity expanded into what the redactor searches for. */
export interface IdentityForms {
  /** Addresses, the reporter's own first, lower case, each IDN domain in both forms. */
  addresses: string[];
  /** How many addresses (from the first) are also searched base64-, hex- and hash-encoded. */
  fullyEncoded: number;
  /** Local parts redacted on their own (distinctive ones only). */
  localParts: string[];
  /** Registrable domains whose host names identify the reporter (ASCII and Unicode forms). */
  domains: string[];
  names: NameForm[];
  /** Phone numbers: the national significant number, and the E.164 form when known. */
  numbers: { core: string; e164: string | null }[];
  /** Case spellings of the fully encoded addresses seen in the message, hashed as written. */
  spellings: string[];
  /** IP addresses of the reporter's own mail servers, as written (IPv6 lower case). */
  hostAddresses: string[];
}

/** Local parts too common to redact on their own (they would blank out ordinary words). */
const COMMON_LOCAL_PARTS = new Set([
  'info',
  'admin',
  'contact',
  'mail',
  'email',
  'user',
  'test',
  'hello',
  'support',
  'office',
  'sales',
  'team',
  'abuse',
  'postmaster',
  'webmaster',
  'noreply',
  'service',
  'news',
  'home',
  'paypal',
  'bank',
  'account',
  'spam',
  'report',
  'compta',
  'accueil',
  'bonjour',
  'direction',
  'secretariat',
  'mairie',
  'billing',
  'hr',
  'jobs',
  'careers',
  'marketing',
]);
/** Words of generic recipient display names ("Valued Customer"): never redacted alone. */
const GENERIC_NAME_WORDS = new Set([
  'customer',
  'customers',
  'client',
  'clients',
  'member',
  'members',
  'user',
  'users',
  'undisclosed',
  'recipient',
  'recipients',
  'valued',
  'dear',
  'friend',
  'friends',
  'sir',
  'madam',
  'madame',
  'monsieur',
  'mr',
  'mrs',
  'ms',
  'dr',
  'team',
  'info',
  'subscriber',
  'subscribers',
  'account',
  'owner',
  'holder',
  'abonne',
  'abonnes',
  'cher',
  'chere',
  'utilisateur',
  'destinataire',
  'destinataires',
  'the',
  'and',
  'for',
  'you',
  'your',
  'list',
  'mailing',
  'all',
  'staff',
  'contact',
  'service',
  'support',
  'admin',
  'webmaster',
]);
/** Shortest local part redacted on its own. */
const MIN_LOCAL_PART = 4;
/** Shortest name token redacted on its own. */
const MIN_NAME_PART = 3;
/** Han, kana and Hangul: a two-character name (王伟, 李娜) is common and as specific as a Latin one of five letters. */
const CJK = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]{2,}$/u;

/** Whether a name token (or a whole name's letters) is long enough to be redacted on its own. */
function longEnough(s: string): boolean {
  return s.length >= MIN_NAME_PART || CJK.test(s);
}
/** Recipients whose encoded forms (base64, hashes) are searched too (beyond: the address only). */
export const FULLY_ENCODED_RECIPIENTS = 5;
/** Most addresses redacted from one message (a spam To: list can hold thousands). */
export const MAX_ADDRESSES = 1000;
const ADDRESS_RE = /^[^\s@<>"]{1,128}@[^\s@<>"]{1,253}$/;

/**
 * Accent folding: canonical decomposition without combining marks, plus the letters that have no
 * decomposition (ß, æ, œ, ø, đ, ł, þ). "Léa Müller-Øberg" → "Lea Muller-Oberg".
 */
export function foldAccents(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/ß/g, 'ss')
    .replace(/[æÆ]/g, (c) => (c === 'æ' ? 'ae' : 'AE'))
    .replace(/[œŒ]/g, (c) => (c === 'œ' ? 'oe' : 'OE'))
    .replace(/[øØ]/g, (c) => (c === 'ø' ? 'o' : 'O'))
    .replace(/[đĐ]/g, (c) => (c === 'đ' ? 'd' : 'D'))
    .replace(/[łŁ]/g, (c) => (c === 'ł' ? 'l' : 'L'))
    .replace(/[þÞ]/g, (c) => (c === 'þ' ? 'th' : 'TH'));
}

/** An address with its domain in both IDN forms (RFC 5890): `léa@café.fr` and `léa@xn--caf-dma.fr`. */
export function addressVariants(address: string): string[] {
  const a = address.trim().replace(/^<|>$/g, '');
  const at = a.lastIndexOf('@');
  if (at <= 0) return [];
  const local = a.slice(0, at);
  const domain = a.slice(at + 1).replace(/\.$/, '');
  const out = new Set([`${local}@${domain}`.toLowerCase()]);
  const ascii = domainToASCII(domain);
  const unicode = domainToUnicode(ascii || domain);
  if (ascii) out.add(`${local}@${ascii}`.toLowerCase());
  if (unicode) out.add(`${local}@${unicode}`.toLowerCase());
  return [...out];
}

/** The registrable domain of an address when it identifies its owner (not a shared provider). */
export function identifyingDomain(address: string): string | null {
  const at = address.lastIndexOf('@');
  if (at < 0) return null;
  const host = domainToASCII(
    address
      .slice(at + 1)
      .trim()
      .replace(/\.$/, '')
      .toLowerCase(),
  );
  if (!host) return null;
  const reg = getDomain(host, { allowPrivateDomains: true });
  if (!reg || isSharedMailDomain(reg) || reg.endsWith('.invalid')) return null;
  return reg;
}

/** A name's words, accent-folded (`fold`: "Søren" → "Soren") or as written (NFC). */
function nameTokens(name: string, fold = true): string[] {
  const nfc = name.normalize('NFC');
  return (fold ? foldAccents(nfc) : nfc)
    .split(/[\s,;"<>()]+/)
    .map((t) => t.replace(/^[.'-]+|[.'-]+$/g, ''))
    .filter((t) => t.length > 0);
}

/**
 * The digits of a phone number that identify it, and its E.164 form when it is written so. The core is the national
 * significant number (ITU-T E.164), which every national and international way of writing the number ends with:
 * from the E.164 form when there is one (`+44 7815 296484` → 7815296484, `+1 415 555 0123` → 4155550123), else the
 * digits without a trunk prefix (`07815 296484` → 7815296484). The last nine digits, kept until 2026-12-07, fit
 * French numbers only: a UK, US, German or Italian number was never matched (a review saw a German reporter's own
 * number published in the MISP feed as a fraud number).
 */
function numberForm(num: string): { core: string; e164: string | null } | null {
  const trimmed = num.trim();
  const digits = trimmed.replace(/\D/g, '');
  if (digits.length < 6) return null;
  const e164 = trimmed.startsWith('+') ? `+${digits}` : trimmed.startsWith('00') ? `+${digits.slice(2)}` : null;
  const nsn = e164 === null ? null : (parsePhoneNumberFromString(e164)?.nationalNumber ?? null);
  const national = nsn !== null && nsn.length >= 6 ? nsn : digits.replace(/^0+/, '');
  return { core: national.length >= 6 ? national : digits, e164 };
}

/**
 * Expands an identity (and the recipients a message names) into the forms the redactor searches.
 * The reporter's own addresses come first, so their encoded forms are always searched.
 */
export function identityForms(
  identity: ReporterIdentity,
  recipients: RecipientIdentity = { addresses: [], names: [] },
): IdentityForms {
  const own = [...new Set(identity.addresses.flatMap((a) => (ADDRESS_RE.test(a.trim()) ? addressVariants(a) : [])))];
  const theirs = [
    ...new Set(recipients.addresses.flatMap((a) => (ADDRESS_RE.test(a.trim()) ? addressVariants(a) : []))),
  ].filter((a) => !own.includes(a));
  const addresses = [...own, ...theirs].slice(0, MAX_ADDRESSES);
  const fullyEncoded = Math.min(addresses.length, own.length + FULLY_ENCODED_RECIPIENTS);

  const localParts = new Set<string>();
  const domains = new Set<string>();
  for (const a of addresses.slice(0, fullyEncoded)) {
    const local = a.slice(0, a.lastIndexOf('@'));
    if (local.length >= MIN_LOCAL_PART && !COMMON_LOCAL_PARTS.has(local) && !/^\d+$/.test(local)) localParts.add(local);
    const reg = identifyingDomain(a);
    if (reg) {
      domains.add(reg);
      const unicode = domainToUnicode(reg);
      if (unicode && unicode !== reg) domains.add(unicode.toLowerCase());
    }
  }

  const names: NameForm[] = [];
  const seen = new Set<string>();
  const addTokens = (tokens: string[], generic: boolean, exact = false): void => {
    if (!longEnough(tokens.join(''))) return;
    // Written spellings are kept in each case: the byte views they are matched in fold only ASCII letters' case.
    const key = exact ? `=${tokens.join(' ')}` : tokens.join(' ').toLowerCase();
    if (seen.has(key)) return;
    // A display name that is only generic words ("Valued Customer") names nobody.
    if (generic && tokens.every((t) => GENERIC_NAME_WORDS.has(t.toLowerCase()))) return;
    seen.add(key);
    names.push({ tokens, parts: true });
  };
  // The folded spelling matches any accents on Latin letters ("Lea" in "Léa", "LÉA"); folding also rewrites letters
  // the message keeps as they are (ø → o, ß → ss, й → и, Hangul syllables into their letters): the spelling as
  // written is searched too, in its own case and in upper and lower case (a review saw "Søren", "Strauß",
  // "Сергей", "Королёв" and Korean names leave every artefact unredacted).
  const addName = (name: string, generic: boolean): void => {
    addTokens(nameTokens(name), generic);
    const written = nameTokens(name, false);
    if (written.join(' ') === nameTokens(name).join(' ')) return;
    for (const tokens of [written, written.map((t) => t.toLowerCase()), written.map((t) => t.toUpperCase())])
      addTokens(tokens, generic, true);
  };
  for (const n of identity.names) addName(n, false);
  for (const n of recipients.names.slice(0, FULLY_ENCODED_RECIPIENTS)) {
    // A display name that is an address says nothing the address does not.
    if (!n.includes('@')) addName(n, true);
  }

  const numbers = new Map<string, { core: string; e164: string | null }>();
  for (const n of identity.numbers) {
    const f = numberForm(n);
    if (f && !numbers.has(f.core)) numbers.set(f.core, f);
  }
  return {
    addresses,
    fullyEncoded,
    localParts: [...localParts],
    domains: [...domains],
    names,
    numbers: [...numbers.values()],
    spellings: (recipients.spellings ?? []).filter((w) => addresses.slice(0, fullyEncoded).includes(w.toLowerCase())),
    hostAddresses: [...new Set((identity.hostAddresses ?? []).filter((a) => IP_LITERAL.test(a)))].map((a) =>
      a.toLowerCase(),
    ),
  };
}

/** An IPv4 or IPv6 address as a trace-back writes it. */
const IP_LITERAL = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)$/;

/** Name tokens redacted on their own: long enough and not a generic word. */
export function namePartsOf(form: NameForm): string[] {
  if (!form.parts) return [];
  const out = new Set<string>();
  for (const t of form.tokens) {
    for (const piece of [t, ...t.split(/[-'.]/)]) {
      if (longEnough(piece) && !GENERIC_NAME_WORDS.has(piece.toLowerCase())) out.add(piece);
    }
  }
  return [...out];
}

/**
 * The reporter identity of a stored report: its reporter address, the account's address and
 * name, and the forwarding wrapper's display name kept in the report context.
 */
export function reporterIdentityOf(
  report: { reporter_address: string | null; context: string | null },
  user?: { email: string; name: string | null } | null,
): ReporterIdentity {
  const id: ReporterIdentity = { addresses: [], names: [], numbers: [] };
  const addr = report.reporter_address;
  if (addr) (addr.includes('@') ? id.addresses : id.numbers).push(addr);
  if (user) {
    id.addresses.push(user.email);
    if (user.name) id.names.push(user.name);
  }
  try {
    const ctx: unknown = report.context ? JSON.parse(report.context) : null;
    if (ctx && typeof ctx === 'object') {
      // A redirect's "wrapper" is the spam itself: its From is the spam's sender, not the reporter's.
      const redirect = 'how' in ctx && ctx.how === 'resent';
      if (redirect) id.redirect = true;
      const wrapper = 'wrapper' in ctx && !redirect ? ctx.wrapper : null;
      const from =
        wrapper && typeof wrapper === 'object' && 'from' in wrapper && typeof wrapper.from === 'string'
          ? wrapper.from
          : null;
      const name = from ? /^\s*"?([^"<]+?)"?\s*</.exec(from)?.[1] : null;
      if (name) id.names.push(name);
      const fromAddr = from ? /<([^<>\s]+@[^<>\s]+)>/.exec(from)?.[1] : null;
      if (fromAddr) id.addresses.push(fromAddr);
      const rn = 'reporterNumber' in ctx && typeof ctx.reporterNumber === 'string' ? ctx.reporterNumber : null;
      if (rn) id.numbers.push(rn);
      // A feedback report's complainant (RFC 5965 Original-Rcpt-To): the mailbox the loop's user reported from.
      const arf = 'arf' in ctx && ctx.arf && typeof ctx.arf === 'object' ? ctx.arf : null;
      const rcpt = arf && 'originalRcptTo' in arf && Array.isArray(arf.originalRcptTo) ? arf.originalRcptTo : [];
      for (const a of rcpt.slice(0, 20)) if (typeof a === 'string' && a.includes('@')) id.addresses.push(a.trim());
    }
  } catch {
    // A context that is not JSON holds no identity we can use.
  }
  return {
    addresses: [...new Set(id.addresses)],
    names: [...new Set(id.names)],
    numbers: [...new Set(id.numbers)],
    ...(id.redirect ? { redirect: true } : {}),
  };
}

/** Merges identities (the reporters of a case), without duplicates. */
export function mergeIdentities(ids: readonly ReporterIdentity[]): ReporterIdentity {
  return {
    addresses: [...new Set(ids.flatMap((i) => i.addresses))],
    names: [...new Set(ids.flatMap((i) => i.names))],
    numbers: [...new Set(ids.flatMap((i) => i.numbers))],
    ...(ids.some((i) => i.redirect === true) ? { redirect: true } : {}),
    ...(ids.some((i) => (i.hostAddresses?.length ?? 0) > 0)
      ? { hostAddresses: [...new Set(ids.flatMap((i) => i.hostAddresses ?? []))] }
      : {}),
  };
}
