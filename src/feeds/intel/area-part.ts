/** The intel part of the feeds area: its route plugins and services (see `../area.ts`). */
import type { FastifyInstance } from 'fastify';
import type { ServiceFactory } from '../../evidence/context.ts';
import { taxiiRoutes } from './taxii-routes.ts';
import { mispRoutes } from './misp-routes.ts';
import { intelAdminRoutes } from './admin-routes.ts';
import { intelBuildService } from './build-service.ts';

export const intelRoutes: ((app: FastifyInstance) => Promise<void>)[] = [taxiiRoutes, mispRoutes, intelAdminRoutes];
export const intelServices: ServiceFactory[] = [intelBuildService];
