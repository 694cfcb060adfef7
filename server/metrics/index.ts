import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * One Prometheus registry per server instance (not prom-client's global one), so that several
 * instances in one process, as in tests, do not collide. Subsystems add their own metrics to it.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly moneyMovements: Counter<'kind' | 'result'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lectern_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'lectern_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'lectern_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    moneyMovements: new Counter({
      name: 'lectern_money_operations_total',
      help: 'Money operations (topup, purchase, subscription, tip, refund) by result',
      labelNames: ['kind', 'result'],
      registers: [registry],
    }),
  };
}
