/**
 * `buildApp(ctx)` returns the Fastify app; only the entry point calls `listen`, tests use
 * `app.inject()` (Fastify's testing guide).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { AppContext, ReportViewPart } from '../evidence/context.ts';
import { publicBaseUrl } from '../core/config.ts';
import { authPlugin, type PrincipalResolver } from '../web/auth.ts';
import { installErrorHandler } from '../web/errors.ts';
import { systemRoutes } from '../web/system-routes.ts';
import { PRINCIPAL_RESOLVERS } from '../web/routes.ts';
import { indexReports } from '../web/indexer.ts';
import { AREA_ROUTES, REPORT_VIEW_PARTS } from './areas.ts';
import { policyGate } from '../web/policy-gate.ts';
import { requestValidation } from '../web/request-validation.ts';
import { inflightBudgetHook } from '../intake/http/inflight-hook.ts';
import { MailThreads } from '../intake/smtp/mail-threads.ts';

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
    /** Sections of a report's view, from every area (`app/areas.ts`). */
    reportViewParts: readonly ReportViewPart[];
    /**
     * Brings the views derived from these reports up to date at once (the web area's search index),
     * for a route that changed them; areas below the web layer call it without importing it.
     */
    reindexReports(reportIds: string[]): Promise<void>;
    /** Base URL people reach this instance at. */
    publicUrl(): string;
    /**
     * Where large uploads are decoded, checked, hashed and compressed, off the event loop
     * (intake/smtp/mail-threads.ts); its `stats` say what they did.
     */
    mailThreads: MailThreads;
  }
}

export interface BuildAppOptions {
  /** Extra principal resolvers (tests). */
  resolvers?: PrincipalResolver[];
}

export async function buildApp(ctx: AppContext, opts: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({
      disableRequestLogging: ctx.config.logLevel !== 'debug' && ctx.config.logLevel !== 'trace',
    }),
    bodyLimit: ctx.config.maxMessageBytes,
    // Requests in flight finish on close; idle keep-alive connections are dropped.
    forceCloseConnections: 'idle',
    trustProxy: false,
    requestTimeout: 120_000,
  });
  app.decorate('ctx', ctx);
  app.decorate('reportViewParts', REPORT_VIEW_PARTS);
  app.decorate('reindexReports', async (reportIds: string[]) => {
    await indexReports(ctx.db, reportIds);
  });
  const mailThreads = new MailThreads();
  app.decorate('mailThreads', mailThreads);
  app.addHook('onClose', () => mailThreads.close());
  app.decorate('publicUrl', () => {
    const addr = app.server.address();
    return publicBaseUrl(ctx.config, addr && typeof addr === 'object' ? addr.port : undefined);
  });
  installErrorHandler(app);
  // First: a malformed target is refused before authentication looks anything up.
  await app.register(requestValidation);
  // Then: a request over the memory budget is refused before anything reads its body.
  await app.register(inflightBudgetHook, { budget: ctx.intakeBudget, maxBodyBytes: ctx.config.maxMessageBytes * 2 });
  await app.register(authPlugin, { resolvers: [...PRINCIPAL_RESOLVERS, ...(opts.resolvers ?? [])] });
  await app.register(policyGate);
  await app.register(rateLimit, { global: false, hook: 'preParsing' });
  await app.register(multipart, { limits: { fileSize: ctx.config.maxMessageBytes } });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Spamdesk API',
        version: '1',
        description: 'Report spam, read evidence and analyses. Send API tokens as `Authorization: Bearer sdk_…`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.addHook('onResponse', async (req, reply) => {
    ctx.metrics.httpRequests.inc({ route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });
  await app.register(systemRoutes);
  for (const routes of AREA_ROUTES) await app.register(routes);
  return app;
}
