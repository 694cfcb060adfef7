import type { OutboxMessage } from './outbox';
import { type EngagementEvent, newEvent } from './types';

/**
 * Money events come from the payments core as domain events, written to the outbox in the
 * payment's own transaction (`outbox.ts`); this turns one into the engagement event analytics and
 * the recommender read. The event takes the row's id and time, so relaying a row twice appends
 * the same event twice, which consumers deduplicate.
 */
export function engagementEventOf(message: OutboxMessage): EngagementEvent | null {
  const fixed = { id: message.id, at: message.at.getTime() };
  switch (message.topic) {
    case 'tip.created': {
      const { tip, creatorId } = message.payload;
      return newEvent('tip.sent', {
        ...fixed,
        roomId: tip.roomId,
        userId: tip.user.id,
        creatorId,
        data: { tipId: tip.id, amount: tip.amount, currency: tip.currency },
      });
    }
    case 'purchase.completed': {
      const p = message.payload.purchase;
      if (p.kind === 'subscription') return null; // recorded as subscription.started
      return newEvent('purchase.completed', {
        ...fixed,
        userId: p.buyerId,
        creatorId: p.creatorId,
        ...(p.contentId ? { contentId: p.contentId } : {}),
        ...(p.roomId ? { roomId: p.roomId } : {}),
        data: { purchaseId: p.id, kind: p.kind, amount: p.amount, currency: p.currency },
      });
    }
    case 'subscription.started': {
      const { purchase: p, subscriberId, creatorId, periodEnd } = message.payload;
      return newEvent('subscription.started', {
        ...fixed,
        userId: subscriberId,
        creatorId,
        data: { purchaseId: p.id, amount: p.amount, currency: p.currency, periodEnd: Date.parse(periodEnd) },
      });
    }
  }
}
