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

/** Runs the retention rule periodically (and exports group lag); `close()` stops it. */
export class StreamRetention {
  private readonly log: EventLog;
  private readonly streams: readonly string[];
  private readonly approximate: boolean;
  private readonly metrics: EventMetrics;
  private readonly logger?: Logger;
  private readonly timer: NodeJS.Timeout;
  private inFlight: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(options: RetentionOptions) {
    this.log = options.log;
    this.streams = options.streams ?? ['engagement'];
    this.approximate = options.approximate ?? true;
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
    for (const g of groups) {
      const labels = { stream, group: g.name };
      if (g.lag !== null) this.metrics.groupLag.set(labels, g.lag);
      this.metrics.groupPending.set(labels, g.pending);
    }
    const minId = safeTrimPoint(groups);
    const trimmed = minId === null ? 0 : await this.log.trim(stream, { minId, approximate: this.approximate });
    if (trimmed > 0) this.metrics.trimmed.inc({ stream }, trimmed);
    return { stream, groups, minId, trimmed };
  }
}
