import { EventEmitter } from 'node:events';

/**
 * An event emitter whose event names and payloads are checked by the compiler. Listeners run
 * synchronously inside mediasoup callbacks, so one that throws is reported, never propagated:
 * a gateway bug must not break the media bookkeeping that emitted the event.
 */
export class TypedEmitter<EventMap extends object> {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor(private readonly onListenerError: (err: unknown, event: string) => void) {
    this.emitter.setMaxListeners(50);
  }

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof EventMap & string>(event: K, listener: (payload: EventMap[K]) => void): () => void {
    const safe = (payload: EventMap[K]) => {
      try {
        const result: unknown = listener(payload);
        if (result instanceof Promise) result.catch((err) => this.onListenerError(err, event));
      } catch (err) {
        this.onListenerError(err, event);
      }
    };
    this.emitter.on(event, safe);
    return () => this.emitter.off(event, safe);
  }

  emit<K extends keyof EventMap & string>(event: K, payload: EventMap[K]): void {
    this.emitter.emit(event, payload);
  }

  removeAllListeners(): void {
    this.emitter.removeAllListeners();
  }
}
