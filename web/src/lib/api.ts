import { type ErrorCode, newIdempotencyKey } from '@lectern/client-sdk';
import { loadSession } from './session';

/** A refusal from the HTTP API, with its stable error code. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number,
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
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  options: { idempotencyKey?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  const session = loadSession();
  if (session) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError('UNAVAILABLE', 'the server cannot be reached', 0);
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const error = (json as { error?: { code: ErrorCode; message: string } } | undefined)?.error;
    throw new ApiError(error?.code ?? 'INTERNAL', error?.message ?? res.statusText, res.status);
  }
  return json as T;
}

/** Adds money to the wallet through the sandbox provider; one key per click, so a retry never charges twice. */
export async function topUp(amount: number, idempotencyKey = newIdempotencyKey()): Promise<number> {
  return (await api<{ balance: number }>('POST', '/api/wallet/topup', { amount }, { idempotencyKey })).balance;
}

export async function walletBalance(): Promise<{ balance: number; currency: string }> {
  return api('GET', '/api/wallet');
}
