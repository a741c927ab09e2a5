/** The intel part of the feeds area: its route plugins and services (see `../area.ts`). */
import type { FastifyInstance } from 'fastify';
import type { ServiceFactory } from '../../evidence/context.ts';

export const intelRoutes: ((app: FastifyInstance) => Promise<void>)[] = [];
export const intelServices: ServiceFactory[] = [];
