/**
 * The `classification` and `campaign` sections of GET /api/v1/reports/:id. The classification
 * shows the category in force (an analyst's relabel, with who and when, outranks the automatic
 * verdict, which stays visible with its reasons); the campaign section names the campaign (after
 * any merge) with its figures — never other reports or reporters.
 */
import type { ReportViewPart } from '../evidence/context.ts';
import { resolveCampaign } from './story.ts';

export const classificationViewPart: ReportViewPart = {
  name: 'classification',
  async load(db, report) {
    const auto = await db
      .selectFrom('classifications')
      .selectAll()
      .where('sha256', '=', report.message_sha256)
      .executeTakeFirst();
    const relabel = await db
      .selectFrom('relabels')
      .selectAll()
      .where('message_sha256', '=', report.message_sha256)
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!auto && !relabel) return undefined;
    return {
      category: relabel?.category ?? auto?.category ?? null,
      relabel: relabel
        ? { category: relabel.category, previous: relabel.previous_category, by: relabel.actor, at: relabel.at }
        : null,
      automatic: auto
        ? {
            category: auto.category,
            confidence: Number(auto.confidence),
            reasons: JSON.parse(auto.reasons) as unknown,
            modelVersion: auto.model_version,
            classifiedAt: auto.classified_at,
          }
        : null,
    };
  },
};

export const campaignViewPart: ReportViewPart = {
  name: 'campaign',
  async load(db, report) {
    const m = await db
      .selectFrom('campaign_messages')
      .select(['campaign_id', 'via', 'similarity'])
      .where('sha256', '=', report.message_sha256)
      .executeTakeFirst();
    if (!m) return undefined;
    const resolved = await resolveCampaign(db, m.campaign_id);
    if (!resolved) return undefined;
    const c = resolved.row;
    return {
      id: c.id,
      category: c.category,
      firstSeen: c.first_seen_at,
      lastSeen: c.last_seen_at,
      messageCount: Number(c.message_count),
      reportCount: Number(c.report_count),
      joinedVia: m.via,
      similarity: Number(m.similarity),
    };
  },
};
