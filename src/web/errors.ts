/**
 * One error handler: every failure becomes `{ error, message, statusCode }` JSON with a stable code.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, isAppError, type ErrorCode } from '../core/errors.ts';
import { errorMessageIn } from '../core/error-texts.ts';
import { regionLanguage, type AppLanguage } from '../core/languages.ts';
import { fromAcceptLanguage } from './i18n.ts';

/** Fastify's own coded errors, mapped onto ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  FST_REQ_FILE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  FST_FILES_LIMIT: 'BAD_REQUEST',
  FST_PARTS_LIMIT: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_VALIDATION: 'BAD_REQUEST',
};

/**
 * Errors of the multipart parser (@fastify/busboy) carry no code or status, only these messages:
 * a malformed or truncated upload is the client's fault, so 400 rather than 500.
 */
const MULTIPART_MESSAGES = [
  /^Multipart: Boundary not found$/,
  /^Boundary required$/,
  /^Unexpected end of (multipart data|form)$/,
  /terminated early due to unexpected end of multipart data$/,
  /^Malformed part header$/,
];

export function toAppError(err: unknown, limitBytes?: number): AppError {
  if (isAppError(err)) return err;
  const fe = err as Partial<FastifyError> & { message?: string };
  // The request body stopped before the parser had what it was told to expect.
  if (fe.code === 'ERR_STREAM_PREMATURE_CLOSE') return new AppError('BAD_REQUEST', 'The request body ended early.');
  if (
    typeof fe.message === 'string' &&
    fe.code === undefined &&
    MULTIPART_MESSAGES.some((re) => re.test(fe.message ?? ''))
  ) {
    return new AppError('BAD_REQUEST', `Malformed multipart body: ${fe.message}.`);
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped === 'MESSAGE_TOO_LARGE') {
    return new AppError(
      mapped,
      `The message is larger than the configured limit${limitBytes ? ` of ${limitBytes} bytes` : ''}.`,
      limitBytes ? { limitBytes } : undefined,
    );
  }
  if (mapped) return new AppError(mapped, fe.message);
  if (typeof fe.statusCode === 'number' && fe.statusCode === 429) return new AppError('RATE_LIMITED', fe.message);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return new AppError('BAD_REQUEST', fe.message);
  return new AppError('INTERNAL');
}

/**
 * The JSON body of an error in the language the client asks for (`Accept-Language`), else in the
 * instance region's (`fallback`, see {@link errorFallbackLanguage}): the code stays the same, the
 * message is translated, and `Content-Language` says which language it is in.
 */
export function localisedErrorBody(
  e: AppError,
  acceptLanguage: string | undefined,
  fallback: AppLanguage,
): { body: ReturnType<AppError['toJSON']>; lang: AppLanguage } {
  const lang = fromAcceptLanguage(acceptLanguage) ?? fallback;
  const body = e.toJSON();
  return { body: { ...body, message: errorMessageIn(body.message, lang) }, lang };
}

/** The language of an error whose client named none: the instance region's (a French instance answers in French). */
export function errorFallbackLanguage(app: FastifyInstance): AppLanguage {
  return regionLanguage(app.ctx.config.region);
}

export function installErrorHandler(app: FastifyInstance): void {
  const fallback = errorFallbackLanguage(app);
  app.setErrorHandler((err, req, reply) => {
    const e = toAppError(err, app.ctx.config.maxMessageBytes);
    if (e.status >= 500) {
      req.log.error({ err }, 'request failed');
      app.ctx.metrics.errors.inc({ kind: 'http_5xx' });
    } else {
      app.ctx.metrics.errors.inc({ kind: 'http_4xx' });
    }
    const { body, lang } = localisedErrorBody(e, req.headers['accept-language'], fallback);
    void reply.status(e.status).type('application/json; charset=utf-8').header('content-language', lang).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new AppError('NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}.`);
    const { body, lang } = localisedErrorBody(e, req.headers['accept-language'], fallback);
    void reply.status(404).header('content-language', lang).send(body);
  });
}
