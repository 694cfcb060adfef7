import { Registry } from 'prom-client';
import type { Logger } from '../log';
import type { EventLog, GroupInfo } from './event-log';
import { type EventMetrics, eventMetrics } from './metrics';
import { minStreamId, nextStreamId } from './stream-id';

/**
 * Retention: streams stay bounded without losing what a consumer group still needs.
 *
 * The rule. Every `intervalMs`, for each stream:
 *   needed(group) = the group's oldest pending id, or, with nothing pending, the id right after
 *                   its last-delivered id;
 *   XTRIM MINID min(needed over all groups).
 * So an entry goes only once every group has read it and acknowledged it (pending entries of dead
 * consumers included, since they are still pending). With no group at all nothing is trimmed.
 *
 * Racing with consumers is safe: between reading the groups and trimming, a group's needed point
 * can only move forward (reads advance last-delivered, acks remove pending, claims keep ids).
 *
 * The emergency valve is separate: the log's `maxLength` caps each stream on every append
 * (`XADD MAXLEN ~`), so a group that stops reading cannot grow Redis without bound. Reaching it
 * drops that group's oldest unread entries; `lectern_events_group_lag` shows it coming. A group
 * that is gone for good should be deleted (XGROUP DESTROY), or it holds retention at its position.
 */
export function safeTrimPoint(groups: readonly GroupInfo[]): string | null {
  if (groups.length === 0) return null;
  return minStreamId(groups.map((g) => g.oldestPendingId ?? nextStreamId(g.lastDeliveredId)));
}

export interface RetentionOptions {
  log: EventLog;
  /** Streams to maintain. Default `['engagement']`. */
  streams?: readonly string[];
  /** Pass period. Default 30,000 ms. */
  intervalMs?: number;
  /** Let Redis trim whole internal nodes only (cheaper; keeps up to ~100 more entries). Default true. */
  approximate?: boolean;
  /** A group lagging more entries than this is logged as a warning (again every 5 min while it lasts). Default 10,000. */
  lagWarnThreshold?: number;
  /** Where `lectern_events_*` metrics go (group lag and pending are refreshed each pass). Default: a private registry. */
  registry?: Registry;
  logger?: Logger;
}

export interface RetentionReport {
  stream: string;
  groups: GroupInfo[];
  /** The MINID trimmed to; null when nothing may be trimmed (no groups). */
  minId: string | null;
  trimmed: number;
}

const LAG_WARN_REPEAT_MS = 5 * 60_000;

/**
 * Runs the retention rule periodically and exports what it sees: group lag and pending entries,
 * the dead-letter stream's length, and warnings when a group falls behind. `close()` stops it.
 */
export class StreamRetention {
  private readonly log: EventLog;
  private readonly streams: readonly string[];
  private readonly approximate: boolean;
  private readonly lagWarnThreshold: number;
  /** Per stream, the groups whose series are exported (to remove those of groups now gone). */
  private readonly exported = new Map<string, Set<string>>();
  /** `stream|group` → when it was last logged as lagging (or with an unknown lag). */
  private readonly lagging = new Map<string, number>();
  private readonly metrics: EventMetrics;
  private readonly logger?: Logger;
  private readonly timer: NodeJS.Timeout;
  private inFlight: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(options: RetentionOptions) {
    this.log = options.log;
    this.streams = options.streams ?? ['engagement'];
    this.approximate = options.approximate ?? true;
    this.lagWarnThreshold = options.lagWarnThreshold ?? 10_000;
    this.metrics = eventMetrics(options.registry ?? new Registry());
    this.logger = options.logger;
    this.timer = setInterval(() => {
      this.runOnce().catch((err) =>
        this.logger?.warn({ err: err instanceof Error ? err.message : String(err) }, 'event retention pass failed'),
      );
    }, options.intervalMs ?? 30_000);
    this.timer.unref();
  }

  /** One pass over every stream, now. Passes never overlap. */
  runOnce(): Promise<RetentionReport[]> {
    const pass = this.inFlight.then(async () => {
      const reports: RetentionReport[] = [];
      for (const stream of this.streams) {
        if (this.closed) break;
        reports.push(await this.maintain(stream));
      }
      return reports;
    });
    this.inFlight = pass.catch(() => {});
    return pass;
  }

  /** Stops the timer and waits for a pass in progress. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.inFlight;
  }

  private async maintain(stream: string): Promise<RetentionReport> {
    const groups = await this.log.groups(stream);
    const present = new Set<string>();
    for (const g of groups) {
      const labels = { stream, group: g.name };
      present.add(g.name);
      // Unknown (Redis cannot count past deleted entries): no series rather than a stale value.
      if (g.lag === null) this.metrics.groupLag.remove(labels);
      else this.metrics.groupLag.set(labels, g.lag);
      this.metrics.groupPending.set(labels, g.pending);
      this.warnIfLagging(stream, g);
    }
    for (const name of this.exported.get(stream) ?? []) {
      if (present.has(name)) continue;
      this.metrics.groupLag.remove({ stream, group: name });
      this.metrics.groupPending.remove({ stream, group: name });
      this.lagging.delete(`${stream}|${name}`);
    }
    this.exported.set(stream, present);
    this.metrics.deadLetters.set({ stream }, await this.log.deadLetterCount(stream));
    const minId = safeTrimPoint(groups);
    const trimmed = minId === null ? 0 : await this.log.trim(stream, { minId, approximate: this.approximate });
    if (trimmed > 0) this.metrics.trimmed.inc({ stream }, trimmed);
    return { stream, groups, minId, trimmed };
  }

  /** Logs a group that lags past the threshold, or whose lag cannot be known; and when it is back. */
  private warnIfLagging(stream: string, g: GroupInfo): void {
    const key = `${stream}|${g.name}`;
    const behind = g.lag === null || g.lag > this.lagWarnThreshold;
    const since = this.lagging.get(key);
    if (!behind) {
      if (since !== undefined) {
        this.lagging.delete(key);
        this.logger?.info({ stream, group: g.name, lag: g.lag }, 'event consumer group caught up');
      }
      return;
    }
    const now = Date.now();
    if (since !== undefined && now - since < LAG_WARN_REPEAT_MS) return;
    this.lagging.set(key, now);
    this.logger?.warn(
      { stream, group: g.name, lag: g.lag, pending: g.pending, threshold: this.lagWarnThreshold },
      g.lag === null
        ? 'event consumer group lag unknown: entries it had not read may have been deleted (length cap)'
        : 'event consumer group is lagging: its oldest unread entries are lost if the stream reaches its length cap',
    );
  }
}
