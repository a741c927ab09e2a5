/**
 * The feeds' front door: what a national body publishes for mail filters and partners, built from
 * the campaigns and the trace-back it already has. Listings (policy, DNS blocklist zones, plain
 * lists, delisting) live in `src/feeds/lists/`; threat-intelligence exchange (STIX 2.1 bundles,
 * the read-only TAXII 2.1 server, the MISP feed) in `src/feeds/intel/`. Each sub-area exports its
 * route plugins and services, gathered here.
 */
import type { Area } from '../evidence/context.ts';
import { intelRoutes, intelServices } from './intel/area-part.ts';
import { listsRoutes, listsServices } from './lists/area-part.ts';

export const feedsArea = {
  name: 'feeds',
  routes: [...listsRoutes, ...intelRoutes],
  services: [...listsServices, ...intelServices],
} satisfies Area;
