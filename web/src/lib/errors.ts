/** What to tell a person when a request is refused, by the server's stable error code. */
const MESSAGES: Partial<Record<string, string>> = {
  UNAUTHENTICATED: 'Please sign in first.',
  FORBIDDEN: 'You are not allowed to do that here.',
  NOT_FOUND: 'That does not exist (any more).',
  RATE_LIMITED: 'Slow down a little and try again.',
  SLOW_MODE: 'Slow mode is on: wait a moment before your next message.',
  MUTED: 'You are muted in this room for now.',
  BANNED: 'You are banned from this room.',
  PAYMENT_REQUIRED: 'This needs a ticket or a subscription.',
  INSUFFICIENT_FUNDS: 'Not enough money in your wallet: top it up first.',
  PAYMENT_DECLINED: 'The payment was declined.',
  UNAVAILABLE: 'The server is not reachable right now. Try again shortly.',
  INTERNAL: 'Something went wrong on our side.',
};

/** A readable sentence for any error (LecternError, ApiError, media errors, anything). */
export function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string; name?: string } | null;
  if (e?.name === 'NotAllowedError') return 'The browser was not allowed to use the camera or microphone.';
  if (e?.name === 'NotFoundError') return 'No camera or microphone was found.';
  if (e?.code === 'INVALID_ARGUMENT' || e?.code === 'CONFLICT') return e.message ?? 'That request was refused.';
  return (e?.code && MESSAGES[e.code]) || e?.message || 'Something went wrong.';
}

export const codeOf = (err: unknown): string | undefined => (err as { code?: string } | null)?.code;
