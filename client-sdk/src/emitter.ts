/** A minimal typed event emitter (no Node `events` dependency, so it runs in browsers). */
export class Emitter<Events extends { [K in keyof Events]: (payload: any) => void }> {
  private readonly listeners = new Map<keyof Events, Set<(payload: unknown) => void>>();

  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (payload: unknown) => void);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Events[K]): void {
    this.listeners.get(event)?.delete(listener as (payload: unknown) => void);
  }

  protected emit<K extends keyof Events>(event: K, payload: Parameters<Events[K]>[0]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        listener(payload);
      } catch (err) {
        // A listener's bug must not break the SDK's own bookkeeping.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
