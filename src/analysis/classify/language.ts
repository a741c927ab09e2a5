/**
 * Which language an SMS is written in, from its function words: enough to know when the text model
 * (trained on English corpora) reads a language it never learned, so its vote is weighed down
 * (`other_language_model_weight` in scores.default.json) and the language-independent rules decide.
 * Only the languages the SMS profiles carry wording for are told apart; anything else is null.
 */
import { fold } from './sms-signals.ts';

const FUNCTION_WORDS: Record<'fr' | 'en', ReadonlySet<string>> = {
  fr: new Set(
    (
      'le la les des du de un une votre vos vous est et pour sur au aux avec dans ce cette sont pas ne nous ' +
      'ete etre sera il elle qui que mon ma mes ton ta tes je tu merci bonjour ici chez par sous avant apres ' +
      'en vers si ou cet leur dont tout tous'
    ).split(' '),
  ),
  en: new Set(
    (
      'the to you your is and for on of in with this are not we be will it have at my me i that from by ' +
      'can get just now please thanks hi call what when do'
    ).split(' '),
  ),
};

/** The language the text's function words point to ('fr' or 'en'), or null when they do not say. */
export function textLanguage(text: string): 'fr' | 'en' | null {
  const counts = { fr: 0, en: 0 };
  for (const m of fold(text).matchAll(/[a-z]+/g)) {
    if (FUNCTION_WORDS.fr.has(m[0])) counts.fr++;
    if (FUNCTION_WORDS.en.has(m[0])) counts.en++;
  }
  if (counts.fr >= 2 && counts.fr > counts.en) return 'fr';
  if (counts.en >= 2 && counts.en > counts.fr) return 'en';
  return null;
}
