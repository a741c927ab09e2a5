/** The evidence area's front door: the privacy routes (erasure, access) and the retention service. */
import type { Area } from './context.ts';
import { privacyRoutes } from './privacy-routes.ts';
import { partitionsService } from './partitions-service.ts';
import { retentionService } from './retention-service.ts';

export const evidenceArea = {
  name: 'evidence',
  routes: [privacyRoutes],
  services: [retentionService, partitionsService],
} satisfies Area;
