/** The lists part of the feeds area: its route plugins and services (see `../area.ts`). */
import type { FastifyInstance } from 'fastify';
import type { ServiceFactory } from '../../evidence/context.ts';
import { listsRoutesPlugin } from './routes.ts';
import { listingService } from './service.ts';

export const listsRoutes: ((app: FastifyInstance) => Promise<void>)[] = [listsRoutesPlugin];
export const listsServices: ServiceFactory[] = [listingService];
