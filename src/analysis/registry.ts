/**
 * Every analysis stage, in the order the pipeline runs them (STYLE.md "Stages are small, pure and
 * listed"). A stage reads the sections written by the stages above it. Add a stage with one line.
 *
 * Order: 1 parse · 2 trace-back · 3 authentication · 4 indicators · 5 enrichment · 6 compliance.
 */
import type { Stage } from './stage.ts';
import { parseStage } from './stages/parse.ts';
import { indicatorsStage } from './stages/indicators.ts';
import { complianceStage } from './stages/compliance.ts';
import { tracebackStage } from './stages/traceback.ts';
import { authStage } from './stages/auth.ts';
import { enrichStage } from './stages/enrich.ts';

export const STAGES: readonly Stage[] = [
  parseStage,
  tracebackStage,
  authStage,
  indicatorsStage,
  enrichStage,
  complianceStage,
];

/**
 * What an analysis is for: `report` runs every stage (a stored report, re-analysis); `lookup`
 * runs only what a fingerprint depends on (`POST /api/v1/lookup`: DNS and enrichment would only
 * add latency).
 */
export type AnalysisProfile = 'report' | 'lookup';

const LOOKUP_STAGES: ReadonlySet<string> = new Set(['parse', 'indicators']);

/** The stages of a profile, in registry order. */
export function stagesFor(profile: AnalysisProfile): readonly Stage[] {
  return profile === 'lookup' ? STAGES.filter((s) => LOOKUP_STAGES.has(s.id)) : STAGES;
}
