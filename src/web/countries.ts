/** Country names for display (ISO 3166-1 alpha-2 → name in the page's language), from ICU via Intl. */
const CACHE = new Map<string, Intl.DisplayNames>();

export function countryName(code: string, locale: string): string {
  if (!/^[A-Z]{2}$/.test(code)) return code || '?';
  let names = CACHE.get(locale);
  if (!names) {
    names = new Intl.DisplayNames([locale], { type: 'region' });
    CACHE.set(locale, names);
  }
  try {
    return names.of(code) ?? code;
  } catch {
    return code;
  }
}
