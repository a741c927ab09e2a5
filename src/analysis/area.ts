/**
 * The analysis area's front door: the `analyse-report` job, the report's `times` and `analysis`
 * sections, and the declared mail hosts' routes.
 */
import type { Area } from '../evidence/context.ts';
import { analyseReportWork } from './job-handler.ts';
import { mailhostRoutes } from './mailhost-routes.ts';
import { analysisViewPart, timesViewPart } from './report-view-part.ts';

export const analysisArea = {
  name: 'analysis',
  jobs: { analyseReport: analyseReportWork },
  routes: [mailhostRoutes],
  reportViewParts: [timesViewPart, analysisViewPart],
} satisfies Area;
