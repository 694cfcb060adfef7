import { type ErrorBody, ErrorCode } from '../protocol';
import { isUnavailable } from './db/pg-errors';

/**
 * A failure the caller can act on: it carries a stable code and a message safe to show. Anything
 * else thrown is a bug and reaches clients only as INTERNAL (see `toErrorBody`).
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, { cause: options?.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options?.details;
  }

  toBody(): ErrorBody {
    return this.details
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

export const invalidArgument = (message: string, details?: Record<string, unknown>) =>
  new AppError(ErrorCode.INVALID_ARGUMENT, message, { details });
export const notFound = (what: string) => new AppError(ErrorCode.NOT_FOUND, `${what} not found`);
export const forbidden = (message = 'not allowed') => new AppError(ErrorCode.FORBIDDEN, message);
export const unauthenticated = (message = 'authentication required') =>
  new AppError(ErrorCode.UNAUTHENTICATED, message);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new AppError(ErrorCode.CONFLICT, message, { details });
export const rateLimited = (retryAfterMs: number) =>
  new AppError(ErrorCode.RATE_LIMITED, 'too many requests', {
    details: { retryAfterMs: Math.ceil(retryAfterMs) },
  });

/** A statement that could not reach the database: nothing of it was kept, so it may be retried (same key). */
export const databaseUnavailable = () =>
  new AppError(ErrorCode.UNAVAILABLE, 'the database is unavailable; retry shortly');

/** The edge's view of any thrown value: AppErrors as they are, an unreachable database UNAVAILABLE, everything else INTERNAL. */
export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof AppError) return err.toBody();
  if (isUnavailable(err)) return databaseUnavailable().toBody();
  return { code: ErrorCode.INTERNAL, message: 'internal error' };
}

export const httpStatusOf: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  INVALID_ARGUMENT: 400,
  RATE_LIMITED: 429,
  INSUFFICIENT_FUNDS: 402,
  PAYMENT_REQUIRED: 402,
  PAYMENT_DECLINED: 402,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  BANNED: 403,
  MUTED: 403,
  SLOW_MODE: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};
