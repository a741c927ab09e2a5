/** The categories a reported message is sorted into (one per message). */
export const CATEGORIES = ['phishing', 'malware', 'scam', 'commercial', 'legitimate', 'other'] as const;
export type Category = (typeof CATEGORIES)[number];

export function isCategory(v: string): v is Category {
  return (CATEGORIES as readonly string[]).includes(v);
}

/**
 * The coarse classes the learned text model predicts: the public corpora label messages only as
 * ham, spam or phishing, so the model separates those three and the named rules split spam into
 * commercial, scam and malware.
 */
export const MODEL_CLASSES = ['legitimate', 'phishing', 'spam'] as const;
export type ModelClass = (typeof MODEL_CLASSES)[number];

/** The model class a category belongs to (for training on analyst relabels and for evaluation). */
export function modelClassOf(c: Category): ModelClass | null {
  if (c === 'legitimate') return 'legitimate';
  if (c === 'phishing') return 'phishing';
  if (c === 'other') return null;
  return 'spam';
}
