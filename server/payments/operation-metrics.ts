import { Counter, type Registry } from 'prom-client';
import { AppError } from '../errors';
import type { Outcome } from './idempotency';
import type { PaymentsService } from './index';

/** The service's methods that move money, as counted (`kind` label). */
const COUNTED = {
  topUp: 'topup',
  purchase: 'purchase',
  subscribe: 'subscription',
  tip: 'tip',
  refund: 'refund',
  requestPayout: 'payout',
  retryPayout: 'payout_retry',
} as const satisfies Partial<Record<keyof PaymentsService, string>>;

/**
 * `lectern_money_operations_total{kind, result}`: every money operation this node answered, by
 * what it answered — `ok`, `replayed` (a retry given the first answer) or the error code
 * (`INSUFFICIENT_FUNDS`, `CONFLICT`, `UNAVAILABLE`, …). Counted where the service answers, so
 * HTTP and socket callers are counted alike.
 */
export function countOperations(service: PaymentsService, registry: Registry | undefined): PaymentsService {
  if (!registry) return service;
  const operations = new Counter({
    name: 'lectern_money_operations_total',
    help: 'Money operations (topup, purchase, subscription, tip, refund, payout) answered, by result (ok, replayed or the error code)',
    labelNames: ['kind', 'result'],
    registers: [registry],
  });
  const counted = { ...service };
  for (const [method, kind] of Object.entries(COUNTED) as [keyof typeof COUNTED, string][]) {
    const original = service[method] as (...args: unknown[]) => Promise<Outcome<unknown>>;
    (counted as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      try {
        const outcome = await original.apply(service, args);
        operations.inc({ kind, result: outcome.replayed ? 'replayed' : outcome.ok ? 'ok' : outcome.error.code });
        return outcome;
      } catch (err) {
        operations.inc({ kind, result: err instanceof AppError ? err.code : 'INTERNAL' });
        throw err;
      }
    };
  }
  return counted;
}
