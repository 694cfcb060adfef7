import { type EngagementEvent, type LogEntry, onceEach, type SeenEvents } from '../events';
import type { Logger } from '../log';

/**
 * A seen-ids store whose commits wait for the caller's confirmation. `onceEach` marks events done
 * as soon as its handler returns; when the handler only collects events for one database
 * transaction per batch, "done" must wait until that transaction committed, or a failed commit
 * would leave events marked done that never counted.
 */
export class ConfirmedSeenEvents implements SeenEvents {
  private pending: string[] = [];

  constructor(private readonly store: SeenEvents) {}

  begin(ids: readonly string[]) {
    return this.store.begin(ids);
  }

  async commit(ids: readonly string[]): Promise<void> {
    this.pending.push(...ids);
  }

  abort(ids: readonly string[]) {
    return this.store.abort(ids);
  }

  /** The effects are committed: mark the events done. */
  confirm(): Promise<void> {
    return this.store.commit(this.pending.splice(0));
  }

  /** They are not: release the claims, so a redelivery runs the events again. */
  release(): Promise<void> {
    return this.store.abort(this.pending.splice(0));
  }
}

/**
 * The consumer's batch handler: `onceEach` skips events the seen store knows are done (cheap, no
 * database work), the rest are applied together by `applyAll` in one transaction (exactly once
 * through its own record of processed ids), and only then are they marked done.
 */
export function batchHandler(
  store: SeenEvents,
  applyAll: (events: readonly EngagementEvent[]) => Promise<unknown>,
  log?: Logger,
): (batch: readonly LogEntry[]) => Promise<void> {
  return async (batch) => {
    const seen = new ConfirmedSeenEvents(store);
    const fresh: EngagementEvent[] = [];
    try {
      await onceEach(seen, async (event) => {
        fresh.push(event);
      })(batch);
      await applyAll(fresh);
    } catch (err) {
      await seen.release().catch(() => {});
      throw err;
    }
    // Applied and committed: a failure to mark them done only costs a cheap skip later
    // (Postgres ignores their ids), so it must not fail the batch into being redelivered.
    await seen.confirm().catch((err) => log?.warn({ err }, 'analytics: could not mark events done'));
  };
}
