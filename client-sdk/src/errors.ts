import type { ErrorBody, ErrorCode } from '../../protocol';

/**
 * A refusal from the server (or a request that could not reach it), with the server's stable
 * error code: branch on `code`, show `message`.
 */
export class LecternError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'LecternError';
    this.code = code;
    this.details = details;
  }

  static from(body: ErrorBody): LecternError {
    return new LecternError(body.code, body.message, body.details);
  }
}
