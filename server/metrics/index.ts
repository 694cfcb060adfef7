import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * One Prometheus registry per server instance (not prom-client's global one), so that several
 * instances in one process, as in tests, do not collide. Subsystems add their own metrics to it.
 * docs/observability.md lists every family; ops/grafana/lectern.json charts them.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  /** Error answers by transport (`http`, `socket`) and code. */
  readonly errors: Counter<'transport' | 'code'>;
}

const errorCounters = new WeakMap<Registry, Counter<'transport' | 'code'>>();

/**
 * `lectern_errors_total`: every error answer, HTTP response or socket ack, by its code. One per
 * registry, shared by the HTTP edge and the gateway (each only has to know the registry).
 */
export function errorCounter(registry: Registry): Counter<'transport' | 'code'> {
  let counter = errorCounters.get(registry);
  if (!counter) {
    counter = new Counter({
      name: 'lectern_errors_total',
      help: 'Error answers (HTTP responses and socket acks) by transport and error code',
      labelNames: ['transport', 'code'],
      registers: [registry],
    });
    errorCounters.set(registry, counter);
  }
  return counter;
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
    errors: errorCounter(registry),
  };
}
