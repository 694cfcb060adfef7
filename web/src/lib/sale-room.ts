import { codeOf } from './errors';

/**
 * Buys naming the room the buyer is in (`fromRoomId`), so the sale counts for that room's session
 * in the creator's analytics. The server refuses a room that is not live (not started yet, or
 * ended a moment ago) with INVALID_ARGUMENT and charges nothing; the purchase then goes ahead
 * without the room, as a sale made elsewhere. `buy` must make a new idempotency key per call.
 */
export async function buyFromRoom<T>(roomId: string | undefined, buy: (fromRoomId?: string) => Promise<T>): Promise<T> {
  if (!roomId) return buy();
  try {
    return await buy(roomId);
  } catch (err) {
    // Only the room's refusal is retried; any other mistake in the request is the answer.
    const field = (err as { details?: { field?: unknown } }).details?.field;
    if (codeOf(err) !== 'INVALID_ARGUMENT' || field !== 'fromRoomId') throw err;
    return buy();
  }
}
