/**
 * HTTP side of the in-flight memory budget (../inflight-budget.ts): every request with a body
 * larger than {@link SMALL_BODY_BYTES} reserves its declared size (a chunked one the largest
 * allowed) before the body is read, and gives it back when the response is sent or the client
 * goes away. Beyond the budget: 503 with Retry-After and a JSON reason.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { errorFallbackLanguage, localisedErrorBody } from '../../web/errors.ts';
import { BUDGET_RETRY_AFTER_SECONDS, type InflightBudget } from '../../core/inflight-budget.ts';

/** Bodies up to this size (forms, JSON commands, sign-ins) are not counted: they cannot add up. */
export const SMALL_BODY_BYTES = 64 * 1024;

export const inflightBudgetHook = fp(
  async (app: FastifyInstance, opts: { budget: InflightBudget; maxBodyBytes: number }) => {
    app.addHook('onRequest', async (req, reply) => {
      const declared = req.headers['content-length'];
      const bytes =
        declared !== undefined
          ? Number(declared)
          : req.headers['transfer-encoding'] !== undefined
            ? opts.maxBodyBytes
            : 0;
      // A bad Content-Length is Fastify's to refuse (400); too large a one its body limit's (413).
      if (!Number.isFinite(bytes) || bytes <= SMALL_BODY_BYTES) return;
      const r = opts.budget.tryReserve(Math.min(bytes, opts.maxBodyBytes));
      if (r === null) {
        app.ctx.metrics.errors.inc({ kind: 'http_memory_budget' });
        const e = new AppError(
          'UNAVAILABLE',
          `Too many large messages are being received at once (memory budget ${opts.budget.maxBytes} bytes); nothing \
was stored, retry in ${BUDGET_RETRY_AFTER_SECONDS} s.`,
          { retryAfterSeconds: BUDGET_RETRY_AFTER_SECONDS },
        );
        const { body, lang } = localisedErrorBody(e, req.headers['accept-language'], errorFallbackLanguage(app));
        // The body is not read: close the connection rather than drain megabytes we refused.
        return reply
          .code(e.status)
          .header('retry-after', String(BUDGET_RETRY_AFTER_SECONDS))
          .header('connection', 'close')
          .header('content-language', lang)
          .type('application/json; charset=utf-8')
          .send(body);
      }
      reply.raw.once('close', r.release);
    });
  },
);
