/**
 * The JSON shapes of the analytics endpoints (`GET /api/analytics/...`). No imports, so the
 * dashboard page can import these types too. Definitions of every number: docs/analytics.md.
 * Money is integer minor units; times are ISO-8601 strings; ratios are plain numbers.
 */

/** Gross revenue (what buyers paid, before the platform's fee), refunded sales taken out. */
export interface RevenueByKind {
  ticket: number;
  content: number;
  tip: number;
  subscription: number;
  total: number;
}

/** Payments counted, by kind (refunded ones not). */
export interface SalesByKind {
  ticket: number;
  content: number;
  tip: number;
  subscription: number;
}

/** Sales that were refunded: taken out of revenue, fees and net, and counted here instead. */
export interface RefundMetrics {
  /** How many. */
  count: number;
  /** What their buyers had paid (gross). */
  amount: number;
}

/** Money of sales outside any session, or of all sales: gross, fees, net, refunds. */
export interface MoneyTotals {
  /** Gross, by kind. */
  revenue: RevenueByKind;
  sales: number;
  /** The platform's fees on `revenue`. */
  fees: number;
  /** revenue.total − fees: the creator's part. */
  net: number;
  refunds: RefundMetrics;
}

export interface ViewerMetrics {
  /** Most viewers (open viewer connections, the creator not counted) at any instant of the session. */
  peak: number;
  /** Time-weighted average of concurrent viewers over the session: viewerSeconds / durationSeconds. */
  average: number;
  /** Integral of concurrent viewers over the session, in seconds. */
  viewerSeconds: number;
  /** Distinct signed-in viewers. */
  unique: number;
  /** Joins by guests (no account, so not unique). */
  guestJoins: number;
  /** Joins by anyone but the creator, guests included. */
  joins: number;
}

export interface WatchMetrics {
  /** Watch time of everyone (heartbeats), in seconds. */
  seconds: number;
  signedInSeconds: number;
  guestSeconds: number;
  /** signedInSeconds / unique viewers; null without viewers. */
  perViewerSeconds: number | null;
}

export interface ActivityMetrics {
  chatMessages: number;
  likes: number;
  questionsAsked: number;
  questionUpvotes: number;
  questionsAnswered: number;
}

export interface MoneyMetrics {
  /** Gross: what buyers paid, before the platform's fee; refunded sales are not in it. */
  revenue: RevenueByKind;
  /** The platform's fees on `revenue`. */
  fees: number;
  /** revenue.total − fees: what the creator earns from it. */
  net: number;
  /** Refunded sales, not counted anywhere else. */
  refunds: RefundMetrics;
  /** Payments (sales and tips) counted in `revenue`. */
  sales: number;
  salesByKind: SalesByKind;
  /** Distinct users behind those payments. */
  buyers: number;
  /**
   * buyers / unique viewers; null without viewers. Not a rate: buyers who never joined (a presold
   * ticket, a lesson bought from the catalog during the session) count, so it can exceed 1. The
   * decomposition's factor.
   */
  buyersPerViewer: number | null;
  /** Buyers who were also viewers of the session (creator: of the session they paid in). */
  viewerBuyers: number;
  /** viewerBuyers / unique viewers: the share of viewers who bought, 0 to 1; null without viewers. */
  viewerConversion: number | null;
  /** revenue.total / unique viewers; null without viewers. */
  revenuePerViewer: number | null;
  /** revenue.total / buyers; null without buyers. */
  revenuePerBuyer: number | null;
}

/** One live session: a room's run from `startedAt` to `endedAt` (now, while live). */
export interface SessionMetrics {
  roomId: string;
  title: string;
  status: 'scheduled' | 'live' | 'ended';
  startedAt: string | null;
  endedAt: string | null;
  /** Length of the session so far; 0 before it starts. */
  durationSeconds: number;
  viewers: ViewerMetrics;
  watch: WatchMetrics;
  activity: ActivityMetrics;
  money: MoneyMetrics;
}

/** One bucket of the session's time series (`bucketSeconds` long, aligned to the clock). */
export interface SeriesPoint {
  /** Start of the bucket. */
  at: string;
  /** Most concurrent viewers during the part of the bucket inside the session. */
  peakViewers: number;
  /** Time-weighted average of concurrent viewers over that part. */
  averageViewers: number;
  chatMessages: number;
  likes: number;
  /** Gross revenue (every kind) of the session's sales made in the bucket, refunded ones not counted. */
  revenue: number;
}

/** Revenue = viewers x buyers per viewer x revenue per buyer, stated so a reader (or test) can check it. */
export interface RevenueDecomposition {
  viewers: number;
  buyersPerViewer: number | null;
  revenuePerBuyer: number | null;
  /** viewers x buyersPerViewer x revenuePerBuyer (null when a factor is). */
  product: number | null;
  revenue: number;
  /** product equals revenue (to float precision), or revenue is 0 with no viewers. */
  holds: boolean;
}

export interface RoomAnalytics {
  session: SessionMetrics;
  decomposition: RevenueDecomposition;
  bucketSeconds: number;
  series: SeriesPoint[];
  generatedAt: string;
}

export interface CreatorTotals {
  sessions: number;
  liveSessions: number;
  durationSeconds: number;
  viewers: ViewerMetrics;
  watch: WatchMetrics;
  activity: ActivityMetrics;
  /** Payments attributed to the creator's sessions; buyers and unique viewers are distinct across sessions. */
  money: MoneyMetrics;
  decomposition: RevenueDecomposition;
  /** Sales not made from inside a session: contents and subscriptions bought elsewhere (the catalog, a content page). */
  outsideSessions: MoneyTotals;
  /** Everything the creator sold: in sessions and outside them (gross by kind; see `all`). */
  allRevenue: RevenueByKind;
  /** Everything the creator sold, in sessions and outside them: gross, fees, net and refunds. */
  all: MoneyTotals;
}

/** One day of a creator's sales (in the time zone asked for), every sale in or outside sessions. */
export interface DailyMoney {
  /** The day, `YYYY-MM-DD`. */
  day: string;
  /** Gross of the day's sales that were not refunded. */
  revenue: number;
  fees: number;
  net: number;
  sales: number;
  /** Of the day's sales, those refunded since: their gross. */
  refunded: number;
}

/** Watching after the fact, per lesson or replay (from `media.progress` / `media.completed`). */
export interface WatchingMetrics {
  itemKind: 'content' | 'replay';
  /** The content's id, or the room's for a replay. */
  itemId: string;
  title: string;
  /** Signed-in viewers who started it. */
  viewers: number;
  /** Of them, those who reached the end (90%). */
  completions: number;
  /** completions / viewers; null without viewers. */
  completionRate: number | null;
  watchSeconds: number;
}

export interface CreatorAnalytics {
  creatorId: string;
  totals: CreatorTotals;
  /** Sales per day over the last `days` days (today included), oldest first, in `timeZone`. */
  daily: { days: number; timeZone: string; points: DailyMoney[] };
  /** Completion per lesson and replay, most watched first. */
  watching: WatchingMetrics[];
  /** The creator's sessions, newest first, one page of them. */
  sessions: SessionMetrics[];
  page: { limit: number; offset: number; total: number };
  generatedAt: string;
}
