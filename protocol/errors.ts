/**
 * Stable error codes. Clients branch on these strings, so they never change meaning; new codes
 * may be added. The HTTP status each one maps to lives with the server's HTTP edge.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  RATE_LIMITED: 'RATE_LIMITED',
  INSUFFICIENT_FUNDS: 'INSUFFICIENT_FUNDS',
  PAYMENT_REQUIRED: 'PAYMENT_REQUIRED',
  /** The payment provider refused to charge (sandbox: a declined test payment method). */
  PAYMENT_DECLINED: 'PAYMENT_DECLINED',
  CONFLICT: 'CONFLICT',
  /** An upload or body larger than its limit (HTTP 413); `details.maxBytes` says the limit. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  BANNED: 'BANNED',
  MUTED: 'MUTED',
  SLOW_MODE: 'SLOW_MODE',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** Optional machine-readable detail, e.g. `retryAfterMs` for RATE_LIMITED / SLOW_MODE. */
  details?: Record<string, unknown>;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ErrorCode, value);
}
