import type {
  ConsumerOptions,
  MediaJoinResult,
  MediaJson,
  MediaKind,
  MediaSource,
  TransportDirection,
  TransportOptions,
} from '../../protocol';
import { AppError, conflict } from '../errors';
import type { JoinedPeer, MediaPlane, PeerRef } from '../media';
import { type GatewayContext, requireAccess, requireMember } from './context';
import type { Membership } from './memberships';
import { type IoSocket, roomChannel } from './types';

type Empty = Record<string, never>;

/**
 * Media signalling: the `media:*` events, relayed to the media plane with the gateway's
 * authorisation — only the room owner publishes; only members with `full` or `preview` access
 * watch, and their media is released when a preview ends. A connection's media peer id is its
 * socket id, so everything it holds is released on leave, disconnect, ban or room end.
 */
export class MediaSignalling {
  private readonly offs: (() => void)[];
  /** Memberships that have joined the media plane. */
  private readonly joined = new WeakSet<Membership>();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly plane: MediaPlane,
  ) {
    const room = (roomId: string) => ctx.io.local.to(roomChannel(roomId));
    this.offs = [
      plane.on('producerAdded', ({ roomId, producerId, kind, source, paused }) =>
        room(roomId).emit('media:producer:new', { roomId, producerId, kind, source, paused }),
      ),
      plane.on('producerPaused', ({ roomId, producerId }) =>
        room(roomId).emit('media:producer:paused', { roomId, producerId }),
      ),
      plane.on('producerResumed', ({ roomId, producerId }) =>
        room(roomId).emit('media:producer:resumed', { roomId, producerId }),
      ),
      plane.on('producerClosed', ({ roomId, producerId }) =>
        room(roomId).emit('media:producer:closed', { roomId, producerId }),
      ),
      plane.on('consumerClosed', ({ roomId, peerId, consumerId, producerId, reason }) =>
        ctx.io.local.to(peerId).emit('media:consumer:closed', { roomId, consumerId, producerId, reason }),
      ),
      plane.on('roomMediaReset', ({ roomId }) => {
        for (const m of ctx.memberships.inRoom(roomId)) this.joined.delete(m);
        room(roomId).emit('media:reset', { roomId });
      }),
    ];
  }

  /** The caller's membership with the right to media in the room, and its peer reference. */
  private member(socket: IoSocket, roomId: string): { m: Membership; peer: PeerRef } {
    const m = requireMember(this.ctx, socket, roomId);
    if (m.role !== 'owner') requireAccess(m);
    if (!this.joined.has(m)) throw new AppError('CONFLICT', 'send media:join first');
    return { m, peer: { roomId, peerId: socket.id } };
  }

  async join(socket: IoSocket, roomId: string): Promise<MediaJoinResult> {
    const m = requireMember(this.ctx, socket, roomId);
    const canProduce = m.role === 'owner';
    if (!canProduce) requireAccess(m);
    const peer = { roomId, peerId: socket.id };
    // Joining again starts afresh; first, as the old peer may be all that keeps the room's media open.
    if (this.joined.delete(m)) this.plane.closePeer(peer);
    const joined = await this.placePeer(m, canProduce);
    // The member may have left, disconnected or lost access while the peer was being placed;
    // release() then found nothing recorded, so the peer must go here.
    const current = this.isCurrent(m);
    if (!current || (!canProduce && m.access === 'none')) {
      this.plane.closePeer(peer);
      if (!current) throw conflict('left the room while joining its media');
      requireAccess(m);
    }
    this.joined.add(m);
    return {
      routerRtpCapabilities: joined.routerRtpCapabilities as unknown as MediaJson,
      producers: joined.producers.map(({ producerId, kind, source, paused }) => ({ producerId, kind, source, paused })),
      canProduce,
    };
  }

  /** Still in the room on a live connection: nothing released this membership. */
  private isCurrent(m: Membership): boolean {
    return this.ctx.memberships.get(m.socket.id, m.roomId) === m && m.socket.connected;
  }

  /**
   * Opens the room's media if needed and places the peer in it. A room's media closes when its
   * last peer leaves, possibly between the open and the join: then it is opened again.
   */
  private async placePeer(m: Membership, canProduce: boolean): Promise<JoinedPeer> {
    const peer = { roomId: m.roomId, peerId: m.socket.id };
    for (let attempt = 1; ; attempt++) {
      await this.plane.openRoom(peer.roomId);
      try {
        return await this.plane.joinPeer({ ...peer, canProduce });
      } catch (err) {
        const closedMeanwhile =
          err instanceof AppError && err.code === 'NOT_FOUND' && !this.plane.isRoomOpen(peer.roomId);
        if (!closedMeanwhile || attempt >= 3 || !this.isCurrent(m)) throw err;
      }
    }
  }

  async createTransport(socket: IoSocket, roomId: string, direction: TransportDirection): Promise<TransportOptions> {
    const { peer } = this.member(socket, roomId);
    return (await this.plane.createWebRtcTransport({ ...peer, direction })) as unknown as TransportOptions;
  }

  async connectTransport(
    socket: IoSocket,
    roomId: string,
    transportId: string,
    dtlsParameters: MediaJson,
  ): Promise<Empty> {
    const { peer } = this.member(socket, roomId);
    await this.plane.connectTransport({ ...peer, transportId, dtlsParameters: dtlsParameters as never });
    return {};
  }

  async restartIce(socket: IoSocket, roomId: string, transportId: string): Promise<{ iceParameters: MediaJson }> {
    const { peer } = this.member(socket, roomId);
    return { iceParameters: (await this.plane.restartIce({ ...peer, transportId })) as unknown as MediaJson };
  }

  async produce(
    socket: IoSocket,
    p: { roomId: string; transportId: string; kind: MediaKind; rtpParameters: MediaJson; source: MediaSource },
  ): Promise<{ producerId: string }> {
    const { peer } = this.member(socket, p.roomId);
    const { producerId } = await this.plane.produce({
      ...peer,
      transportId: p.transportId,
      kind: p.kind,
      rtpParameters: p.rtpParameters as never,
      source: p.source,
    });
    return { producerId };
  }

  async producer(
    socket: IoSocket,
    roomId: string,
    producerId: string,
    action: 'pause' | 'resume' | 'close',
  ): Promise<Empty> {
    const { peer } = this.member(socket, roomId);
    const ref = { ...peer, producerId };
    if (action === 'pause') await this.plane.pauseProducer(ref);
    else if (action === 'resume') await this.plane.resumeProducer(ref);
    else this.plane.closeProducer(ref);
    return {};
  }

  async consume(
    socket: IoSocket,
    p: { roomId: string; transportId: string; producerId: string; rtpCapabilities: MediaJson },
  ): Promise<ConsumerOptions> {
    const { peer } = this.member(socket, p.roomId);
    return (await this.plane.consume({
      ...peer,
      transportId: p.transportId,
      producerId: p.producerId,
      rtpCapabilities: p.rtpCapabilities as never,
    })) as unknown as ConsumerOptions;
  }

  async consumer(
    socket: IoSocket,
    roomId: string,
    consumerId: string,
    action: 'pause' | 'resume' | { spatialLayer: number; temporalLayer?: number },
  ): Promise<Empty> {
    const { peer } = this.member(socket, roomId);
    const ref = { ...peer, consumerId };
    if (action === 'pause') await this.plane.pauseConsumer(ref);
    else if (action === 'resume') await this.plane.resumeConsumer(ref);
    else await this.plane.setPreferredLayers({ ...ref, ...action });
    return {};
  }

  leave(socket: IoSocket, roomId: string): Empty {
    const m = requireMember(this.ctx, socket, roomId);
    this.release(m);
    return {};
  }

  // --- hooks from the gateway ------------------------------------------------------------------

  /** The member left the room (or disconnected, was banned, the room ended). */
  release(m: Membership): void {
    this.joined.delete(m);
    // Even with nothing recorded: a media:join may be placing this peer right now (closing a
    // peer in the middle of its join cancels the join), and closing an unknown peer is a no-op.
    this.plane.closePeer({ roomId: m.roomId, peerId: m.socket.id });
  }

  /**
   * The member's access changed. Without access the viewer's media is released, consumers first
   * (each gets `media:consumer:closed`, reason `revoked`), then its transports and peer; the
   * client joins media again once access returns (a ticket bought after the preview).
   */
  accessChanged(m: Membership): void {
    if (!this.joined.has(m) || m.role === 'owner' || m.access !== 'none') return;
    try {
      this.plane.revokeConsumers({ roomId: m.roomId, peerId: m.socket.id });
    } catch {
      // No peer or no worker: there is nothing to revoke, and release() below is safe anyway.
    }
    this.release(m);
  }

  roomClosed(roomId: string): void {
    this.plane.closeRoom(roomId);
  }

  close(): void {
    for (const off of this.offs) off();
  }
}
