/**
 * SMS signals for the classification rules: what a smishing SMS does that a real notice does not,
 * in any language the instance's profile covers. Read from the Analysis record (the SMS text, its
 * sender, its links and phone numbers) and from the SMS profiles data file
 * (`analysis/data/sms-profiles.json`: brands and public services impersonated per country, and
 * the urgency / payment / account-action wording), so an operator adds a country without code.
 *
 * Every signal is a named rule with a reason (rules.ts); its weight is configuration
 * (scores.default.json). Only SMS (`kind: 'sms'`) are judged here: e-mail has its own
 * authentication-based rules.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Analysis } from '../analysis-schema.ts';
import {
  type FileProblem,
  problemsDetail,
  readFileInForce,
  readJsonFile,
  readTextFile,
  zodProblems,
} from '../../core/file-problems.ts';

export const DEFAULT_SMS_PROFILES_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../data/sms-profiles.json',
);

const BrandSchema = z.object({
  name: z.string().min(1),
  keywords: z.array(z.string().min(2)).min(1),
  domains: z.array(z.string().min(3)),
  senderIds: z.array(z.string()).default([]),
  /** A kind of message (any parcel delivery) rather than one company: see {@link SmsBrand.generic}. */
  generic: z.boolean().default(false),
});
const CountrySchema = z.object({
  brands: z.array(BrandSchema).default([]),
  urgency: z.array(z.string()).default([]),
  payment: z.array(z.string()).default([]),
  account: z.array(z.string()).default([]),
  prize: z.array(z.string()).default([]),
  moneyPromise: z.array(z.string()).default([]),
  newNumber: z.array(z.string()).default([]),
  marketing: z.array(z.string()).default([]),
});
const ProfilesSchema = z.object({
  countries: z.record(z.string().regex(/^(\*|[A-Z]{2})$/), CountrySchema),
  suspiciousTlds: z.array(z.string().regex(/^[a-z0-9-]+$/)).default([]),
  firstPartyShortHosts: z.array(z.string()).default([]),
});

export interface SmsBrand {
  name: string;
  keywords: RegExp[];
  /** Keywords with spaces and punctuation removed (for lookalike domains), 4+ characters. */
  compact: string[];
  domains: string[];
  senderIds: string[];
  /**
   * A kind of message rather than one company (any parcel delivery): it counts for SMS_BRAND_LINK
   * only when the sender is unknown or an ordinary number, since retailers name their parcels and
   * link their own sites from their sender ids.
   */
  generic: boolean;
}

/** The SMS profile of one instance: the `*` entry plus its region's entry. */
export interface SmsProfile {
  region: string;
  brands: SmsBrand[];
  urgency: RegExp[];
  payment: RegExp[];
  account: RegExp[];
  prize: RegExp[];
  moneyPromise: RegExp[];
  newNumber: RegExp[];
  marketing: RegExp[];
  suspiciousTlds: ReadonlySet<string>;
  firstPartyShortHosts: ReadonlySet<string>;
}

/** Lower case, accents removed, typographic apostrophes made plain: what the phrase lists match. */
export function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[’‘`´]/g, "'");
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function wordRe(keyword: string): RegExp {
  return new RegExp(`(?:^|[^\\p{L}\\p{N}])${escapeRe(fold(keyword))}(?=$|[^\\p{L}\\p{N}])`, 'u');
}

function compile(list: string[]): RegExp[] {
  return list.map((src) => new RegExp(src, 'iu'));
}

type ProfilesData = z.infer<typeof ProfilesSchema>;
const PHRASE_LISTS = ['urgency', 'payment', 'account', 'prize', 'moneyPromise', 'newNumber', 'marketing'] as const;

function parseProfiles(file: string, readText = readFileInForce): { data: ProfilesData } | { problems: FileProblem[] } {
  const read = readJsonFile(file, readText);
  if ('problem' in read) return { problems: [read.problem] };
  const parsed = ProfilesSchema.safeParse(read.json);
  if (!parsed.success) return { problems: zodProblems(file, parsed.error.issues) };
  const problems: FileProblem[] = [];
  for (const [name, c] of Object.entries(parsed.data.countries))
    for (const list of PHRASE_LISTS)
      c[list].forEach((src, i) => {
        try {
          new RegExp(src, 'iu');
        } catch (err) {
          problems.push({
            file,
            where: `countries.${name}.${list}.${i}`,
            message: `not a valid regular expression (${(err as Error).message})`,
          });
        }
      });
  return problems.length > 0 ? { problems } : { data: parsed.data };
}

/** Every problem of an SMS profiles file, each at its path in the document (none: the file is valid). */
export function smsProfilesProblems(file: string, readText = readTextFile): FileProblem[] {
  const r = parseProfiles(file, readText);
  return 'problems' in r ? r.problems : [];
}

const cache = new Map<string, SmsProfile>();

/** An installable app package or executable (Android FluBot-style "voicemail" and "parcel" apps). */
const APP_PACKAGE = /\.(apk|xapk|apks|ipa|exe|msi|scr|bat)$/i;

/**
 * The profile for `region` from a profiles file (default: the shipped one; an operator's file
 * replaces it whole). Throws an error listing every problem, each at its path, when it is malformed.
 */
export function loadSmsProfile(region: string, file: string = DEFAULT_SMS_PROFILES_FILE): SmsProfile {
  const key = `${region}\u0000${file}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const parsed = parseProfiles(file);
  if ('problems' in parsed) throw new Error(`SMS profiles ${file}: ${problemsDetail(parsed.problems)}`);
  const entries = [
    ['*', parsed.data.countries['*']],
    [region, region === '*' ? undefined : parsed.data.countries[region]],
  ] as const;
  const profile: SmsProfile = {
    region,
    brands: [],
    urgency: [],
    payment: [],
    account: [],
    prize: [],
    moneyPromise: [],
    newNumber: [],
    marketing: [],
    suspiciousTlds: new Set(parsed.data.suspiciousTlds),
    firstPartyShortHosts: new Set(parsed.data.firstPartyShortHosts.map((h) => h.toLowerCase())),
  };
  for (const [, c] of entries) {
    if (!c) continue;
    for (const b of c.brands)
      profile.brands.push({
        name: b.name,
        keywords: b.keywords.map(wordRe),
        compact: b.keywords.map((k) => fold(k).replace(/[^a-z0-9]/g, '')).filter((k) => k.length >= 4),
        domains: b.domains.map((d) => d.toLowerCase()),
        senderIds: b.senderIds.map((s) => fold(s).replace(/\s+/g, '')),
        generic: b.generic,
      });
    for (const list of PHRASE_LISTS) profile[list].push(...compile(c[list]));
  }
  cache.set(key, profile);
  return profile;
}

/** The SMS rules this module fires (declared in rules.ts with their categories). */
export type SmsRuleName =
  | 'SMS_BRAND_LINK'
  | 'SMS_BRAND_OWN_LINK'
  | 'SMS_LOOKALIKE_DOMAIN'
  | 'SMS_SHORTENED_LINK'
  | 'SMS_ODD_TLD'
  | 'SMS_LINK_UNKNOWN_SENDER'
  | 'SMS_PREMIUM_CALLBACK'
  | 'SMS_FOREIGN_CALLBACK'
  | 'SMS_URGENCY'
  | 'SMS_PAYMENT_LURE'
  | 'SMS_ACCOUNT_LURE'
  | 'SMS_PRIZE_LURE'
  | 'SMS_MONEY_PROMISE'
  | 'SMS_NEW_NUMBER'
  | 'SMS_APP_DOWNLOAD'
  | 'SMS_MARKETING';

function onDomains(host: string, registrable: string | null, domains: readonly string[]): boolean {
  return domains.some(
    (d) => registrable === d || host === d || host.endsWith(`.${d}`) || (registrable?.endsWith(`.${d}`) ?? false),
  );
}

/** True when the sender is not known, or is an ordinary long number rather than a short code or sender id. */
export function isAnonymousSender(sender: string): { anonymous: boolean; why: string } {
  const s = sender.trim();
  if (s === '' || s === 'unknown') return { anonymous: true, why: 'sender unknown' };
  if (/^\+?\d{7,17}$/.test(s)) {
    const p = parsePhoneNumberFromString(s.startsWith('+') ? s : `+${s}`);
    return {
      anonymous: true,
      why: `sent from the ${p?.getType()?.toLowerCase().replace(/_/g, ' ') ?? ''} number ${s}`,
    };
  }
  return { anonymous: false, why: '' };
}

/** The SMS signals of an analysis under a profile; none for e-mail. */
export function smsSignals(a: Analysis, p: SmsProfile): { rule: SmsRuleName; detail: string }[] {
  if (a.kind !== 'sms') return [];
  const out: { rule: SmsRuleName; detail: string }[] = [];
  const text = fold(a.parse.visibleText);
  const sender = a.parse.from[0]?.address ?? 'unknown';
  const senderId = fold(sender).replace(/\s+/g, '');
  const links = a.indicators.urls
    .filter((u) => u.role !== 'resource')
    .map((u) => (u.shortener && p.firstPartyShortHosts.has(u.host.toLowerCase()) ? { ...u, shortener: false } : u));
  const named = p.brands.filter((b) => b.keywords.some((k) => k.test(text)) || b.senderIds.includes(senderId));

  // Brand or public service named, and a link on none of the named brands' domains (or only on theirs).
  const anon = isAnonymousSender(sender);
  const claimed = named.filter((b) => !b.generic || anon.anonymous);
  if (links.length > 0 && named.length > 0) {
    const foreign = links.find((u) => !named.some((b) => onDomains(u.host, u.registrableDomain, b.domains)));
    if (foreign && claimed.length > 0)
      out.push({
        rule: 'SMS_BRAND_LINK',
        detail: `names ${claimed.map((b) => b.name).join(', ')}, links to ${foreign.registrableDomain ?? foreign.host}`,
      });
    else if (!foreign && links.every((u) => !u.shortener))
      out.push({ rule: 'SMS_BRAND_OWN_LINK', detail: `links only to ${named[0].name}'s own domains` });
  }

  for (const u of links) {
    const host = u.host.toLowerCase();
    const compactHost = host.replace(/[^a-z0-9.]/g, '');
    const brand = p.brands.find(
      (b) =>
        !onDomains(host, u.registrableDomain, b.domains) &&
        (b.compact.some((k) => compactHost.includes(k)) ||
          b.domains.some((d) => host.includes(`${d}.`) || host.includes(`${d}-`))),
    );
    if (brand) {
      out.push({ rule: 'SMS_LOOKALIKE_DOMAIN', detail: `${host} looks like ${brand.name} but is not its domain` });
      break;
    }
  }
  const short = links.find((u) => u.shortener);
  if (short) out.push({ rule: 'SMS_SHORTENED_LINK', detail: short.host });
  const odd = links.find((u) => {
    const tld = (u.registrableDomain ?? u.host).split('.').pop() ?? '';
    return p.suspiciousTlds.has(tld) && !p.brands.some((b) => onDomains(u.host, u.registrableDomain, b.domains));
  });
  if (odd) out.push({ rule: 'SMS_ODD_TLD', detail: odd.registrableDomain ?? odd.host });
  if (links.length > 0 && anon.anonymous) out.push({ rule: 'SMS_LINK_UNKNOWN_SENDER', detail: anon.why });

  // A number to call back is dubious when premium-rate or of another country than the instance's.
  let dubiousCallback = false;
  for (const ph of a.indicators.phones) {
    if (parsePhoneNumberFromString(ph.e164)?.getType() === 'PREMIUM_RATE') {
      out.push({ rule: 'SMS_PREMIUM_CALLBACK', detail: `${ph.raw} is a premium-rate number` });
      dubiousCallback = true;
      break;
    }
  }
  const foreign = a.indicators.phones.find((ph) => ph.region && ph.region !== p.region);
  if (foreign && p.region !== '*') {
    out.push({ rule: 'SMS_FOREIGN_CALLBACK', detail: `${foreign.raw} is a ${foreign.region} number` });
    dubiousCallback = true;
  }

  const first = (res: RegExp[]): string | null => {
    for (const re of res) {
      const m = re.exec(text);
      if (m) return m[0];
    }
    return null;
  };
  // The wording counts when the SMS gives a way to act on it: a link or a dubious number to call.
  const action = links.length > 0 || dubiousCallback;
  if (action) {
    const u = first(p.urgency);
    if (u) out.push({ rule: 'SMS_URGENCY', detail: u });
    const pay = first(p.payment);
    if (pay) out.push({ rule: 'SMS_PAYMENT_LURE', detail: pay });
    const acc = first(p.account);
    if (acc) out.push({ rule: 'SMS_ACCOUNT_LURE', detail: acc });
    const prize = first(p.prize);
    if (prize) out.push({ rule: 'SMS_PRIZE_LURE', detail: prize });
  }
  const money = first(p.moneyPromise);
  if (money) out.push({ rule: 'SMS_MONEY_PROMISE', detail: money });
  const relative = first(p.newNumber);
  if (relative) out.push({ rule: 'SMS_NEW_NUMBER', detail: relative });
  const ad = first(p.marketing);
  if (ad) out.push({ rule: 'SMS_MARKETING', detail: ad });
  const app = links.find((u) => APP_PACKAGE.test(u.url.replace(/[?#].*$/, '')));
  if (app) out.push({ rule: 'SMS_APP_DOWNLOAD', detail: app.url.slice(0, 200) });
  return out;
}
