/**
 * Runs async tasks one after another. A room's topology changes (a router added for viewers, a
 * producer piped to every router) must not interleave, or a producer published while a router is
 * being created would never reach it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(task);
    // The next task waits for this one to settle, whatever its outcome.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
