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

export const STAGES: readonly Stage[] = [
  parseStage,
  // 2 trace-back (src/analysis/stages/traceback*.ts)
  // 3 authentication (src/analysis/stages/auth*.ts)
  indicatorsStage,
  // 5 enrichment (src/analysis/stages/enrich*.ts)
  complianceStage,
];
