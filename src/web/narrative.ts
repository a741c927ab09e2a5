/**
 * Stored English text shown in the reader's language: the analysis narrative and findings, hop
 * notes, system case titles. A sentence no template knows is shown as written and marked
 * `lang="en"` (screen readers pronounce it as English; `french-pages.test.ts` fails on it).
 */
import { hopNoteIn, narrativeIn } from '../analysis/narrative-texts.ts';
import { caseTitleIn } from '../actions/cases/case-titles.ts';
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

export { CASE_TITLES } from '../actions/cases/case-titles.ts';

/** A case's title in the reader's language when the system wrote it; as typed otherwise. */
export function caseTitle(ctx: Pick<PageCtx, 'locale'>, title: string, categoryName?: (c: string) => string): string {
  return caseTitleIn(title, ctx.locale, categoryName);
}
