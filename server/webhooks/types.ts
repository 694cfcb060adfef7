import type { DomainEventMap } from '../domain-events';

/** The domain events a webhook can subscribe to. */
export const WEBHOOK_EVENTS = [
  'room.started',
  'room.ended',
  'purchase.completed',
  'purchase.refunded',
  'tip.created',
  'subscription.started',
] as const satisfies readonly (keyof DomainEventMap)[];
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** What a delivery's body is: one event, the same for every webhook that receives it. */
export interface WebhookPayload<T extends WebhookEventType = WebhookEventType> {
  /** Unique per event (the same on every retry and for every webhook): receivers dedupe on it. */
  id: string;
  type: T;
  /** When the event happened (ISO-8601). */
  createdAt: string;
  data: DomainEventMap[T];
}

/** `creator`: events of the owner's own rooms and sales; `platform` (admins): every event. */
export type WebhookScope = 'creator' | 'platform';

export interface Webhook {
  id: string;
  ownerId: string;
  scope: WebhookScope;
  url: string;
  events: WebhookEventType[];
  description: string;
  createdAt: string;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: WebhookEventType;
  status: DeliveryStatus;
  /** Attempts made so far (the one in flight included). */
  attempts: number;
  /** Status code of the last answer; null if the endpoint never answered. */
  lastStatusCode: number | null;
  /** Why the last attempt failed; null after a success or before the first attempt. */
  lastError: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
  /** When the next attempt is due (pending deliveries only). */
  nextAttemptAt: string | null;
  deliveredAt: string | null;
}
