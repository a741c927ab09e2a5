/**
 * The evidence a listing row keeps (`feed_listings.evidence`, JSON): the latest reports and
 * campaigns it stands on and the verdict's reasons. Read by the store, the judge (evidence
 * withdrawn), the explanation and the routes; a leaf module, so the judge need not import the store.
 */
export interface ListingEvidence {
  reportIds: string[];
  campaignIds: string[];
  reasons: string[];
}

export function parseEvidence(text: string): ListingEvidence {
  try {
    const v = JSON.parse(text) as Partial<ListingEvidence>;
    const strings = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
    return { reportIds: strings(v.reportIds), campaignIds: strings(v.campaignIds), reasons: strings(v.reasons) };
  } catch {
    return { reportIds: [], campaignIds: [], reasons: [] };
  }
}
