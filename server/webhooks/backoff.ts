/**
 * Delay before retrying a delivery whose `attempt`-th try (1-based) failed: exponential from
 * `baseMs`, capped at `maxMs`, plus up to 10% jitter so endpoints that failed together (an
 * outage) are not all retried in the same instant.
 */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (1 + 0.1 * random()));
}
