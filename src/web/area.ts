/**
 * The web application's front door: its pages, the search indexer service, and the first-admin
 * hook (creates the first admin on a fresh database and prints its one-time password).
 */
import type { Area } from '../evidence/context.ts';
import { firstAdminHook } from './first-admin.ts';
import { webIndexerService } from './indexer-service.ts';
import { webRoutes } from './web-plugin.ts';

export const webArea = {
  name: 'web',
  routes: [webRoutes],
  services: [webIndexerService],
  startupHooks: [firstAdminHook],
} satisfies Area;
