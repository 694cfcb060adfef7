import { Capabilities, TIP_DELIVERY_INTERVAL_MS, TIP_LIST_MAX, type Tip, type TipsSummed } from '../../protocol';
import { AccessMarkers, markerChannel } from './access-markers';
import { RoomBatcher } from './room-batcher';
import { accessChannel, type IoServer } from './types';

/** The tips marker channels of a room's access channel: members taking sums, and the others. */
const TIP_MARKERS = { asked: 'tips-summed', plain: 'tips-each' };
export const summedTipsChannel = (roomId: string) => markerChannel(roomId, TIP_MARKERS.asked);
export const eachTipChannel = (roomId: string) => markerChannel(roomId, TIP_MARKERS.plain);

/**
 * A room's committed tips, to its members with access (a tip's message is part of the room's
 * conversation). A tip in a quiet room goes out at once (the next turn of the event loop, with
 * the rest of its money batch) as `tip:new`; in a gift storm a room's tips go out at most every
 * `TIP_DELIVERY_INTERVAL_MS`, one `tip:batch`, so N tips a second cost each member a bounded
 * number of frames, not N. Past `TIP_LIST_MAX` a delivery, the members that asked for
 * `tip:summary` get the small tips summed (`summarizeTips`) rather than listed: listing every tip
 * of a 3,000-a-second storm to every viewer was a good part of the storm's cost (docs/money.md),
 * and no viewer reads 300 tips a tenth of a second. The others still get every tip.
 */
export class TipDelivery {
  private readonly batches: RoomBatcher<Tip>;
  private readonly markers: AccessMarkers;

  /** `clustered`: other nodes may hold members that take every tip (none can be seen from here). */
  constructor(
    private readonly io: IoServer,
    private readonly clustered: boolean,
    intervalMs = TIP_DELIVERY_INTERVAL_MS,
  ) {
    this.markers = new AccessMarkers(io, Capabilities.tipSummary, TIP_MARKERS);
    this.batches = new RoomBatcher(intervalMs, (roomId, tips) => this.deliver(roomId, tips));
  }

  push(tip: Tip): void {
    this.batches.push(tip.roomId, tip);
  }

  close(): void {
    this.batches.close();
  }

  private deliver(roomId: string, tips: Tip[]): void {
    const room = this.io.to(accessChannel(roomId));
    if (tips.length === 1) {
      room.emit('tip:new', tips[0]);
      return;
    }
    const summed = summarizeTips(tips);
    if (!summed) {
      room.emit('tip:batch', { roomId, tips });
      return;
    }
    room.except(this.markers.plain(roomId)).emit('tip:batch', { roomId, ...summed });
    // A broadcast costs even when it reaches nobody: on one node, skip it when it would.
    if (!this.clustered && !this.markers.plainHere(roomId)) return;
    room.except(this.markers.asked(roomId)).emit('tip:batch', { roomId, tips });
  }
}

/**
 * What a connection with capability `tip:summary` is told of one delivery of a room's tips: every
 * paid pinned tip (its buyer paid to be seen), then the newest `max` others — those with a message
 * before those without, since a message is read and an amount can be added up — in the order they
 * were sent, and the rest summed. `null` when nothing needs summing: everyone gets every tip.
 */
export function summarizeTips(tips: readonly Tip[], max = TIP_LIST_MAX): { tips: Tip[]; more: TipsSummed } | null {
  if (tips.length <= max) return null;
  let withMessage = 0;
  for (const tip of tips) if (!tip.pinnedUntil && tip.message) withMessage++;
  let messagesLeft = Math.min(withMessage, max);
  let plainLeft = max - messagesLeft;
  const listed: Tip[] = [];
  let count = 0;
  let amount = 0;
  for (let i = tips.length - 1; i >= 0; i--) {
    const tip = tips[i];
    if (tip.pinnedUntil) listed.push(tip);
    else if (tip.message && messagesLeft > 0) {
      listed.push(tip);
      messagesLeft--;
    } else if (!tip.message && plainLeft > 0) {
      listed.push(tip);
      plainLeft--;
    } else {
      count++;
      amount += tip.amount;
    }
  }
  if (count === 0) return null;
  // One currency per platform (`CURRENCY`), so any tip's is the sum's.
  return { tips: listed.reverse(), more: { count, amount, currency: tips[0].currency } };
}
