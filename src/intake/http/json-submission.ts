/**
 * The JSON form of `POST /api/v1/reports`: `{ "raw": "<base64>", "note": "…" }`. A small body is
 * parsed on the event loop as Fastify parses any JSON; a body past {@link INLINE_MAX_BYTES} (a
 * message of any real size: base64 is 4/3 of it) is left as bytes by {@link jsonUploadParser} and
 * decoded in a mail thread ({@link parseJsonSubmission}), because decoding 33 MB of UTF-8,
 * `JSON.parse`, the base64 check and decoding are seconds of one uninterrupted stretch on a loaded
 * machine, during which no other request is answered (issue 15, `npm run bench -- attack`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { checkParsedBody } from '../../web/request-validation.ts';
import { INLINE_MAX_BYTES } from '../smtp/inline-max.ts';

/** Longest note a reporter may add to a submission. */
export const MAX_NOTE_CHARS = 4000;

/**
 * Standard base64 (RFC 4648 §4), line breaks allowed (MIME-style), padding optional: no other
 * characters, `=` only at the end, and a length that can be decoded (never 1 mod 4).
 */
function isBase64(v: string): boolean {
  const s = v.replace(/[\r\n]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return false;
  const data = s.replace(/=+$/, '');
  if (data.length % 4 === 1) return false;
  return s.length === data.length || s.length % 4 === 0;
}

const jsonBody = z.object({
  raw: z.string().min(1, 'raw must not be empty').refine(isBase64, 'raw must be base64 (RFC 4648)'),
  note: z.string().max(MAX_NOTE_CHARS).optional(),
  /**
   * Accepted for older clients (the add-on sent `"addon"`) and ignored: the server sets the
   * channel (`serverChannel` in report-routes.ts), so a client cannot pass its report off as
   * another channel's.
   */
  channel: z.string().max(32).optional(),
});

/** What a JSON submission carries once validated: the message's bytes and the reporter's note. */
export interface JsonSubmission {
  raw: Buffer;
  note: string | null;
}

/** A JSON body too large to be decoded on the event loop: its bytes, as received. */
export class UndecodedJson {
  constructor(readonly bytes: Buffer) {}
}

/**
 * A parsed JSON body validated as a submission; `BAD_REQUEST` with every problem otherwise. The
 * message is not checked here (size, "is it an e-mail"): the caller does, where the message is.
 */
export function readJsonSubmission(body: unknown): JsonSubmission {
  const parsed = jsonBody.safeParse(body);
  if (!parsed.success)
    throw new AppError(
      'BAD_REQUEST',
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  return { raw: Buffer.from(parsed.data.raw, 'base64'), note: parsed.data.note ?? null };
}

/** 413 for a message larger than `limit` bytes (`filename` names a file of a multipart upload). */
export function assertMessageSize(raw: Uint8Array, limit: number, filename: string | null): void {
  if (raw.length > limit)
    throw new AppError(
      'MESSAGE_TOO_LARGE',
      `The message${filename ? ` ${filename}` : ''} is larger than the configured limit of ${limit} bytes.`,
      { limitBytes: limit },
    );
}

/**
 * A JSON body as received, decoded, parsed and validated as the event loop would have done it:
 * UTF-8 as Fastify decodes it, the checks of request-validation.ts (no NUL in any string, bounded
 * nesting), then {@link readJsonSubmission}. Runs in a mail thread. `JSON.parse` alone is enough
 * here: `__proto__` keys become own properties and zod keeps only the fields it knows, so the
 * prototype-poisoning check Fastify adds for handlers that merge bodies has nothing to protect.
 */
export function parseJsonSubmission(bytes: Uint8Array): JsonSubmission {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    throw new AppError('BAD_REQUEST', "Body is not valid JSON but content-type is set to 'application/json'");
  }
  const malformed = checkParsedBody(body);
  if (malformed) throw malformed;
  return readJsonSubmission(body);
}

/**
 * The `application/json` parser of the report routes: Fastify's own for bodies up to
 * {@link INLINE_MAX_BYTES}, the bytes untouched ({@link UndecodedJson}) beyond.
 */
export function jsonUploadParser(
  app: FastifyInstance,
): (req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => void {
  const small = app.getDefaultJsonParser('error', 'error');
  return (req, body, done) => {
    if (body.length > INLINE_MAX_BYTES) {
      done(null, new UndecodedJson(body));
      return;
    }
    small(req, body.toString('utf8'), done);
  };
}
