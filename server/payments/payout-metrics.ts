import { type Kysely, sql } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DB } from '../db';

/** `lectern_payouts_*`: payouts requested and settled by this node, and those in flight cluster-wide. */
export interface PayoutMetrics {
  /** Payouts requested (debited) through this node; replays not counted. */
  requested: Counter;
  /** Payouts this node settled, by outcome (`paid`, `failed`). */
  settled: Counter<'outcome'>;
  /** Minor units of the payouts this node settled, by outcome. */
  settledAmount: Counter<'outcome'>;
  /** A pass could not advance a payout (provider or database error); it is tried again. */
  advanceFailures: Counter;
}

interface InFlight {
  count: number;
  amount: number;
  oldestSeconds: number;
}

/**
 * The counters count on every node; the in-flight gauges are read from Postgres when Prometheus
 * scrapes (one small query on the `payouts_open` index, shared by the three gauges), so every node
 * reports the same cluster-wide numbers: aggregate them with `max`, not `sum`. A scrape while the
 * database is unreachable keeps the last values rather than failing `/metrics`.
 */
export function createPayoutMetrics(registry: Registry, db: Kysely<DB>): PayoutMetrics {
  let last: InFlight = { count: 0, amount: 0, oldestSeconds: 0 };
  let reading: Promise<InFlight> | undefined;
  const inFlight = () => {
    reading ??= sql<{ count: string; amount: string; oldest: number | null }>`
      SELECT count(*) AS count, coalesce(sum(amount), 0) AS amount,
        extract(epoch FROM now() - min(created_at))::float8 AS oldest
      FROM payouts WHERE status IN ('requested', 'pending')
    `
      .execute(db)
      .then(
        ({ rows: [row] }) => {
          last = { count: Number(row.count), amount: Number(row.amount), oldestSeconds: row.oldest ?? 0 };
          return last;
        },
        () => last,
      )
      .finally(() => {
        // One query per scrape: the three gauges collect within the same moment.
        setTimeout(() => {
          reading = undefined;
        }, 1000).unref();
      });
    return reading;
  };
  const gauge = (name: string, help: string, read: (f: InFlight) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(read(await inFlight()));
      },
    });
  gauge('lectern_payouts_in_flight', 'Payouts requested or pending at the provider (cluster-wide)', (f) => f.count);
  gauge(
    'lectern_payouts_in_flight_amount',
    'Minor units of the payouts requested or pending at the provider (cluster-wide)',
    (f) => f.amount,
  );
  gauge(
    'lectern_payouts_oldest_in_flight_seconds',
    'Age of the oldest payout not yet paid or failed (0 when none; cluster-wide)',
    (f) => f.oldestSeconds,
  );
  return {
    requested: new Counter({
      name: 'lectern_payouts_requested_total',
      help: 'Payouts requested (earnings debited) through this node',
      registers: [registry],
    }),
    settled: new Counter({
      name: 'lectern_payouts_settled_total',
      help: 'Payouts settled by this node, by outcome (paid, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    settledAmount: new Counter({
      name: 'lectern_payouts_settled_amount_total',
      help: 'Minor units of the payouts settled by this node, by outcome (paid, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    advanceFailures: new Counter({
      name: 'lectern_payouts_advance_failures_total',
      help: 'Attempts to hand a payout to the provider or settle it that failed (retried on the next pass)',
      registers: [registry],
    }),
  };
}
