import type { Producer } from 'mediasoup/types';
import { AppError, conflict, notFound } from '../errors';
import { createRoomRouter, type MediaContext, pipeListenInfo, type RoomRouter } from './context';
import { MediaPeer, type PeerRoom } from './peer';
import { SerialQueue } from './serial-queue';
import { MediaRecordingTap, type TapRoom } from './tap';
import type { JoinPeerInput, MediaSource, ProducerInfo } from './types';
import type { WorkerSlot } from './worker-pool';

interface RoomProducer {
  readonly producer: Producer;
  readonly peer: MediaPeer;
  readonly source: MediaSource;
  /** Set once it is consumable on every router and `producerAdded` went out. */
  announced: boolean;
}

/**
 * The media of one live room: its origin router (where the owner publishes), edge routers on
 * other workers once the origin is full, and the peers placed on them.
 *
 * Changes to the topology (an edge added and filled with pipes, a producer piped to every edge)
 * go through one queue per room, so a producer published while an edge is being created reaches
 * it either way.
 */
export class RoomMedia implements PeerRoom, TapRoom {
  readonly peers = new Map<string, MediaPeer>();
  /** Recording taps: no peers, so they neither count as viewers nor keep the room open. */
  private readonly taps = new Set<MediaRecordingTap>();
  readonly edges = new Set<RoomRouter>();
  private readonly producers = new Map<string, RoomProducer>();
  /** Joins in flight, by peer id; `cancelled` when the peer was closed before its join finished. */
  private readonly joining = new Map<string, { cancelled: boolean }>();
  private readonly queue = new SerialQueue();
  private closedFlag = false;
  private overfilled = false;

  private constructor(
    readonly id: string,
    readonly origin: RoomRouter,
    private readonly ctx: MediaContext,
  ) {}

  static async open(id: string, slot: WorkerSlot, ctx: MediaContext): Promise<RoomMedia> {
    return new RoomMedia(id, await createRoomRouter(slot, id, 'origin', ctx), ctx);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Open, with no peer in it and none joining (so no producer either). */
  get idle(): boolean {
    return !this.closedFlag && this.peers.size === 0 && this.joining.size === 0;
  }

  get routers(): RoomRouter[] {
    return [this.origin, ...this.edges];
  }

  /**
   * Consumers the router carries once its viewers consume everything published: a viewer counts
   * as the consumers it has, or one per producer of the room (at least one) if it has fewer yet.
   * Counting what viewers will consume keeps a burst of joins from all landing on one router.
   */
  plannedLoad(rr: RoomRouter): number {
    const perViewer = Math.max(1, this.producers.size);
    let load = 0;
    for (const peer of rr.peers) load += peer.canProduce ? peer.consumerCount : Math.max(peer.consumerCount, perViewer);
    return load;
  }

  listProducers(): ProducerInfo[] {
    return [...this.producers.values()].filter((p) => p.announced).map(toInfo);
  }

  announcedProducer(producerId: string): { source: MediaSource } | undefined {
    const entry = this.producers.get(producerId);
    return entry?.announced ? { source: entry.source } : undefined;
  }

  openTap(): MediaRecordingTap {
    if (this.closedFlag) throw notFound('room media');
    const tap = new MediaRecordingTap(this, this.ctx);
    this.taps.add(tap);
    return tap;
  }

  tapClosed(tap: MediaRecordingTap): void {
    this.taps.delete(tap);
  }

  join(input: JoinPeerInput): Promise<MediaPeer> {
    const { peerId } = input;
    if (this.closedFlag) return Promise.reject(notFound('room media'));
    if (this.peers.has(peerId) || this.joining.has(peerId)) return Promise.reject(conflict('peer already joined'));
    const ticket = { cancelled: false };
    this.joining.set(peerId, ticket);
    return this.queue
      .run(async () => {
        if (this.closedFlag) throw notFound('room media');
        // The owner publishes on the origin; viewers go wherever there is room.
        const home = input.canProduce ? this.origin : await this.routerForViewer();
        if (this.closedFlag) throw notFound('room media');
        if (ticket.cancelled) {
          this.closeEdgeIfIdle(home);
          throw conflict('the peer left before joining completed');
        }
        const peer = new MediaPeer(peerId, this, home, input.canProduce, input.canConsume ?? true, this.ctx);
        home.peers.add(peer);
        this.peers.set(peerId, peer);
        return peer;
      })
      .finally(() => this.joining.delete(peerId));
  }

  /** The first router below the threshold, else a new edge on another worker, else the least loaded. */
  private async routerForViewer(): Promise<RoomRouter> {
    const max = this.ctx.options.maxConsumersPerRouter;
    const routers = this.routers.filter((rr) => !rr.router.closed);
    const open = routers.find((rr) => this.plannedLoad(rr) < max);
    if (open) return open;
    const slot = this.ctx.pickWorker(new Set(routers.map((rr) => rr.slot)));
    if (slot) {
      try {
        return await this.addEdge(slot);
      } catch (err) {
        this.ctx.log.warn({ err, roomId: this.id, worker: slot.index }, 'could not add an edge router; overfilling');
      }
    } else if (!this.overfilled) {
      // Once per room: past this point every further join would say the same.
      this.overfilled = true;
      this.ctx.log.warn({ roomId: this.id }, 'every worker already serves this room; overfilling its routers');
    }
    if (!routers.length) throw new AppError('UNAVAILABLE', 'media is unavailable');
    return routers.reduce((a, b) => (this.plannedLoad(b) < this.plannedLoad(a) ? b : a));
  }

  private async addEdge(slot: WorkerSlot): Promise<RoomRouter> {
    const edge = await createRoomRouter(slot, this.id, 'edge', this.ctx);
    try {
      for (const { producer } of this.producers.values()) {
        try {
          await this.pipe(producer.id, edge);
        } catch (err) {
          // A producer closed meanwhile needs no pipe; anything else leaves the edge unusable.
          if (!producer.closed) throw err;
        }
      }
      if (this.closedFlag) throw notFound('room media');
    } catch (err) {
      edge.router.close();
      throw err;
    }
    this.edges.add(edge);
    this.ctx.onEdgeCreated();
    this.ctx.log.info(
      { roomId: this.id, worker: slot.index, routerId: edge.router.id, producers: edge.piped.size },
      'edge router added for viewers',
    );
    return edge;
  }

  private async pipe(producerId: string, edge: RoomRouter): Promise<void> {
    // keepId (mediasoup's default) gives the pipe producer the origin producer's id, so viewers
    // on every router consume the same producer id.
    await this.origin.router.pipeToRouter({
      producerId,
      router: edge.router,
      listenInfo: pipeListenInfo(this.ctx.options),
      enableSctp: false,
    });
    edge.piped.add(producerId);
  }

  publish(producer: Producer, peer: MediaPeer, source: MediaSource): Promise<ProducerInfo> {
    return this.queue.run(async () => {
      if (this.closedFlag) throw notFound('room media');
      if (producer.closed) throw conflict('the producer closed while publishing');
      const entry: RoomProducer = { producer, peer, source, announced: false };
      this.producers.set(producer.id, entry);
      for (const edge of this.edges) {
        try {
          await this.pipe(producer.id, edge);
        } catch (err) {
          if (producer.closed) break;
          // Viewers on that edge will get UNAVAILABLE for this producer; the others are served.
          if (!edge.router.closed) this.ctx.log.error({ err, roomId: this.id }, 'could not pipe a producer to an edge');
        }
      }
      if (this.closedFlag) throw notFound('room media');
      if (producer.closed) throw conflict('the producer closed while publishing');
      entry.announced = true;
      const info = toInfo(entry);
      this.ctx.events.emit('producerAdded', { roomId: this.id, ...info });
      return info;
    });
  }

  producerClosed(producerId: string): void {
    const entry = this.producers.get(producerId);
    if (!entry) return;
    this.producers.delete(producerId);
    // The pipe producers on edges close by themselves (mediasoup ties them to the pipe consumer).
    for (const edge of this.edges) edge.piped.delete(producerId);
    // A room being torn down (closed, or its worker died) is announced as a whole instead.
    if (!entry.announced || this.closedFlag || this.origin.router.closed) return;
    this.ctx.events.emit('producerClosed', { roomId: this.id, peerId: entry.peer.id, producerId });
  }

  /** The peer's pause/resume went through: tell the viewers. */
  producerPausedChanged(producerId: string, paused: boolean): void {
    const entry = this.producers.get(producerId);
    if (!entry?.announced || this.closedFlag) return;
    const payload = { roomId: this.id, peerId: entry.peer.id, producerId };
    this.ctx.events.emit(paused ? 'producerPaused' : 'producerResumed', payload);
  }

  /** Releases the peer; an edge left without viewers is closed (its pipes with it). */
  leave(peerId: string): void {
    const ticket = this.joining.get(peerId);
    if (ticket) ticket.cancelled = true;
    const peer = this.peers.get(peerId);
    if (!peer) return;
    this.peers.delete(peerId);
    peer.close();
    peer.home.peers.delete(peer);
    this.closeEdgeIfIdle(peer.home);
  }

  private closeEdgeIfIdle(rr: RoomRouter): void {
    if (rr.role !== 'edge' || rr.peers.size > 0) return;
    this.edges.delete(rr);
    rr.router.close();
  }

  /** Closes every peer and router of the room. Safe to call twice. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const ticket of this.joining.values()) ticket.cancelled = true;
    for (const tap of [...this.taps]) tap.close();
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    for (const edge of this.edges) edge.router.close();
    this.edges.clear();
    this.origin.router.close();
    this.producers.clear();
  }
}

function toInfo(entry: RoomProducer): ProducerInfo {
  return {
    producerId: entry.producer.id,
    peerId: entry.peer.id,
    kind: entry.producer.kind,
    source: entry.source,
    paused: entry.producer.paused,
  };
}
