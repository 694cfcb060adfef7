import type { Logger } from './log';

/**
 * A subsystem's background tasks: each runs every `ms`, never overlapping itself (a slow run
 * makes the next tick wait, it does not pile up), with failures logged rather than thrown.
 */
export class PeriodicTasks {
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;

  /** `owner` names the subsystem in failure logs ("recommender: retrain failed"). */
  constructor(
    private readonly log: Logger,
    private readonly owner: string,
  ) {}

  every(ms: number, what: string, fn: () => Promise<unknown> | unknown): void {
    let busy = false;
    const timer = setInterval(() => {
      if (this.stopped || busy) return;
      busy = true;
      Promise.resolve()
        .then(fn)
        .catch((err) => this.log.warn({ err }, `${this.owner}: ${what} failed`))
        .finally(() => {
          busy = false;
        });
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** No task starts again; one in progress finishes. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
  }
}
