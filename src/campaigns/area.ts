/**
 * The campaigns area's front door: its routes (campaigns, look-up, relabel), the `campaign-report`
 * job, and the report's `classification` and `campaign` sections.
 */
import type { Area } from '../evidence/context.ts';
import { campaignReportWork } from './job-handler.ts';
import { campaignViewPart, classificationViewPart } from './report-view-parts.ts';
import { campaignRoutes } from './routes.ts';

export const campaignsArea = {
  name: 'campaigns',
  routes: [campaignRoutes],
  jobs: { campaignReport: campaignReportWork },
  reportViewParts: [classificationViewPart, campaignViewPart],
} satisfies Area;
