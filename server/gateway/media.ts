import type {
  ConsumerOptions,
  MediaJoinResult,
  MediaJson,
  MediaKind,
  MediaSource,
  TransportDirection,
  TransportOptions,
} from '../../protocol';
import { AppError } from '../errors';
import type { MediaPlane, PeerRef } from '../media';
import { type GatewayContext, requireAccess, requireMember } from './context';
import type { Membership } from './memberships';
import { type IoSocket, roomChannel } from './types';

type Empty = Record<string, never>;

/**
 * Media signalling: the `media:*` events, relayed to the media plane with the gateway's
 * authorisation — only the room owner publishes; only members with `full` or `preview` access
 * watch, and their consumers close when a preview ends. A connection's media peer id is its
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
    await this.plane.openRoom(roomId);
    const peer = { roomId, peerId: socket.id };
    if (this.joined.has(m)) this.plane.closePeer(peer); // joining again starts afresh
    const joined = await this.plane.joinPeer({ ...peer, canProduce });
    this.joined.add(m);
    return {
      routerRtpCapabilities: joined.routerRtpCapabilities as unknown as MediaJson,
      producers: joined.producers.map(({ producerId, kind, source, paused }) => ({ producerId, kind, source, paused })),
      canProduce,
    };
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
    if (!this.joined.delete(m)) return;
    this.plane.closePeer({ roomId: m.roomId, peerId: m.socket.id });
  }

  /** The member's access changed: no access closes its consumers; access again allows them. */
  accessChanged(m: Membership): void {
    if (!this.joined.has(m) || m.role === 'owner') return;
    const peer = { roomId: m.roomId, peerId: m.socket.id };
    if (m.access === 'none') this.plane.revokeConsumers(peer);
    else this.plane.allowConsume(peer);
  }

  roomClosed(roomId: string): void {
    this.plane.closeRoom(roomId);
  }

  close(): void {
    for (const off of this.offs) off();
  }
}
