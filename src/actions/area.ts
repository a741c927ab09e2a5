/**
 * The actions area's front door: its routes (cases, referrals, outbox, ISPs, senders, partners),
 * the `actions-report`, `actions-refer` and `actions-refer-update` jobs, and the service that runs
 * the outbox and the digests.
 */
import type { Area } from '../evidence/context.ts';
import { actionsReferUpdateWork, actionsReferWork, actionsReportWork } from './actions-jobs.ts';
import { actionRoutes } from './actions-routes.ts';
import { actionsService, caseTallyBackfillService, ispDigestService, monthlyReportService } from './actions-service.ts';

export const actionsArea = {
  name: 'actions',
  routes: [actionRoutes],
  jobs: {
    actionsReport: actionsReportWork,
    actionsRefer: actionsReferWork,
    actionsReferUpdate: actionsReferUpdateWork,
  },
  services: [actionsService, ispDigestService, caseTallyBackfillService, monthlyReportService],
} satisfies Area;
