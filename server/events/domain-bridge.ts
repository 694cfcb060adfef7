import type { Purchase } from '../../protocol';
import type { OutboxMessage } from './outbox';
import { type EngagementEvent, newEvent } from './types';

/**
 * Money events come from the payments core as domain events, written to the outbox in the
 * payment's own transaction (`outbox.ts`); this turns one into the engagement event analytics and
 * the recommender read. The event takes the row's id and time, so relaying a row twice appends
 * the same event twice, which consumers deduplicate.
 */
/** The room a sale counts for: the ticket's room, or the room it was bought from. */
function saleRoom(p: Purchase): { roomId?: string } {
  const roomId = p.roomId ?? p.fromRoomId;
  return roomId ? { roomId } : {};
}

export function engagementEventOf(message: OutboxMessage): EngagementEvent | null {
  const fixed = { id: message.id, at: message.at.getTime() };
  switch (message.topic) {
    case 'tip.created': {
      const { tip, creatorId, fee } = message.payload;
      return newEvent('tip.sent', {
        ...fixed,
        roomId: tip.roomId,
        userId: tip.user.id,
        creatorId,
        // Outbox rows staged before tips carried their fee have none.
        data: { tipId: tip.id, amount: tip.amount, ...(fee === undefined ? {} : { fee }), currency: tip.currency },
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
        ...saleRoom(p),
        data: { purchaseId: p.id, kind: p.kind, amount: p.amount, fee: p.fee, currency: p.currency },
      });
    }
    case 'purchase.refunded': {
      const p = message.payload.purchase;
      return newEvent('purchase.refunded', {
        ...fixed,
        userId: p.buyerId,
        creatorId: p.creatorId,
        ...(p.contentId ? { contentId: p.contentId } : {}),
        ...saleRoom(p),
        data: { purchaseId: p.id, kind: p.kind, amount: p.amount, fee: p.fee, currency: p.currency },
      });
    }
    case 'subscription.started': {
      const { purchase: p, subscriberId, creatorId, periodEnd } = message.payload;
      return newEvent('subscription.started', {
        ...fixed,
        userId: subscriberId,
        creatorId,
        ...saleRoom(p),
        data: {
          purchaseId: p.id,
          amount: p.amount,
          fee: p.fee,
          currency: p.currency,
          periodEnd: Date.parse(periodEnd),
        },
      });
    }
  }
}
