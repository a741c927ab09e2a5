/**
 * The campaigns area's front door: its routes (campaigns, look-up, relabel), the `campaign-report`
 * job, and the report's `classification` and `campaign` sections.
 */
import type { Area } from '../evidence/context.ts';
import { campaignReportWork } from './job-handler.ts';
import { campaignViewPart, classificationViewPart } from './report-view-parts.ts';
import { campaignRoutes } from './routes.ts';
import { prepareAlongside } from './thread-prepare.ts';

export const campaignsArea = {
  name: 'campaigns',
  routes: [campaignRoutes],
  jobs: {
    campaignReport: campaignReportWork,
    /** The campaign job's classification and fingerprinting, done in the analysis threads (thread-prepare.ts). */
    campaignPrepareAlongside: () => prepareAlongside,
  },
  reportViewParts: [classificationViewPart, campaignViewPart],
} satisfies Area;
