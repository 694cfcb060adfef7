import type { DomainEvents } from '../domain-events';
import { type EngagementEvent, newEvent } from './types';

/**
 * Money events come from the payments core as domain events (after their transaction commits);
 * this records them in the engagement log, where analytics and the recommender read them.
 */
export function recordDomainEvents(domain: DomainEvents, record: (event: EngagementEvent) => void): () => void {
  const offs = [
    domain.on('tip.created', ({ tip, creatorId }) =>
      record(
        newEvent('tip.sent', {
          roomId: tip.roomId,
          userId: tip.user.id,
          creatorId,
          data: { tipId: tip.id, amount: tip.amount, currency: tip.currency },
        }),
      ),
    ),
    domain.on('purchase.completed', ({ purchase: p }) => {
      if (p.kind === 'subscription') return; // recorded as subscription.started, below
      record(
        newEvent('purchase.completed', {
          userId: p.buyerId,
          creatorId: p.creatorId,
          ...(p.contentId ? { contentId: p.contentId } : {}),
          ...(p.roomId ? { roomId: p.roomId } : {}),
          data: { purchaseId: p.id, kind: p.kind, amount: p.amount, currency: p.currency },
        }),
      );
    }),
    domain.on('subscription.started', ({ purchase: p, subscriberId, creatorId, periodEnd }) =>
      record(
        newEvent('subscription.started', {
          userId: subscriberId,
          creatorId,
          data: { purchaseId: p.id, amount: p.amount, currency: p.currency, periodEnd: Date.parse(periodEnd) },
        }),
      ),
    ),
  ];
  return () => {
    for (const off of offs) off();
  };
}
