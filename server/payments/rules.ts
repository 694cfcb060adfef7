import { type AppError, conflict, invalidArgument, notFound } from '../errors';

/**
 * The refusals a sale shares between its two paths: the batches (lessons, tickets) and the
 * single-operation path (courses, bundles, subscriptions). Each returns the refusal, or null.
 */

/** A content that cannot be sold to this buyer at all (before ownership and price). */
export function contentRefusal(
  content: { creator_id: string; price: number; currency: string; archived_at?: Date | null } | undefined,
  buyerId: string,
  currency: string,
): AppError | null {
  if (!content || content.archived_at) return notFound('content');
  if (content.creator_id === buyerId) return conflict('you cannot buy your own content');
  if (content.price === 0) return invalidArgument('this content is free: no purchase needed');
  if (content.currency !== currency) return invalidArgument(`this content is priced in ${content.currency}`);
  return null;
}

/** The buyer saw another price than the one that would be charged: nothing moves. */
export function priceRefusal(expected: number | undefined, charged: number): AppError | null {
  return expected !== undefined && expected !== charged
    ? conflict('the price changed', { price: charged, expectedPrice: expected })
    : null;
}

/**
 * The room a sale says it was made in must be a live room of the seller's; another one is a
 * mistake of the client (it would credit the wrong session).
 */
export function saleRoomRefusal(
  room: { owner_id: string; status: string } | undefined,
  sellerId: string,
): AppError | null {
  return !room || room.owner_id !== sellerId || room.status !== 'live'
    ? invalidArgument("fromRoomId must be a live room of the seller's", { field: 'fromRoomId' })
    : null;
}
