/**
 * Titles the system writes when it opens a case (case-rules.ts, exchange/receive.ts), in English as
 * stored, with their French: the web pages (web/narrative.ts) and the referral package's report.html
 * show a system title in the reader's language. A title an analyst typed is shown as typed.
 */
import { textTranslator, type TextLang, type TextTemplate } from '../../core/text-templates.ts';

export const CASE_TITLES: readonly TextTemplate[] = [
  { en: '{category} campaign {id}', fr: 'campagne {id} ({category})' },
  {
    en: 'campaign {id}: {n} reports in {days} days',
    fr: 'campagne {id}\u00a0: {n}\u00a0signalements en {days}\u00a0jours',
  },
  {
    en: 'sender {domain}: {n} consent complaints in {days} days',
    fr: 'expéditeur {domain}\u00a0: {n}\u00a0plaintes pour absence de consentement en {days}\u00a0jours',
  },
  { en: 'From {partner} ({country}): {title}', fr: 'De {partner} ({country})\u00a0: {title}' },
  { en: 'From {partner} ({country})', fr: 'De {partner} ({country})' },
];

const caseTitleTr = textTranslator(CASE_TITLES);

/**
 * A case's title in `lang` when the system wrote it, as typed otherwise; `categoryName` names a
 * category in that language (the first template's `{category}`).
 */
export function caseTitleIn(title: string, lang: TextLang, categoryName?: (c: string) => string): string {
  if (lang === 'en') return title;
  const m = /^(\w+) campaign (\S+)$/.exec(title);
  if (m && categoryName) return `campagne ${m[2]} (${categoryName(m[1]).toLowerCase()})`;
  return caseTitleTr(title, lang) ?? title;
}
