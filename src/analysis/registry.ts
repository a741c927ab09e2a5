/**
 * Every analysis stage, in the order the pipeline runs them (STYLE.md "Stages are small, pure and
 * listed"). A stage reads the sections written by the stages above it. Add a stage with one line.
 *
 * Order: 1 parse · 2 trace-back · 3 authentication · 4 indicators · 5 enrichment · 6 compliance.
 */
import type { Stage } from './stage.ts';
import { lookupParseStage, parseStage } from './stages/parse.ts';
import { indicatorsStage, lookupIndicatorsStage } from './stages/indicators.ts';
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
 * add latency), in the lean form of parse and indicators that computes the fingerprint's inputs
 * and nothing else (no findings, headers or content scans; same ids and params).
 */
export type AnalysisProfile = 'report' | 'lookup';

const LOOKUP_STAGES: readonly Stage[] = [lookupParseStage, lookupIndicatorsStage];

/** The stages of a profile, in registry order. */
export function stagesFor(profile: AnalysisProfile): readonly Stage[] {
  return profile === 'lookup' ? LOOKUP_STAGES : STAGES;
}
