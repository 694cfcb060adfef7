import { type ErrorCode, newIdempotencyKey } from '@lectern/client-sdk';
import { loadSession } from './session';

/** A refusal from the HTTP API, with its stable error code. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number,
    /** Machine-readable detail the server added (e.g. `maxBytes` for PAYLOAD_TOO_LARGE). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * Calls the JSON API with the signed-in user's token. Requests that move money take an
 * idempotency key; pass one made once per intent (see {@link newIdempotencyKey}).
 */
export async function api<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  options: { idempotencyKey?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = authHeaders();
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError('UNAVAILABLE', 'the server cannot be reached', 0);
  }
  return readResponse<T>(res.status, res.statusText, await res.text());
}

/** The JSON of a response, or the ApiError it carries (also for XMLHttpRequest uploads). */
export function readResponse<T>(status: number, statusText: string, text: string): T {
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (status < 200 || status >= 300) {
    const error = (json as { error?: { code: ErrorCode; message: string; details?: Record<string, unknown> } })?.error;
    throw new ApiError(
      error?.code ?? (status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INTERNAL'),
      error?.message ?? statusText,
      status,
      error?.details,
    );
  }
  return json as T;
}

/** The Authorization header of the signed-in user, if any. */
export function authHeaders(): Record<string, string> {
  const session = loadSession();
  return session ? { authorization: `Bearer ${session.token}` } : {};
}

/** Adds money to the wallet through the sandbox provider; one key per click, so a retry never charges twice. */
export async function topUp(amount: number, idempotencyKey = newIdempotencyKey()): Promise<number> {
  return (await api<{ balance: number }>('POST', '/api/wallet/topup', { amount }, { idempotencyKey })).balance;
}

export async function walletBalance(): Promise<{ balance: number; currency: string }> {
  return api('GET', '/api/wallet');
}
