import { type Kysely, type Selectable, sql } from 'kysely';
import type { AnalyticsRoomsTable, DB } from '../db';
import {
  addMoneyTotals,
  addRefunds,
  addRevenue,
  addSales,
  decompose,
  moneyMetrics,
  moneyTotals,
  ratio,
  revenueByKind,
  type SaleKind,
  salesByKind,
} from './derive';
import { type PresenceChange, type PresenceSummary, presenceBuckets, summarizePresence } from './presence';
import type {
  ActivityMetrics,
  CreatorTotals,
  DailyMoney,
  MoneyTotals,
  RefundMetrics,
  RevenueByKind,
  RoomAnalytics,
  SeriesPoint,
  SessionMetrics,
  WatchingMetrics,
} from './report-types';

/**
 * The read side of analytics: session metrics from the aggregates, computed at read time for
 * whatever depends on the session's window (which moves while the room is live).
 */

const MINUTE_MS = 60_000;
/** Series longer than this get coarser buckets, so a chart never has more points. */
const MAX_SERIES_POINTS = 720;

export interface SessionRoom {
  id: string;
  owner_id: string;
  title: string;
  status: 'scheduled' | 'live' | 'ended';
  started_at: Date | null;
  ended_at: Date | null;
}

interface Window {
  start: number;
  end: number;
}

/** The session's window: from the start to the end, or to `now` while it is live. */
export function sessionWindow(room: SessionRoom, now: number): Window | null {
  if (!room.started_at) return null;
  const start = room.started_at.getTime();
  const end = room.ended_at ? room.ended_at.getTime() : Math.max(start, now);
  return { start, end: Math.max(start, end) };
}

/** Bucket length of a session's series: a minute, or whole minutes keeping it within MAX_SERIES_POINTS. */
export function bucketLength(window: Window): number {
  const minutes = Math.ceil((window.end - window.start) / MINUTE_MS / MAX_SERIES_POINTS);
  return Math.max(1, minutes) * MINUTE_MS;
}

const ZERO_ACTIVITY: ActivityMetrics = {
  chatMessages: 0,
  likes: 0,
  questionsAsked: 0,
  questionUpvotes: 0,
  questionsAnswered: 0,
};

/** Sales rows summed by kind and whether they were refunded (`sums` below turns them into money). */
interface SaleSums {
  kind: SaleKind;
  refunded: boolean;
  amount: number;
  fee: number;
  n: number;
}

/** Gross, fees and counts of the sales kept, and the refunded ones apart. */
function sums(rows: readonly SaleSums[]) {
  const amounts: Partial<Record<SaleKind, number>> = {};
  const counts: Partial<Record<SaleKind, number>> = {};
  let fees = 0;
  const refunds: RefundMetrics = { count: 0, amount: 0 };
  for (const r of rows) {
    if (r.refunded) {
      refunds.count += Number(r.n);
      refunds.amount += Number(r.amount);
      continue;
    }
    amounts[r.kind] = (amounts[r.kind] ?? 0) + Number(r.amount);
    counts[r.kind] = (counts[r.kind] ?? 0) + Number(r.n);
    fees += Number(r.fee);
  }
  return { revenue: revenueByKind(amounts), salesByKind: salesByKind(counts), fees, refunds };
}

const saleSums = [
  'kind',
  sql<boolean>`refunded_at IS NOT NULL`.as('refunded'),
  sql<number>`sum(amount)::int8`.as('amount'),
  sql<number>`sum(fee)::int8`.as('fee'),
  sql<number>`count(*)::int8`.as('n'),
] as const;

export class AnalyticsReports {
  constructor(private readonly db: Kysely<DB>) {}

  /** Metrics of each room's session, in the order given. */
  async sessions(rooms: readonly SessionRoom[], now: number): Promise<SessionMetrics[]> {
    if (rooms.length === 0) return [];
    const ids = rooms.map((r) => r.id);
    const [stats, uniques, sales, buyers, viewerBuyers] = await Promise.all([
      this.db.selectFrom('analytics_rooms').selectAll().where('room_id', 'in', ids).execute(),
      this.db
        .selectFrom('analytics_room_viewers')
        .select(['room_id', sql<number>`count(*)::int8`.as('n')])
        .where('room_id', 'in', ids)
        .groupBy('room_id')
        .execute(),
      this.db
        .selectFrom('analytics_sales')
        .select(['room_id', ...saleSums])
        .where('room_id', 'in', ids)
        .groupBy(['room_id', 'kind', sql`refunded_at IS NOT NULL`])
        .execute(),
      // Buyers of what was kept: a buyer whose only purchase was refunded bought nothing.
      this.db
        .selectFrom('analytics_sales')
        .select(['room_id', sql<number>`count(DISTINCT buyer_id)::int8`.as('n')])
        .where('room_id', 'in', ids)
        .where('refunded_at', 'is', null)
        .groupBy('room_id')
        .execute(),
      // Buyers who joined the session they paid in (the share of viewers who bought).
      this.db
        .selectFrom('analytics_sales as s')
        .innerJoin('analytics_room_viewers as v', (j) =>
          j.onRef('v.room_id', '=', 's.room_id').onRef('v.user_id', '=', 's.buyer_id'),
        )
        .select(['s.room_id', sql<number>`count(DISTINCT s.buyer_id)::int8`.as('n')])
        .where('s.room_id', 'in', ids)
        .where('s.refunded_at', 'is', null)
        .groupBy('s.room_id')
        .execute(),
    ]);
    const statsOf = new Map(stats.map((s) => [s.room_id, s]));
    const uniqueOf = new Map(uniques.map((u) => [u.room_id, u.n]));
    const buyersOf = new Map(buyers.map((b) => [b.room_id, b.n]));
    const viewerBuyersOf = new Map(viewerBuyers.map((b) => [b.room_id, b.n]));
    const salesOf = new Map<string, SaleSums[]>();
    for (const s of sales) salesOf.set(s.room_id!, [...(salesOf.get(s.room_id!) ?? []), s]);
    const presence = await this.presenceSummaries(rooms, statsOf, now);

    return rooms.map((room) => {
      const window = sessionWindow(room, now);
      const s = statsOf.get(room.id);
      const durationMs = window ? window.end - window.start : 0;
      const { peak, viewerMs } = presence.get(room.id) ?? { peak: 0, viewerMs: 0 };
      const unique = uniqueOf.get(room.id) ?? 0;
      const signedInSeconds = s?.watch_seconds ?? 0;
      const guestSeconds = s?.guest_watch_seconds ?? 0;
      const sold = sums(salesOf.get(room.id) ?? []);
      return {
        roomId: room.id,
        title: room.title,
        status: room.status,
        startedAt: room.started_at?.toISOString() ?? null,
        endedAt: room.ended_at?.toISOString() ?? null,
        durationSeconds: durationMs / 1000,
        viewers: {
          peak,
          average: durationMs > 0 ? viewerMs / durationMs : 0,
          viewerSeconds: viewerMs / 1000,
          unique,
          guestJoins: s?.guest_joins ?? 0,
          joins: s?.joins ?? 0,
        },
        watch: {
          seconds: signedInSeconds + guestSeconds,
          signedInSeconds,
          guestSeconds,
          perViewerSeconds: ratio(signedInSeconds, unique),
        },
        activity: s
          ? {
              chatMessages: s.chat_messages,
              likes: s.likes,
              questionsAsked: s.questions_asked,
              questionUpvotes: s.question_upvotes,
              questionsAnswered: s.questions_answered,
            }
          : { ...ZERO_ACTIVITY },
        money: moneyMetrics({
          ...sold,
          buyers: buyersOf.get(room.id) ?? 0,
          viewerBuyers: viewerBuyersOf.get(room.id) ?? 0,
          uniqueViewers: unique,
        }),
      };
    });
  }

  /** One session in full: its metrics, the revenue decomposition and its time series. */
  async room(room: SessionRoom, now: number): Promise<RoomAnalytics> {
    const [session] = await this.sessions([room], now);
    const window = sessionWindow(room, now);
    const bucketMs = window ? bucketLength(window) : MINUTE_MS;
    return {
      session,
      decomposition: decompose(session.money, session.viewers.unique),
      bucketSeconds: bucketMs / 1000,
      series: window ? await this.series(room.id, window, bucketMs) : [],
      generatedAt: new Date(now).toISOString(),
    };
  }

  /** The creator's totals over all their sessions, and one page of the sessions. */
  async creator(
    creatorId: string,
    page: { limit: number; offset: number },
    now: number,
  ): Promise<{ totals: CreatorTotals; sessions: SessionMetrics[]; total: number }> {
    const rooms = await this.db
      .selectFrom('rooms')
      .select(['id', 'owner_id', 'title', 'status', 'started_at', 'ended_at'])
      .where('owner_id', '=', creatorId)
      .where('started_at', 'is not', null)
      .orderBy('started_at', 'desc')
      .orderBy('id')
      .execute();
    const [sessions, distinct, outside] = await Promise.all([
      this.sessions(rooms, now),
      this.distinctAcrossSessions(creatorId),
      this.db
        .selectFrom('analytics_sales as s')
        .leftJoin('rooms as r', 'r.id', 's.room_id')
        .where('s.creator_id', '=', creatorId)
        .where((eb) => eb.or([eb('s.room_id', 'is', null), eb('r.started_at', 'is', null)]))
        .select([
          's.kind',
          sql<boolean>`s.refunded_at IS NOT NULL`.as('refunded'),
          sql<number>`sum(s.amount)::int8`.as('amount'),
          sql<number>`sum(s.fee)::int8`.as('fee'),
          sql<number>`count(*)::int8`.as('n'),
        ])
        .groupBy(['s.kind', sql`s.refunded_at IS NOT NULL`])
        .execute(),
    ]);
    const totals = sumSessions(sessions, distinct);
    const outsideSessions: MoneyTotals = moneyTotals(sums(outside));
    const inSessions: MoneyTotals = moneyTotals({
      revenue: totals.money.revenue,
      salesByKind: totals.money.salesByKind,
      fees: totals.money.fees,
      refunds: totals.money.refunds,
    });
    return {
      totals: {
        ...totals,
        outsideSessions,
        allRevenue: addRevenue(totals.money.revenue, outsideSessions.revenue),
        all: addMoneyTotals(inSessions, outsideSessions),
      },
      sessions: sessions.slice(page.offset, page.offset + page.limit),
      total: sessions.length,
    };
  }

  /**
   * The creator's sales per calendar day of `timeZone`, the last `days` days up to `now`'s,
   * every day present (zeros included). Sales count on the day they were made; those refunded
   * since are left out of the day's money and shown as `refunded`.
   */
  async daily(creatorId: string, days: number, timeZone: string, now: number): Promise<DailyMoney[]> {
    const { rows } = await sql<{
      day: string;
      revenue: number;
      fees: number;
      sales: number;
      refunded: number;
    }>`
      WITH days AS (
        SELECT generate_series(today - ${days - 1}::int, today, interval '1 day')::date AS day
        FROM (SELECT (${new Date(now)}::timestamptz AT TIME ZONE ${timeZone})::date AS today) AS t
      )
      SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
        coalesce(sum(s.amount) FILTER (WHERE s.refunded_at IS NULL), 0)::int8 AS revenue,
        coalesce(sum(s.fee) FILTER (WHERE s.refunded_at IS NULL), 0)::int8 AS fees,
        count(s.id) FILTER (WHERE s.refunded_at IS NULL)::int8 AS sales,
        coalesce(sum(s.amount) FILTER (WHERE s.refunded_at IS NOT NULL), 0)::int8 AS refunded
      FROM days d
      LEFT JOIN analytics_sales s ON s.creator_id = ${creatorId}
        AND s.at >= (d.day::timestamp AT TIME ZONE ${timeZone})
        AND s.at < ((d.day + 1)::timestamp AT TIME ZONE ${timeZone})
      GROUP BY d.day
      ORDER BY d.day
    `.execute(this.db);
    return rows.map((r) => {
      const revenue = Number(r.revenue);
      const fees = Number(r.fees);
      return { day: r.day, revenue, fees, net: revenue - fees, sales: Number(r.sales), refunded: Number(r.refunded) };
    });
  }

  /** Completion per lesson and replay of the creator, most watched first. */
  async watching(creatorId: string, limit = 100): Promise<WatchingMetrics[]> {
    const rows = await this.db
      .selectFrom('analytics_media as m')
      .leftJoin('contents as c', (j) => j.onRef('c.id', '=', 'm.item_id').on('m.item_kind', '=', 'content'))
      .leftJoin('rooms as r', (j) => j.onRef('r.id', '=', 'm.item_id').on('m.item_kind', '=', 'replay'))
      .select([
        'm.item_kind',
        'm.item_id',
        'm.viewers',
        'm.completions',
        'm.watch_seconds',
        'c.title as content_title',
        'r.title as room_title',
      ])
      .where('m.creator_id', '=', creatorId)
      .orderBy('m.viewers', 'desc')
      .orderBy('m.item_id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      itemKind: r.item_kind,
      itemId: r.item_id,
      title: r.content_title ?? r.room_title ?? '',
      viewers: r.viewers,
      completions: r.completions,
      completionRate: r.viewers > 0 ? r.completions / r.viewers : null,
      watchSeconds: Math.round(r.watch_seconds),
    }));
  }

  /** Viewers and buyers counted once across all of a creator's sessions. */
  private async distinctAcrossSessions(creatorId: string): Promise<Distinct> {
    const [viewers, buyers, viewerBuyers] = await Promise.all([
      this.db
        .selectFrom('analytics_room_viewers as v')
        .innerJoin('rooms as r', 'r.id', 'v.room_id')
        .where('v.creator_id', '=', creatorId)
        .where('r.started_at', 'is not', null)
        .select(sql<number>`count(DISTINCT v.user_id)::int8`.as('n'))
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom('analytics_sales as s')
        .innerJoin('rooms as r', 'r.id', 's.room_id')
        .where('s.creator_id', '=', creatorId)
        .where('r.started_at', 'is not', null)
        .where('s.refunded_at', 'is', null)
        .select(sql<number>`count(DISTINCT s.buyer_id)::int8`.as('n'))
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom('analytics_sales as s')
        .innerJoin('rooms as r', 'r.id', 's.room_id')
        .innerJoin('analytics_room_viewers as v', (j) =>
          j.onRef('v.room_id', '=', 's.room_id').onRef('v.user_id', '=', 's.buyer_id'),
        )
        .where('s.creator_id', '=', creatorId)
        .where('r.started_at', 'is not', null)
        .where('s.refunded_at', 'is', null)
        .select(sql<number>`count(DISTINCT s.buyer_id)::int8`.as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return { viewers: viewers.n, buyers: buyers.n, viewerBuyers: viewerBuyers.n };
  }

  /**
   * Peak and viewer-time per session. An ended session's window is fixed, so its summary is
   * cached on its `analytics_rooms` row and reused while no presence change arrived since
   * (`presence_version`); live sessions are computed afresh.
   */
  private async presenceSummaries(
    rooms: readonly SessionRoom[],
    statsOf: Map<string, Selectable<AnalyticsRoomsTable>>,
    now: number,
  ): Promise<Map<string, PresenceSummary>> {
    const out = new Map<string, PresenceSummary>();
    const toCompute: { room: SessionRoom; window: Window; version: number }[] = [];
    for (const room of rooms) {
      const window = sessionWindow(room, now);
      const s = statsOf.get(room.id);
      if (!window || !s || s.presence_version === 0) continue;
      if (room.ended_at && s.summary_version === s.presence_version) {
        out.set(room.id, { peak: s.summary_peak ?? 0, viewerMs: s.summary_viewer_ms ?? 0 });
      } else {
        toCompute.push({ room, window, version: s.presence_version });
      }
    }
    if (toCompute.length === 0) return out;
    const changes = await this.changes(toCompute.map((c) => c.room.id));
    for (const { room, window, version } of toCompute) {
      const summary = summarizePresence(changes.get(room.id) ?? [], window.start, window.end);
      out.set(room.id, summary);
      if (room.ended_at) {
        // Guarded by the version read before the changes: if one arrived meanwhile, the row's
        // version has moved on and this (possibly stale) summary is not stored.
        await this.db
          .updateTable('analytics_rooms')
          .set({ summary_version: version, summary_peak: summary.peak, summary_viewer_ms: summary.viewerMs })
          .where('room_id', '=', room.id)
          .where('presence_version', '=', version)
          .execute();
      }
    }
    return out;
  }

  private async changes(roomIds: readonly string[]): Promise<Map<string, PresenceChange[]>> {
    const rows = await this.db
      .selectFrom('analytics_presence')
      .select(['room_id', 'at', 'delta'])
      .where('room_id', 'in', roomIds)
      .orderBy('room_id')
      .orderBy('at')
      .execute();
    const out = new Map<string, PresenceChange[]>();
    for (const r of rows) {
      const list = out.get(r.room_id) ?? [];
      list.push({ at: r.at.getTime(), delta: r.delta });
      out.set(r.room_id, list);
    }
    return out;
  }

  /**
   * The session's buckets. Activity recorded before the start (a lobby) is shown in the first
   * bucket and after the end in the last, so the series adds up to the session's totals.
   */
  private async series(roomId: string, window: Window, bucketMs: number): Promise<SeriesPoint[]> {
    const [changes, minutes, sales] = await Promise.all([
      this.changes([roomId]),
      this.db
        .selectFrom('analytics_room_minutes')
        .select(['minute', 'chat_messages', 'likes'])
        .where('room_id', '=', roomId)
        .execute(),
      this.db
        .selectFrom('analytics_sales')
        .select(['at', 'amount'])
        .where('room_id', '=', roomId)
        .where('refunded_at', 'is', null)
        .execute(),
    ]);
    const buckets = presenceBuckets(changes.get(roomId) ?? [], window.start, window.end, bucketMs);
    const points: SeriesPoint[] = buckets.map((b) => ({
      at: new Date(b.start).toISOString(),
      peakViewers: b.peak,
      averageViewers: b.coveredMs > 0 ? b.viewerMs / b.coveredMs : 0,
      chatMessages: 0,
      likes: 0,
      revenue: 0,
    }));
    if (points.length === 0) return points;
    const first = buckets[0].start;
    const indexOf = (t: number) => Math.min(points.length - 1, Math.max(0, Math.floor((t - first) / bucketMs)));
    for (const m of minutes) {
      const p = points[indexOf(m.minute.getTime())];
      p.chatMessages += m.chat_messages;
      p.likes += m.likes;
    }
    for (const s of sales) points[indexOf(s.at.getTime())].revenue += s.amount;
    return points;
  }
}

/** Viewers and buyers of a creator, each counted once across sessions. */
interface Distinct {
  viewers: number;
  buyers: number;
  /** Buyers who viewed the session they paid in. */
  viewerBuyers: number;
}

/** A creator's totals from their sessions' metrics; viewers and buyers counted once across sessions. */
export function sumSessions(
  sessions: readonly SessionMetrics[],
  distinct: Distinct,
): Omit<CreatorTotals, 'outsideSessions' | 'allRevenue' | 'all'> {
  let durationSeconds = 0;
  let viewerSeconds = 0;
  let peak = 0;
  let joins = 0;
  let guestJoins = 0;
  let signedInSeconds = 0;
  let guestSeconds = 0;
  let sold = salesByKind({});
  let fees = 0;
  let refunds: RefundMetrics = { count: 0, amount: 0 };
  let revenue: RevenueByKind = revenueByKind({});
  const activity = { ...ZERO_ACTIVITY };
  for (const s of sessions) {
    durationSeconds += s.durationSeconds;
    viewerSeconds += s.viewers.viewerSeconds;
    peak = Math.max(peak, s.viewers.peak);
    joins += s.viewers.joins;
    guestJoins += s.viewers.guestJoins;
    signedInSeconds += s.watch.signedInSeconds;
    guestSeconds += s.watch.guestSeconds;
    sold = addSales(sold, s.money.salesByKind);
    fees += s.money.fees;
    refunds = addRefunds(refunds, s.money.refunds);
    revenue = addRevenue(revenue, s.money.revenue);
    for (const k of Object.keys(activity) as (keyof ActivityMetrics)[]) activity[k] += s.activity[k];
  }
  const money = moneyMetrics({
    revenue,
    salesByKind: sold,
    fees,
    refunds,
    buyers: distinct.buyers,
    viewerBuyers: distinct.viewerBuyers,
    uniqueViewers: distinct.viewers,
  });
  return {
    sessions: sessions.length,
    liveSessions: sessions.filter((s) => s.status === 'live').length,
    durationSeconds,
    viewers: {
      peak,
      average: durationSeconds > 0 ? viewerSeconds / durationSeconds : 0,
      viewerSeconds,
      unique: distinct.viewers,
      guestJoins,
      joins,
    },
    watch: {
      seconds: signedInSeconds + guestSeconds,
      signedInSeconds,
      guestSeconds,
      perViewerSeconds: ratio(signedInSeconds, distinct.viewers),
    },
    activity,
    money,
    decomposition: decompose(money, distinct.viewers),
  };
}
