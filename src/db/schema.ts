/**
 * The whole database, composed from the tables each area of DESIGN.md owns. An area adds its tables
 * to its own `src/db/<area>-tables.ts` (here, below the areas, so that this schema imports nothing
 * above the db layer) and its own numbered migration; nothing else needs to change here.
 */
import type { FoundationTables } from './tables.ts';
import type { AnalysisTables } from './analysis-tables.ts';
import type { CampaignTables } from './campaigns-tables.ts';
import type { IntakeTables } from './intake-tables.ts';
import type { WebTables } from './web-tables.ts';
import type { ActionTables } from './actions-tables.ts';
import type { FeedsListsTables } from './feeds-lists-tables.ts';
import type { IntelTables } from './intel-tables.ts';

export interface Database
  extends FoundationTables,
    AnalysisTables,
    CampaignTables,
    IntakeTables,
    WebTables,
    ActionTables,
    FeedsListsTables,
    IntelTables {}
