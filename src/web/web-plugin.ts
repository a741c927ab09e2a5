/**
 * The web application's plugin: cookies, form bodies, static files (our CSS/JS and Chart.js from
 * node_modules — no committed bundle), HTML error pages, and the page routes of each part.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { MalformedRequestError, checkUrlEncoded, parseUrlEncoded } from './request-validation.ts';
import fastifyStatic from '@fastify/static';
import { toAppError } from './errors.ts';
import { errorMessageIn } from '../core/error-texts.ts';
import { errorPage, pageContext, sendPage } from './page.ts';
import { publicRoutes } from './pages/public-pages.ts';
import { accountRoutes } from './pages/account-pages.ts';
import { workbenchRoutes } from './pages/workbench-pages.ts';
import { reportDetailRoutes } from './pages/report-detail-pages.ts';
import { adminRoutes } from './pages/admin-pages.ts';
import { adminMailhostRoutes } from './pages/admin-mailhosts-pages.ts';
import { networkRoutes } from './pages/network-pages.ts';
import { deadLetterRoutes } from './pages/dead-letter-pages.ts';
import { heldPageRoutes } from './pages/held-pages.ts';
import { listingRoutes } from './pages/listing-pages.ts';
import { PASSWORD_PAGE } from './first-sign-in.ts';
import { adminRegistryRoutes } from './pages/admin-registry-routes.ts';
import { caseListRoutes } from './pages/case-list-pages.ts';
import { caseDetailRoutes } from './pages/case-detail-pages.ts';
import { caseReferRoutes } from './pages/case-refer-pages.ts';
import { referralPageRoutes } from './pages/referral-pages.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
/** Chart.js's own UMD build, served as is from node_modules. */
export const CHART_JS_DIR = path.dirname(require.resolve('chart.js/auto')).replace(/auto$/, 'dist');

export async function webRoutes(app: FastifyInstance): Promise<void> {
  await app.register(cookie);
  await app.register(formbody, {
    bodyLimit: 1024 * 1024,
    // Invalid UTF-8 or NUL in a field: 400 here, before decoding hides it behind U+FFFD.
    parser: (text: string) => {
      const e = checkUrlEncoded(text);
      if (e) throw e;
      return parseUrlEncoded(text);
    },
  });
  await app.register(fastifyStatic, {
    root: path.join(HERE, 'static'),
    prefix: '/static/app/',
    decorateReply: false,
    index: false,
    maxAge: 3600_000,
  });
  await app.register(fastifyStatic, {
    root: CHART_JS_DIR,
    prefix: '/static/vendor/chartjs/',
    decorateReply: false,
    index: false,
    maxAge: 86_400_000,
    allowedPath: (p) => p === '/chart.umd.min.js' || p === '/chart.umd.js',
  });

  // Page routes answer errors with an HTML page; 401 sends the visitor to the sign-in page.
  app.setErrorHandler((err, req, reply) => {
    const e = toAppError(err, app.ctx.config.maxMessageBytes);
    if (e instanceof MalformedRequestError)
      return reply.status(e.status).type('application/json; charset=utf-8').send(e.toJSON());
    if (e.status >= 500) req.log.error({ err }, 'page failed');
    if (e.details?.passwordChange && req.method === 'GET') return reply.redirect(PASSWORD_PAGE, 303);
    const ctx = pageContext(req, reply);
    if (e.status === 401 && req.method === 'GET')
      return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
    const message = e.details?.csrf
      ? ctx.t('error.csrf')
      : e.status === 403
        ? ctx.t('error.forbidden')
        : e.status === 404
          ? ctx.t('error.notfound')
          : errorMessageIn(e.message, ctx.locale);
    return sendPage(reply, errorPage(ctx, message), e.status);
  });

  await app.register(publicRoutes);
  await app.register(accountRoutes);
  await app.register(workbenchRoutes);
  await app.register(reportDetailRoutes);
  await app.register(adminRoutes);
  await app.register(adminMailhostRoutes);
  await app.register(networkRoutes);
  await app.register(deadLetterRoutes);
  await app.register(heldPageRoutes);
  await app.register(listingRoutes);
  await app.register(adminRegistryRoutes);
  await app.register(caseListRoutes);
  await app.register(caseDetailRoutes);
  await app.register(caseReferRoutes);
  await app.register(referralPageRoutes);
}
