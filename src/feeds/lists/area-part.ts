/** The lists part of the feeds area: its route plugins and services (see `../area.ts`). */
import type { FastifyInstance } from 'fastify';
import type { ServiceFactory } from '../../evidence/context.ts';

export const listsRoutes: ((app: FastifyInstance) => Promise<void>)[] = [];
export const listsServices: ServiceFactory[] = [];
