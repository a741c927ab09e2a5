/**
 * Which language to answer in when nobody chose one: an SMS subscriber (by the country of their
 * number) or a reporter who forwarded a mail (by the instance's region). Only the languages the
 * application speaks (`en`, `fr`); anything else falls back to English.
 */
import { parsePhoneNumberFromString, isSupportedCountry } from 'libphonenumber-js';

/** The languages the application writes in. */
export const APP_LANGUAGES = ['en', 'fr'] as const;
export type AppLanguage = (typeof APP_LANGUAGES)[number];

/** Whether a stored value names a language the application writes in. */
export function isAppLanguage(v: unknown): v is AppLanguage {
  return v === 'en' || v === 'fr';
}

/**
 * The language of a mail to a registry entry (authority, network operator, sender): the one its
 * entry names, else the instance region's (an entry registered with no choice, or before 0220).
 */
export function recipientLanguage(language: string | null | undefined, region: string): AppLanguage {
  return isAppLanguage(language) ? language : regionLanguage(region);
}

/**
 * Countries and territories whose sole official language, or the language of their public
 * administration, is French: France with its overseas departments and collectivities, Monaco,
 * and the French-speaking states of Africa and the Caribbean. Belgium, Switzerland, Luxembourg and
 * Canada are several-language countries: a number from there says nothing, so the instance's
 * region decides (see {@link smsReplyLanguage}).
 */
const FRENCH: ReadonlySet<string> = new Set([
  'FR',
  'GP',
  'MQ',
  'GF',
  'RE',
  'YT',
  'PM',
  'BL',
  'MF',
  'WF',
  'PF',
  'NC',
  'TF',
  'MC',
  'SN',
  'CI',
  'ML',
  'BF',
  'NE',
  'TG',
  'BJ',
  'GN',
  'CM',
  'GA',
  'CG',
  'CD',
  'CF',
  'TD',
  'DJ',
  'KM',
  'MG',
  'HT',
]);
const SEVERAL: ReadonlySet<string> = new Set(['BE', 'CH', 'LU', 'CA']);

/** The language of a country, or null when a country speaks several (or none this version knows). */
export function languageOfCountry(country: string | null | undefined): AppLanguage | null {
  if (!country) return null;
  const c = country.toUpperCase();
  if (FRENCH.has(c)) return 'fr';
  if (SEVERAL.has(c)) return null;
  return 'en';
}

/** The language of the instance, from its region (several-language regions: French, as Signal Spam's). */
export function regionLanguage(region: string): AppLanguage {
  return languageOfCountry(region) ?? (SEVERAL.has(region.toUpperCase()) ? 'fr' : 'en');
}

/**
 * The language of an SMS reply: the country of the subscriber's number (libphonenumber-js), else
 * the instance's region (a short code, a national number of a several-language country, garbage).
 */
export function smsReplyLanguage(subscriber: string | null, region: string): AppLanguage {
  const parsed = subscriber
    ? isSupportedCountry(region)
      ? parsePhoneNumberFromString(subscriber, { defaultCountry: region })
      : parsePhoneNumberFromString(subscriber)
    : undefined;
  const country = parsed?.isValid() ? (parsed.country ?? null) : null;
  if (country !== null && SEVERAL.has(country) && country === region.toUpperCase()) return regionLanguage(region);
  return languageOfCountry(country) ?? regionLanguage(region);
}
