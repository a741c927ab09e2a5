/** The analysis area's front door: the `analyse-report` job and the report's `times` and `analysis` sections. */
import type { Area } from '../evidence/context.ts';
import { analyseReportWork } from './job-handler.ts';
import { analysisViewPart, timesViewPart } from './report-view-part.ts';

export const analysisArea = {
  name: 'analysis',
  jobs: { analyseReport: analyseReportWork },
  reportViewParts: [timesViewPart, analysisViewPart],
} satisfies Area;
