/**
 * The route plugins of every area, registered by `buildApp` in this order. An area adds its plugin
 * here (one line) and keeps the handlers in its own folder.
 */
import type { FastifyInstance } from 'fastify';
import type { PrincipalResolver } from './auth.ts';
import { reportRoutes } from '../intake/http/report-routes.ts';
import { smsRoutes } from '../intake/sms/sms-routes.ts';
import { actionRoutes } from '../actions/actions-routes.ts';
import { campaignRoutes } from '../campaigns/routes.ts';
import { webRoutes } from './web-plugin.ts';
import { privacyRoutes } from '../evidence/privacy-routes.ts';
import { sessionResolver } from './session-auth.ts';

export const AREA_ROUTES: ((app: FastifyInstance) => Promise<void>)[] = [reportRoutes, smsRoutes, actionRoutes, campaignRoutes, privacyRoutes, webRoutes];

/** Ways to recognise a caller besides API tokens (the web app adds session cookies). */
export const PRINCIPAL_RESOLVERS: PrincipalResolver[] = [sessionResolver];
