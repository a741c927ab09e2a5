/**
 * A multipart upload that is cut short or malformed makes busboy (under @fastify/multipart) throw
 * plain errors without a code ("Unexpected end of form", "Boundary not found"); left alone they
 * become 500s. Every intake route that reads parts maps them here: the client sent a bad request.
 */
import { AppError, isAppError } from '../../core/errors.ts';

/**
 * The error to throw for a failure while reading an upload's parts: our own and Fastify's coded
 * errors (too large, too many files) unchanged, anything else a 400 with the parser's reason.
 */
export function uploadError(e: unknown): unknown {
  if (isAppError(e)) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('FST_')) return e;
  const reason = e instanceof Error ? e.message : String(e);
  return new AppError(
    'BAD_REQUEST',
    `The multipart/form-data body is malformed or cut short (${reason}); send it again whole.`,
  );
}
