import { EventEmitter } from 'node:events';
import type { Purchase, Room, Tip } from '../protocol';

/**
 * What happened in the domain, announced in-process after the database transaction committed.
 * Subsystems that react (the gateway upgrading a viewer's access, the event pipeline, webhooks)
 * subscribe here instead of being called by the code that made the change.
 */
export interface DomainEventMap {
  'room.created': { room: Room };
  'room.started': { room: Room };
  /** Its title, tags or recording setting changed. */
  'room.updated': { room: Room };
  'room.ended': { room: Room };
  /** `buyerName` and `title`: what the creator's sales feed shows, when the sale already read them. */
  'purchase.completed': { purchase: Purchase; buyerName?: string; title?: string };
  'purchase.refunded': { purchase: Purchase };
  'subscription.started': { purchase: Purchase; subscriberId: string; creatorId: string; periodEnd: string };
  /** `fee`: the platform's part of the tip (older outbox rows may lack it). */
  'tip.created': { tip: Tip; creatorId: string; fee?: number };
  'wallet.topup': { userId: string; amount: number; balance: number };
}

export class DomainEvents {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor(private readonly onListenerError: (err: unknown, event: string) => void = () => {}) {
    this.emitter.setMaxListeners(50);
  }

  on<K extends keyof DomainEventMap>(
    event: K,
    listener: (payload: DomainEventMap[K]) => void | Promise<void>,
  ): () => void {
    // A listener's failure is its own problem: it must not undo or fail the operation announced.
    const safe = (payload: DomainEventMap[K]) => {
      try {
        const result = listener(payload);
        if (result instanceof Promise) result.catch((err) => this.onListenerError(err, event));
      } catch (err) {
        this.onListenerError(err, event);
      }
    };
    this.emitter.on(event, safe);
    return () => this.emitter.off(event, safe);
  }

  emit<K extends keyof DomainEventMap>(event: K, payload: DomainEventMap[K]): void {
    this.emitter.emit(event, payload);
  }
}
