/**
 * The areas in the order of the flow (DESIGN.md): intake ─► evidence ─► analysis ─► campaigns ─►
 * actions ─► feeds, then the web application over all of them. Each area's front door (`<area>/area.ts`)
 * says what it offers; this file gathers the lists the platform runs. Job handlers are in
 * `pipeline.ts`, which takes each area's job work from the same front doors.
 */
import type { Area, ReportViewPart, ServiceFactory, StartupHook } from '../evidence/context.ts';
import { intakeArea } from '../intake/area.ts';
import { evidenceArea } from '../evidence/area.ts';
import { analysisArea } from '../analysis/area.ts';
import { campaignsArea } from '../campaigns/area.ts';
import { actionsArea } from '../actions/area.ts';
import { feedsArea } from '../feeds/area.ts';
import { webArea } from '../web/area.ts';

export const AREAS: readonly Area[] = [
  intakeArea,
  evidenceArea,
  analysisArea,
  campaignsArea,
  actionsArea,
  feedsArea,
  webArea,
];

/** Route plugins, registered by `buildApp` in this order. */
export const AREA_ROUTES: NonNullable<Area['routes']> = AREAS.flatMap((a) => a.routes ?? []);

/** Long-running services `spamdesk serve` starts besides HTTP and the workers. */
export const SERVICES: ServiceFactory[] = AREAS.flatMap((a) => a.services ?? []);

/** Sections of a report's view (GET /api/v1/reports/:id), in display order. */
export const REPORT_VIEW_PARTS: ReportViewPart[] = AREAS.flatMap((a) => a.reportViewParts ?? []);

/** Hooks `spamdesk serve` runs once the platform is up. */
export const STARTUP_HOOKS: StartupHook[] = AREAS.flatMap((a) => a.startupHooks ?? []);
