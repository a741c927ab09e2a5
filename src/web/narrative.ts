/**
 * Stored English text shown in the reader's language: the analysis narrative and findings, hop
 * notes, system case titles. A sentence no template knows is shown as written and marked
 * `lang="en"` (screen readers pronounce it as English; `french-pages.test.ts` fails on it).
 */
import { hopNoteIn, narrativeIn } from '../analysis/narrative-texts.ts';
import { textTranslator, type TextTemplate } from '../core/text-templates.ts';
import { html, type SafeHtml } from './html.ts';
import type { PageCtx } from './page.ts';

/** A sentence of an analysis, translated, or the English marked as such. */
export function narrative(ctx: Pick<PageCtx, 'locale'>, text: string): SafeHtml {
  if (ctx.locale === 'en') return html`${text}`;
  const tr = narrativeIn(text, ctx.locale);
  return tr === null ? html`<span lang="en" data-untranslated="">${text}</span>` : html`${tr}`;
}

/** A hop note (`retrieval`, `address-private`…) for the reader. */
export function hopNote(ctx: Pick<PageCtx, 'locale'>, note: string): string {
  return hopNoteIn(note, ctx.locale);
}

/**
 * Titles the system writes when it opens a case (actions/cases/case-rules.ts, exchange/receive.ts).
 * A title an analyst typed is shown as typed.
 */
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

/** A case's title in the reader's language when the system wrote it; as typed otherwise. */
export function caseTitle(ctx: Pick<PageCtx, 'locale'>, title: string, categoryName?: (c: string) => string): string {
  if (ctx.locale === 'en') return title;
  const m = /^(\w+) campaign (\S+)$/.exec(title);
  if (m && categoryName) return `campagne ${m[2]} (${categoryName(m[1]).toLowerCase()})`;
  return caseTitleTr(title, ctx.locale) ?? title;
}
