import type { BaseTransportDump, BaseTransportStats } from 'mediasoup/types';
import type { Registry } from 'prom-client';
import { AppError, conflict, invalidArgument, notFound } from '../errors';
import type { Logger } from '../log';
import type { MediaContext } from './context';
import { createMediaMetrics, type MediaMetrics } from './metrics';
import type { ResolvedMediaOptions } from './options';
import type { MediaPeer } from './peer';
import { RoomMedia } from './room';
import { TypedEmitter } from './typed-emitter';
import type {
  ConsumeInput,
  ConsumerParams,
  ConsumerRef,
  DtlsParameters,
  IceParameters,
  JoinedPeer,
  JoinPeerInput,
  MediaDump,
  MediaPlane,
  MediaPlaneEventName,
  MediaPlaneEvents,
  MediaPlaneStatus,
  MediaStats,
  MediaStreamStats,
  PeerRef,
  PlainTransportParams,
  ProduceInput,
  ProducerInfo,
  ProducerRef,
  RecordingTap,
  RoomClosingReason,
  RoomMediaInfo,
  RtpCapabilities,
  TransportDirection,
  TransportDump,
  TransportRef,
  WebRtcTransportParams,
  WorkerStats,
} from './types';
import type { WorkerPool, WorkerSlot } from './worker-pool';

const MAX_ID_LENGTH = 200;

function requireId(value: unknown, name: string): string {
  if (typeof value !== 'string' || !value || value.length > MAX_ID_LENGTH) {
    throw invalidArgument(`${name} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  return value;
}

interface OpeningRoom {
  cancelled: boolean;
  promise: Promise<RoomMedia>;
}

/**
 * The plane: owns the worker pool and the rooms, routes the peer API to them, and turns worker
 * deaths into room resets. Built by `createMediaPlane`.
 */
export class MediaPlaneImpl implements MediaPlane {
  private readonly rooms = new Map<string, RoomMedia>();
  private readonly opening = new Map<string, OpeningRoom>();
  /** Origin routers being created per worker, so simultaneous opens spread over workers. */
  private readonly pendingOrigins = new Map<WorkerSlot, number>();
  private readonly events: TypedEmitter<MediaPlaneEvents>;
  private readonly ctx: MediaContext;
  private readonly metrics: MediaMetrics;
  private available = false;
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly options: ResolvedMediaOptions,
    /** Null when the worker binary cannot run at all: the plane then stays unavailable. */
    private readonly pool: WorkerPool | null,
    private readonly log: Logger,
    registry: Registry | undefined,
    private readonly permanentProblem: string | null,
    private readonly workerBin: string,
    private readonly onClose: () => void,
  ) {
    this.events = new TypedEmitter((err, event) => log.error({ err, event }, 'media event listener failed'));
    this.ctx = {
      options,
      log,
      events: this.events,
      pickWorker: (exclude) => this.pickWorker(exclude),
      onEdgeCreated: () => this.metrics.edgeRoutersCreated.inc(),
    };
    this.metrics = createMediaMetrics(registry, {
      available: () => this.available,
      rooms: () => this.rooms.size,
      peers: () => this.peerCount(),
      workers: () => this.readySlots().map((s) => ({ index: s.index, counts: s.tracker!.counts })),
      cpu: () => this.cpuUsage(),
    });
    pool?.events.on('workerReady', ({ slot, worker }) => {
      this.events.emit('workerReady', {
        index: slot.index,
        pid: worker.pid,
        udpPort: slot.udpPort,
        tcpPort: slot.tcpPort,
      });
      this.refreshAvailability();
    });
    pool?.events.on('workerStartFailed', () => this.refreshAvailability());
    pool?.events.on('workerDied', ({ slot, worker, error, restartDelayMs }) => {
      this.metrics.workerDeaths.inc();
      this.events.emit('workerDied', { index: slot.index, pid: worker.pid, error: error.message, restartDelayMs });
      // Every room with a router on that worker lost part of its media: tear it down whole, so
      // clients re-establish against a consistent room rather than a half-dead one.
      for (const room of [...this.rooms.values()]) {
        if (!room.routers.some((rr) => rr.worker === worker)) continue;
        this.rooms.delete(room.id);
        this.closeRoomMedia(room, 'workerDied');
        this.metrics.roomResets.inc();
        this.log.warn({ roomId: room.id, worker: slot.index }, 'room media reset: its worker died');
        this.events.emit('roomMediaReset', { roomId: room.id, reason: 'workerDied' });
      }
      this.refreshAvailability();
    });
  }

  // ---- state ------------------------------------------------------------------------------

  private readySlots(): WorkerSlot[] {
    return this.pool?.ready() ?? [];
  }

  private unavailableReason(): string | null {
    if (this.closed) return 'the media plane is closed';
    if (this.permanentProblem) return this.permanentProblem;
    if (this.readySlots().length) return null;
    const errors = [...new Set((this.pool?.slots ?? []).map((s) => s.lastError).filter(Boolean))];
    return `no media worker is running${errors.length ? `: ${errors.join('; ')}` : ''}`;
  }

  /** Recomputes availability; announces and logs a change. */
  refreshAvailability(): void {
    const reason = this.unavailableReason();
    const available = reason === null;
    if (available === this.available) return;
    this.available = available;
    if (available) this.log.info('media is available');
    else this.log.warn({ reason }, 'media is unavailable');
    if (!this.closed) this.events.emit('availabilityChanged', { available, reason });
  }

  private assertAvailable(): void {
    if (!this.available) throw new AppError('UNAVAILABLE', 'media is unavailable');
  }

  status(): MediaPlaneStatus {
    return {
      available: this.available,
      reason: this.unavailableReason(),
      workersReady: this.readySlots().length,
      workersConfigured: this.options.numWorkers,
      workerBin: this.workerBin,
    };
  }

  on<K extends MediaPlaneEventName>(event: K, listener: (payload: MediaPlaneEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  private peerCount(): number {
    let peers = 0;
    for (const room of this.rooms.values()) peers += room.peers.size;
    return peers;
  }

  private async cpuUsage(): Promise<Array<{ index: number; cpuMs: number }>> {
    const usage = await Promise.all(
      this.readySlots().map(async (slot) => {
        try {
          const ru = await slot.worker!.getResourceUsage();
          return { index: slot.index, cpuMs: ru.ru_utime + ru.ru_stime };
        } catch {
          return null; // died while asked: it has no CPU figure any more
        }
      }),
    );
    return usage.filter((u) => u !== null);
  }

  async stats(): Promise<MediaStats> {
    const cpu = new Map((await this.cpuUsage()).map((u) => [u.index, u.cpuMs]));
    const perWorker: WorkerStats[] = (this.pool?.slots ?? []).map((slot) => {
      const counts = slot.tracker?.counts ?? { routers: 0, transports: 0, producers: 0, consumers: 0 };
      const running = slot.state === 'ready' && slot.worker;
      return {
        index: slot.index,
        state: slot.state,
        pid: running ? slot.worker!.pid : null,
        udpPort: slot.udpPort || null,
        tcpPort: this.options.enableTcp ? slot.tcpPort || null : null,
        cpuMs: cpu.get(slot.index) ?? null,
        deaths: slot.deaths,
        lastError: slot.lastError,
        ...counts,
      };
    });
    const sum = (key: 'routers' | 'transports' | 'producers' | 'consumers') =>
      perWorker.reduce((total, w) => total + w[key], 0);
    return {
      available: this.available,
      workers: perWorker.filter((w) => w.state === 'ready').length,
      rooms: this.rooms.size,
      peers: this.peerCount(),
      routers: sum('routers'),
      transports: sum('transports'),
      producers: sum('producers'),
      consumers: sum('consumers'),
      perWorker,
    };
  }

  async dump(): Promise<MediaDump> {
    const workers = await Promise.all(
      this.readySlots().map(async (slot) => {
        const worker = slot.worker!;
        const tracker = slot.tracker!;
        const { pid, routerIds } = await worker.dump();
        const routers = await Promise.all(
          routerIds.map(async (routerId) => {
            const router = tracker.routers.get(routerId);
            const dump = router ? await router.dump() : null;
            const transports: TransportDump[] = await Promise.all(
              (dump?.transportIds ?? []).map(async (id) => {
                const transport = tracker.transports.get(id);
                const [t, stats] = transport
                  ? await Promise.all([
                      transport.dump() as Promise<BaseTransportDump>,
                      transport.getStats() as Promise<BaseTransportStats[]>,
                    ])
                  : [null, []];
                return {
                  id,
                  type: transport?.type ?? 'direct',
                  producerIds: t?.producerIds ?? [],
                  consumerIds: t?.consumerIds ?? [],
                  rtpBytesReceived: stats[0]?.rtpBytesReceived ?? 0,
                  rtpBytesSent: stats[0]?.rtpBytesSent ?? 0,
                };
              }),
            );
            const appData = (router?.appData ?? {}) as { roomId?: string; role?: 'origin' | 'edge' };
            return {
              id: routerId,
              roomId: appData.roomId ?? null,
              role: appData.role ?? null,
              transports,
              mapProducerIdConsumerIds: dump?.mapProducerIdConsumerIds ?? [],
              mapConsumerIdProducerId: dump?.mapConsumerIdProducerId ?? [],
            };
          }),
        );
        return { index: slot.index, pid, routerIds, routers };
      }),
    );
    return { workers };
  }

  // ---- placement --------------------------------------------------------------------------

  /** Least planned consumers first, then fewest routers (so empty rooms spread), then index. */
  private pickWorker(exclude: ReadonlySet<WorkerSlot>): WorkerSlot | undefined {
    const load = new Map<WorkerSlot, number>();
    for (const room of this.rooms.values()) {
      for (const rr of room.routers) load.set(rr.slot, (load.get(rr.slot) ?? 0) + room.plannedLoad(rr));
    }
    const routers = (slot: WorkerSlot) => (slot.tracker?.counts.routers ?? 0) + (this.pendingOrigins.get(slot) ?? 0);
    let best: WorkerSlot | undefined;
    for (const slot of this.readySlots()) {
      if (exclude.has(slot)) continue;
      if (
        !best ||
        (load.get(slot) ?? 0) < (load.get(best) ?? 0) ||
        ((load.get(slot) ?? 0) === (load.get(best) ?? 0) && routers(slot) < routers(best))
      ) {
        best = slot;
      }
    }
    return best;
  }

  // ---- rooms ------------------------------------------------------------------------------

  async openRoom(roomId: string): Promise<RoomMediaInfo> {
    requireId(roomId, 'roomId');
    this.assertAvailable();
    const room = this.rooms.get(roomId) ?? (await this.openRoomOnce(roomId));
    return { roomId, routerId: room.origin.router.id, workerIndex: room.origin.slot.index };
  }

  /** Concurrent opens of one room share a single router creation. */
  private openRoomOnce(roomId: string): Promise<RoomMedia> {
    const pending = this.opening.get(roomId);
    if (pending) return pending.promise;
    const entry = { cancelled: false } as OpeningRoom;
    this.opening.set(roomId, entry);
    entry.promise = this.createRoom(roomId, entry).finally(() => {
      if (this.opening.get(roomId) === entry) this.opening.delete(roomId);
    });
    return entry.promise;
  }

  private async createRoom(roomId: string, entry: OpeningRoom): Promise<RoomMedia> {
    const slot = this.pickWorker(new Set());
    if (!slot) throw new AppError('UNAVAILABLE', 'media is unavailable');
    this.pendingOrigins.set(slot, (this.pendingOrigins.get(slot) ?? 0) + 1);
    let room: RoomMedia;
    try {
      room = await RoomMedia.open(roomId, slot, this.ctx);
    } finally {
      this.pendingOrigins.set(slot, (this.pendingOrigins.get(slot) ?? 1) - 1);
    }
    if (entry.cancelled || this.closed || room.origin.router.closed) {
      room.close();
      if (entry.cancelled) throw conflict('the room media was closed while opening');
      throw new AppError('UNAVAILABLE', 'media is unavailable');
    }
    this.rooms.set(roomId, room);
    this.log.debug({ roomId, worker: slot.index }, 'room media open');
    return room;
  }

  closeRoom(roomId: string): void {
    const opening = this.opening.get(roomId);
    if (opening) {
      opening.cancelled = true;
      this.opening.delete(roomId);
    }
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.rooms.delete(roomId);
    this.closeRoomMedia(room, 'ended');
    this.log.debug({ roomId }, 'room media closed');
  }

  /** Announces the close first (a recorder stops its ffmpeg while the media still flows), then closes. */
  private closeRoomMedia(room: RoomMedia, reason: RoomClosingReason): void {
    this.events.emit('roomClosing', { roomId: room.id, reason });
    room.close();
  }

  isRoomOpen(roomId: string): boolean {
    return this.rooms.has(roomId);
  }

  private room(roomId: string): RoomMedia {
    requireId(roomId, 'roomId');
    this.assertAvailable();
    const room = this.rooms.get(roomId);
    if (!room) throw notFound('room media');
    return room;
  }

  listProducers(roomId: string): ProducerInfo[] {
    return this.room(roomId).listProducers();
  }

  async openRecordingTap(roomId: string): Promise<RecordingTap> {
    return this.room(roomId).openTap();
  }

  // ---- peers ------------------------------------------------------------------------------

  private peer(ref: PeerRef): MediaPeer {
    const room = this.room(ref?.roomId);
    const peer = room.peers.get(requireId(ref.peerId, 'peerId'));
    if (!peer) throw notFound('media peer');
    return peer;
  }

  async joinPeer(input: JoinPeerInput): Promise<JoinedPeer> {
    const room = this.room(input?.roomId);
    requireId(input.peerId, 'peerId');
    if (typeof input.canProduce !== 'boolean') throw invalidArgument('canProduce must be a boolean');
    let peer: MediaPeer;
    try {
      peer = await room.join(input);
    } catch (err) {
      // A join cancelled by its own peer leaving may have been all the room had.
      this.closeIfIdle(room);
      throw err;
    }
    return {
      roomId: room.id,
      peerId: peer.id,
      routerRtpCapabilities: peer.home.router.rtpCapabilities,
      producers: room.listProducers(),
      routerId: peer.home.router.id,
      routerRole: peer.home.role,
      workerIndex: peer.home.slot.index,
    };
  }

  routerRtpCapabilities(ref: PeerRef): RtpCapabilities {
    return this.peer(ref).home.router.rtpCapabilities;
  }

  createWebRtcTransport(input: PeerRef & { direction: TransportDirection }): Promise<WebRtcTransportParams> {
    return this.peer(input).createWebRtcTransport(input.direction);
  }

  createPlainTransport(input: PeerRef): Promise<PlainTransportParams> {
    return this.peer(input).createPlainTransport();
  }

  connectTransport(input: TransportRef & { dtlsParameters: DtlsParameters }): Promise<void> {
    return this.peer(input).connectTransport(input.transportId, input.dtlsParameters);
  }

  restartIce(input: TransportRef): Promise<IceParameters> {
    return this.peer(input).restartIce(input.transportId);
  }

  produce(input: ProduceInput): Promise<ProducerInfo> {
    return this.peer(input).produce(input);
  }

  pauseProducer(input: ProducerRef): Promise<void> {
    return this.setProducerPaused(input, true);
  }

  resumeProducer(input: ProducerRef): Promise<void> {
    return this.setProducerPaused(input, false);
  }

  private async setProducerPaused(input: ProducerRef, paused: boolean): Promise<void> {
    const peer = this.peer(input);
    if (await peer.setProducerPaused(input.producerId, paused)) {
      this.rooms.get(input.roomId)?.producerPausedChanged(input.producerId, paused);
    }
  }

  closeProducer(input: ProducerRef): void {
    this.peer(input).closeProducer(input.producerId);
  }

  consume(input: ConsumeInput): Promise<ConsumerParams> {
    return this.peer(input).consume(input);
  }

  pauseConsumer(input: ConsumerRef): Promise<void> {
    return this.peer(input).setConsumerPaused(input.consumerId, true);
  }

  resumeConsumer(input: ConsumerRef): Promise<void> {
    return this.peer(input).setConsumerPaused(input.consumerId, false);
  }

  setPreferredLayers(input: ConsumerRef & { spatialLayer: number; temporalLayer?: number }): Promise<void> {
    return this.peer(input).setPreferredLayers(input.consumerId, input.spatialLayer, input.temporalLayer);
  }

  consumerStats(input: ConsumerRef): Promise<MediaStreamStats[]> {
    return this.peer(input).consumerStats(input.consumerId);
  }

  revokeConsumers(ref: PeerRef): number {
    return this.peer(ref).revokeConsumers();
  }

  allowConsume(ref: PeerRef): void {
    this.peer(ref).allowConsume();
  }

  closePeer(ref: PeerRef): void {
    // Cleanup never throws: the gateway calls it on every disconnect, media or not.
    if (typeof ref?.roomId !== 'string' || typeof ref.peerId !== 'string') return;
    const room = this.rooms.get(ref.roomId);
    if (!room) return;
    room.leave(ref.peerId);
    this.closeIfIdle(room);
  }

  /**
   * A room's media is needed while someone is in it: without peers (and so without producers) its
   * routers would only count towards their workers' load until the room ends. Whoever joins
   * next opens it again.
   */
  private closeIfIdle(room: RoomMedia): void {
    if (!room.idle || this.rooms.get(room.id) !== room) return;
    this.rooms.delete(room.id);
    this.closeRoomMedia(room, 'idle');
    this.log.debug({ roomId: room.id }, 'room media closed: its last peer left');
  }

  // ---- shutdown ---------------------------------------------------------------------------

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    this.refreshAvailability();
    for (const entry of this.opening.values()) entry.cancelled = true;
    this.opening.clear();
    for (const room of [...this.rooms.values()]) this.closeRoomMedia(room, 'planeClosed');
    this.rooms.clear();
    this.metrics.unregister();
    this.events.removeAllListeners();
    try {
      await this.pool?.close();
    } finally {
      this.onClose();
      this.log.info('media plane closed');
    }
  }
}
