/**
 * Wraps an async job so that it never runs twice at once: a call made while it runs schedules
 * exactly one more run after it (several such calls share that run). Re-establishing media is
 * asked for from many places at once (a reset, an ICE failure, a reconnect); this turns a burst
 * of asks into one fresh attempt that sees the latest state.
 */
export function coalescing(job: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await job();
        } while (again);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
}
