import { Capabilities, SALE_BATCH_INTERVAL_MS, type SaleNotice } from '../../protocol';
import { RoomBatcher } from './room-batcher';
import { asksFor, type IoServer, type IoSocket, userChannel } from './types';

/**
 * Marker channels of a creator's user channel: each of their connections is in one of the two,
 * by how it takes sales. Like chat's, they only ever leave connections out of a broadcast.
 */
export const batchedSalesChannel = (userId: string) => `${userChannel(userId)}:sales:batched`;
export const eachSalesChannel = (userId: string) => `${userChannel(userId)}:sales:each`;

/**
 * A creator's sales feed, on every connection of theirs (the adapter reaches other nodes). In a
 * gift storm a creator sells thousands of times a second, and a broadcast per sale — encoded, kept
 * for recovery, on a cluster written to Redis — was about a third of the main thread's garbage
 * collection in a storm of sales (docs/money.md). So a creator's sales are gathered as a room's tips
 * are: a lone sale goes out at once as `sale:new`; while they pour in, one `sale:batch` per
 * interval to the connections that asked for it, and each sale as `sale:new` to the others.
 */
export class SalesFeed {
  private readonly batches: RoomBatcher<SaleNotice>;

  /** `clustered`: other nodes may hold connections that take each sale (none can be seen from here). */
  constructor(
    private readonly io: IoServer,
    private readonly clustered: boolean,
    intervalMs = SALE_BATCH_INTERVAL_MS,
  ) {
    // Keyed by creator rather than room: the batcher only needs a key.
    this.batches = new RoomBatcher(intervalMs, (creatorId, sales) => this.deliver(creatorId, sales));
  }

  /** Marks a signed-in connection by what it asks for now (a resumed one may ask otherwise). */
  connected(socket: IoSocket, userId: string): void {
    const batched = asksFor(socket, Capabilities.saleBatch);
    void socket.join(batched ? batchedSalesChannel(userId) : eachSalesChannel(userId));
    void socket.leave(batched ? eachSalesChannel(userId) : batchedSalesChannel(userId));
  }

  push(creatorId: string, sale: SaleNotice): void {
    this.batches.push(creatorId, sale);
  }

  close(): void {
    this.batches.close();
  }

  private deliver(creatorId: string, sales: SaleNotice[]): void {
    const creator = this.io.to(userChannel(creatorId));
    if (sales.length === 1) {
      creator.emit('sale:new', sales[0]);
      return;
    }
    creator.except(eachSalesChannel(creatorId)).emit('sale:batch', { sales });
    // A broadcast costs even when it reaches nobody: on one node, skip it when it would.
    if (!this.clustered && !this.io.of('/').adapter.rooms.has(eachSalesChannel(creatorId))) return;
    const each = creator.except(batchedSalesChannel(creatorId));
    for (const sale of sales) each.emit('sale:new', sale);
  }
}
