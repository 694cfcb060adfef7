import type { Kysely } from 'kysely';
import type pg from 'pg';
import { z } from 'zod';
import type { Principal } from '../auth';
import type { Config } from '../config';
import type { DB } from '../db';
import { forbidden, invalidArgument, notFound } from '../errors';
import { type Consumer, type EngagementEvent, type Events, seenOptionsFor } from '../events';
import type { Logger } from '../log';
import { id, parse } from '../validation';
import { AnalyticsAggregator } from './aggregator';
import { batchHandler } from './batch-handler';
import type { CreatorAnalytics, RoomAnalytics } from './report-types';
import { AnalyticsReports } from './reports';

export type {
  ActivityMetrics,
  CreatorAnalytics,
  CreatorTotals,
  DailyMoney,
  MoneyMetrics,
  MoneyTotals,
  RefundMetrics,
  RevenueByKind,
  RevenueDecomposition,
  RoomAnalytics,
  SalesByKind,
  SeriesPoint,
  SessionMetrics,
  ViewerMetrics,
  WatchMetrics,
} from './report-types';

/**
 * Creator analytics: a consumer of the engagement stream (group `analytics`) aggregates every
 * session's audience, activity and money into Postgres, exactly once per event; reports serve
 * them to the room's creator and to admins. Metric definitions: docs/analytics.md.
 */
export interface Analytics {
  /** A session's metrics, revenue decomposition and time series: its creator or an admin. */
  roomReport(actor: Principal, roomId: string): Promise<RoomAnalytics>;
  /** A creator's totals and sessions: the creator (`creatorId` omitted or their own) or an admin. */
  creatorReport(actor: Principal, query: unknown): Promise<CreatorAnalytics>;
  /** Applies one event exactly once, as the consumer does; resolves whether this call applied it. */
  apply(event: EngagementEvent): Promise<boolean>;
  /** The running consumer, when this node runs one (`ANALYTICS_ENABLED`). */
  readonly consumer?: Consumer;
  /** Stops the consumer (its batch in flight finishes) and the pruning timer. Safe to call twice. */
  close(): Promise<void>;
}

export const ANALYTICS_GROUP = 'analytics';

/** An IANA time zone name this runtime knows ("Europe/Paris", "UTC"). */
const timeZone = z
  .string()
  .min(1)
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'an IANA time zone, such as Europe/Paris');

export const creatorQuery = z.strictObject({
  creatorId: id.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
  /** Days of sales per day (`daily`), today included, in `tz`. */
  days: z.coerce.number().int().min(1).max(366).default(30),
  tz: timeZone.default('UTC'),
});

export interface AnalyticsDeps {
  db: Kysely<DB>;
  /** The pool under `db` (the aggregator's transactions send several statements at a time). */
  pool: pg.Pool;
  /** The engagement events subsystem; with it (and `analyticsEnabled`) this node runs a consumer. */
  events?: Events;
  config: Pick<
    Config,
    'analyticsEnabled' | 'analyticsDedupeRetentionHours' | 'eventsClaimMinIdleMs' | 'eventsMaxDeliveries'
  >;
  log?: Logger;
  now?: () => number;
}

const PRUNE_INTERVAL_MS = 3600_000;
const PRUNE_BATCH = 10_000;

export function createAnalytics(deps: AnalyticsDeps): Analytics {
  const { db, config, log } = deps;
  const now = deps.now ?? Date.now;
  const aggregator = new AnalyticsAggregator(db, deps.pool);
  const reports = new AnalyticsReports(db);

  const consumer =
    deps.events && config.analyticsEnabled
      ? deps.events.consume({
          group: ANALYTICS_GROUP,
          // The seen store skips most redeliveries cheaply; the processed ids written in the
          // same transaction as the aggregates make them exact even when it cannot (a restart,
          // an expired seen id, a crash between the commit and the ack).
          handler: batchHandler(
            deps.events.seenEvents(ANALYTICS_GROUP, seenOptionsFor(config.eventsClaimMinIdleMs)),
            (events) => aggregator.applyAll(events),
            log,
          ),
          claimMinIdleMs: config.eventsClaimMinIdleMs,
          maxDeliveries: config.eventsMaxDeliveries,
        })
      : undefined;

  /** Forgets processed ids older than any redelivery can be, in bounded batches. */
  async function prune(): Promise<void> {
    const cutoff = new Date(now() - config.analyticsDedupeRetentionHours * 3600_000);
    for (;;) {
      const result = await db
        .deleteFrom('analytics_processed_events')
        .where(
          'event_id',
          'in',
          db
            .selectFrom('analytics_processed_events')
            .select('event_id')
            .where('processed_at', '<', cutoff)
            .limit(PRUNE_BATCH),
        )
        .executeTakeFirst();
      if (Number(result.numDeletedRows) < PRUNE_BATCH) return;
    }
  }
  const pruner = consumer
    ? setInterval(
        () => prune().catch((err) => log?.warn({ err }, 'analytics: pruning processed ids failed')),
        PRUNE_INTERVAL_MS,
      )
    : undefined;
  pruner?.unref();

  async function roomOf(roomId: string) {
    const room = await db
      .selectFrom('rooms')
      .select(['id', 'owner_id', 'title', 'status', 'started_at', 'ended_at'])
      .where('id', '=', parse(id, roomId))
      .executeTakeFirst();
    if (!room) throw notFound('room');
    return room;
  }

  function requireAnalyst(actor: Principal): void {
    if (actor.role !== 'creator' && actor.role !== 'admin') throw forbidden('analytics are for creators and admins');
  }

  let closing: Promise<void> | undefined;
  return {
    consumer,
    apply: (event) => aggregator.apply(event),

    async roomReport(actor, roomId) {
      requireAnalyst(actor);
      const room = await roomOf(roomId);
      if (room.owner_id !== actor.id && actor.role !== 'admin')
        throw forbidden('only the room owner can see its analytics');
      return reports.room(room, now());
    },

    async creatorReport(actor, query) {
      requireAnalyst(actor);
      const q = parse(creatorQuery, query);
      const creatorId = q.creatorId ?? actor.id;
      if (creatorId !== actor.id && actor.role !== 'admin')
        throw forbidden("only admins can see another creator's analytics");
      const at = now();
      const [{ totals, sessions, total }, watching, daily] = await Promise.all([
        reports.creator(creatorId, q, at),
        reports.watching(creatorId),
        reports.daily(creatorId, q.days, q.tz, at).catch((err: { code?: string }) => {
          // A zone the database does not know (its list and the runtime's can differ).
          if (err.code === '22023') throw invalidArgument(`unknown time zone ${q.tz}`);
          throw err;
        }),
      ]);
      return {
        creatorId,
        totals,
        daily: { days: q.days, timeZone: q.tz, points: daily },
        watching,
        sessions,
        page: { limit: q.limit, offset: q.offset, total },
        generatedAt: new Date(at).toISOString(),
      };
    },

    close() {
      closing ??= (async () => {
        if (pruner) clearInterval(pruner);
        await consumer?.close();
      })();
      return closing;
    },
  };
}
