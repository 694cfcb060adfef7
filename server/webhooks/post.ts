import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { bareHost, isPublicAddress, PrivateAddressError, publicOnlyLookup } from './address-guard';

/** How one attempt went: the endpoint's status code, if it answered, and why it failed, if it did. */
export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

export interface PostOptions {
  timeoutMs: number;
  /** Skip the public-address check (development, tests). */
  allowPrivate: boolean;
}

/** Kept from an endpoint's error answer, for the delivery's `lastError`. */
const ERROR_BODY_LIMIT = 300;

/**
 * POSTs `body` once. 2xx is success; any other status, a refused address, a network error or no
 * complete answer within `timeoutMs` is a failure. Redirects are not followed (a 3xx fails): a
 * redirect could point anywhere, including where the address check would refuse to go.
 */
export function postOnce(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: PostOptions,
): Promise<AttemptResult> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return settle({ ok: false, statusCode: null, error: 'invalid URL' });
    }
    // The lookup below is skipped for IP literals, so those are checked here.
    const host = bareHost(target.hostname);
    if (!options.allowPrivate && isIP(host) && !isPublicAddress(host)) {
      return settle({ ok: false, statusCode: null, error: new PrivateAddressError(host, host).message });
    }
    const client = target.protocol === 'https:' ? https : http;
    const signal = AbortSignal.timeout(options.timeoutMs);
    const request = client.request(target, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      signal,
      agent: false,
      ...(options.allowPrivate ? {} : { lookup: publicOnlyLookup }),
    });
    request.on('response', (response) => {
      const statusCode = response.statusCode ?? 0;
      const ok = statusCode >= 200 && statusCode < 300;
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (text.length < ERROR_BODY_LIMIT) text += chunk.slice(0, ERROR_BODY_LIMIT - text.length);
      });
      const done = () =>
        settle({
          ok,
          statusCode,
          error: ok ? null : `HTTP ${statusCode}${text.trim() ? `: ${text.trim()}` : ''}`,
        });
      response.on('end', done);
      // The status is known even if the body is cut short (timeout, reset).
      response.on('error', done);
      response.on('close', done);
    });
    request.on('error', (err: Error & { code?: string }) => {
      const timedOut = signal.aborted;
      settle({
        ok: false,
        statusCode: null,
        error: timedOut ? `no answer within ${options.timeoutMs} ms` : err.message || err.code || 'request failed',
      });
    });
    request.end(body);
  });
}
