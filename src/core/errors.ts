/**
 * One registry of coded errors (as Fastify's `lib/errors.js` does): a stable code, an HTTP status,
 * an SMTP reply and a message. The HTTP layer maps them to JSON in one handler; the SMTP intake
 * maps them to 5xx replies; the CLI prints the message.
 */
export const ERRORS = {
  EMPTY_MESSAGE: { status: 400, smtp: 550, message: 'The message is empty.' },
  NOT_AN_EMAIL: { status: 400, smtp: 550, message: 'The bytes are not an e-mail message.' },
  MESSAGE_TOO_LARGE: { status: 413, smtp: 552, message: 'The message is larger than the configured limit.' },
  BAD_REQUEST: { status: 400, smtp: 501, message: 'The request is malformed.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, smtp: 554, message: 'Unsupported content type.' },
  UNAUTHENTICATED: { status: 401, smtp: 530, message: 'Authentication required.' },
  INVALID_TOKEN: { status: 401, smtp: 535, message: 'The API token is unknown or revoked.' },
  FORBIDDEN: { status: 403, smtp: 550, message: 'Your role does not allow this.' },
  NOT_FOUND: { status: 404, smtp: 550, message: 'Not found.' },
  CONFLICT: { status: 409, smtp: 550, message: 'Conflict with the current state.' },
  TOO_EARLY: { status: 425, smtp: 451, message: 'Too early: an earlier message is missing; retry later.' },
  RATE_LIMITED: { status: 429, smtp: 451, message: 'Too many requests; slow down.' },
  NO_ATTACHED_MESSAGE: { status: 400, smtp: 554, message: 'No attached message found.' },
  ANALYSIS_BOUND: {
    status: 422,
    smtp: 554,
    message: 'The message could not be analysed within the configured time and memory bounds.',
  },
  UNAVAILABLE: { status: 503, smtp: 451, message: 'The service is shutting down or overloaded; retry later.' },
  INTERNAL: { status: 500, smtp: 451, message: 'Internal error.' },
} as const satisfies Record<string, { status: number; smtp: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** An error a client caused or must know about, with a stable code. */
export class AppError extends Error {
  readonly status: number;
  readonly smtp: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message ?? ERRORS[code].message);
    this.name = 'AppError';
    this.status = ERRORS[code].status;
    this.smtp = ERRORS[code].smtp;
  }

  /** The JSON body the HTTP API answers with. */
  toJSON(): { error: ErrorCode; message: string; statusCode: number; details?: Record<string, unknown> } {
    return {
      error: this.code,
      message: this.message,
      statusCode: this.status,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
