import type { Consumer, RtpParameters, Transport } from 'mediasoup-client/types';
import type { AccessLevel, MediaKind, MediaProducer, MediaSource } from '../../../protocol';
import type { LecternClient } from '../client';
import type { MediaLink } from './link';
import { RoomMedia, type RoomMediaEvents } from './room-media';
import { type InboundVideoStats, inboundVideo } from './stats';

/** One track of the room's media as this viewer receives it. */
export interface RemoteTrack {
  producerId: string;
  consumerId: string;
  kind: MediaKind;
  source: MediaSource;
  track: MediaStreamTrack;
  /** The streamer paused it (e.g. turned the camera off): the track is there but silent. */
  paused: boolean;
}

/** Why a track went away: the streamer stopped it, access ended, media was re-established, the room ended, or `stop()`. */
export type TrackEndReason = 'producerClosed' | 'revoked' | 'reset' | 'ended' | 'closed';

export interface ViewingEvents extends RoomMediaEvents {
  /** A track to show or play. */
  track: (p: RemoteTrack) => void;
  /** A track went away; it has ended and left {@link Viewing.stream}. */
  trackended: (p: RemoteTrack & { reason: TrackEndReason }) => void;
  /** The streamer paused or resumed a track. */
  trackpaused: (p: RemoteTrack) => void;
}

export interface WatchOptions {
  /** Shorthand for `viewing.on('track', …)`, registered before anything is consumed. */
  onTrack?: (track: RemoteTrack) => void;
  /** Shorthand for `viewing.on('trackended', …)`. */
  onTrackEnded?: (track: RemoteTrack & { reason: TrackEndReason }) => void;
  /** Simulcast layer to ask for (0 = lowest); default: the best the downlink carries. */
  spatialLayer?: number;
}

/** Wait before consuming a producer again after a passing refusal. */
const CONSUME_RETRY_MS = 1000;

const codeOf = (err: unknown) => (err as { code?: unknown } | null)?.code;

/**
 * The room's media as one viewer receives it. `stream` always holds the current tracks (for a
 * `<video>`); the `track` / `trackended` events say which source each one is.
 */
export class Viewing extends RoomMedia<ViewingEvents> {
  /** Every track being received now, ready for `video.srcObject`. */
  readonly stream = new MediaStream();
  private readonly consumers = new Map<string, { consumer: Consumer; remote: RemoteTrack }>();
  /** Producers the server has announced on the current link: from `media:join` and `media:producer:new`. */
  private readonly announced = new Map<string, MediaProducer>();
  private readonly consuming = new Set<string>();
  /**
   * Consumers the server closed while ours were still being created: `media:consumer:closed`
   * can arrive before `transport.consume()` returns, and such a consumer would otherwise stay
   * as a silent track nobody replaces.
   */
  private readonly closedEarly = new Set<string>();
  private transport: Transport | undefined;
  private spatialLayer: number | undefined;

  /** @internal use {@link watch} */
  constructor(client: LecternClient, roomId: string, options: WatchOptions) {
    super(client, roomId);
    this.spatialLayer = options.spatialLayer;
    if (options.onTrack) this.on('track', options.onTrack);
    if (options.onTrackEnded) this.on('trackended', options.onTrackEnded);
    this.listen('media:producer:new', (p: MediaProducer) => {
      this.announced.set(p.producerId, p);
      if (this.transport) void this.consume(this.transport, p);
    });
    this.listen('media:producer:closed', ({ producerId }: { producerId: string }) => {
      this.announced.delete(producerId);
      for (const [id, { remote }] of this.consumers)
        if (remote.producerId === producerId) this.removeConsumer(id, 'producerClosed');
    });
    this.listen('media:consumer:closed', ({ consumerId, reason }: { consumerId: string; reason: TrackEndReason }) => {
      if (this.consumers.has(consumerId)) this.removeConsumer(consumerId, reason);
      else if (this.consuming.size) this.closedEarly.add(consumerId);
    });
    this.listen('media:producer:paused', ({ producerId }: { producerId: string }) => this.markPaused(producerId, true));
    this.listen('media:producer:resumed', ({ producerId }: { producerId: string }) =>
      this.markPaused(producerId, false),
    );
    this.listen('access:changed', ({ access }: { access: AccessLevel }) => this.accessChanged(access));
  }

  /** The tracks being received now. */
  tracks(): RemoteTrack[] {
    return [...this.consumers.values()].map(({ remote }) => remote);
  }

  /** What each video track decodes: frames, resolution, bytes (from the browser's `getStats`). */
  async getStats(): Promise<InboundVideoStats[]> {
    const out: InboundVideoStats[] = [];
    for (const { consumer, remote } of [...this.consumers.values()]) {
      if (remote.kind !== 'video' || consumer.closed) continue;
      const stats = inboundVideo(await consumer.getStats(), remote.producerId, remote.source);
      if (stats) out.push(stats);
    }
    return out;
  }

  /** Asks for a simulcast layer (0 = smallest) on every video track, now and later. */
  async setSpatialLayer(spatialLayer: number): Promise<void> {
    this.spatialLayer = spatialLayer;
    for (const { consumer } of this.consumers.values()) await this.applyLayer(consumer);
  }

  /** Stops watching and releases the server's side. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.finished) return;
    const wasJoined = this.link !== undefined;
    this.finish('closed');
    if (wasJoined && this.client.connected)
      await this.client.request('media:leave', { roomId: this.roomId }).catch(() => undefined);
  }

  /** Without access (`PAYMENT_REQUIRED`) this waits, `blocked`, until `access:changed` lets it in. */
  protected override async establish(): Promise<void> {
    try {
      await super.establish();
    } catch (err) {
      if (codeOf(err) !== 'PAYMENT_REQUIRED') throw err;
      this.dropLink('revoked');
      this.setState('blocked');
    }
  }

  protected async setUp(link: MediaLink): Promise<void> {
    for (const p of link.joined.producers) this.announced.set(p.producerId, p);
    const transport = await link.createTransport('recv', this.onTransportLost);
    if (this.link !== link) return;
    this.transport = transport;
    // Pictures first: a viewer notices a late picture more than late sound.
    const producers = [...this.announced.values()].sort((a, b) =>
      a.kind === b.kind ? 0 : a.kind === 'video' ? -1 : 1,
    );
    await Promise.all(producers.map((p) => this.consume(transport, p)));
  }

  protected tearDown(reason: TrackEndReason): void {
    this.transport = undefined;
    this.announced.clear();
    this.consuming.clear();
    this.closedEarly.clear();
    for (const id of [...this.consumers.keys()]) this.removeConsumer(id, reason);
  }

  private accessChanged(access: AccessLevel): void {
    if (access === 'none') {
      // The server closes our consumers too (`revoked`); drop the link now and stop asking.
      if (this.state === 'blocked') return;
      this.dropLink('revoked');
      this.setState('blocked');
      void this.client.request('media:leave', { roomId: this.roomId }).catch(() => undefined);
    } else if (this.state === 'blocked') {
      void this.reestablish();
    }
  }

  private async consume(transport: Transport, producer: MediaProducer): Promise<void> {
    const { producerId } = producer;
    const link = this.link;
    if (!link || this.consuming.has(producerId) || this.tracks().some((t) => t.producerId === producerId)) return;
    this.consuming.add(producerId);
    try {
      const options = await this.client.request('media:consume', {
        roomId: this.roomId,
        transportId: transport.id,
        producerId,
        rtpCapabilities: link.device.recvRtpCapabilities as unknown as Record<string, unknown>,
      });
      if (this.transport !== transport || transport.closed) return;
      const consumer = await transport.consume({
        id: options.id,
        producerId: options.producerId,
        kind: options.kind,
        rtpParameters: options.rtpParameters as unknown as RtpParameters,
      });
      if (this.transport !== transport || !this.announced.has(producerId) || this.closedEarly.delete(consumer.id)) {
        consumer.close();
        // Closed by the server while it was being made, for a producer still on offer: ask again.
        if (this.transport === transport && this.announced.has(producerId)) this.consumeLater(transport, producerId);
        return;
      }
      const remote: RemoteTrack = {
        producerId,
        consumerId: consumer.id,
        kind: options.kind,
        source: options.source,
        track: consumer.track,
        paused: options.producerPaused,
      };
      this.consumers.set(consumer.id, { consumer, remote });
      this.stream.addTrack(consumer.track);
      // Consumers start paused on the server so no packet is lost before the track is attached.
      await this.client.request('media:consumer:resume', { roomId: this.roomId, consumerId: consumer.id });
      if (options.type === 'simulcast') await this.applyLayer(consumer);
      (this.emit as (e: 'track', p: RemoteTrack) => void)('track', remote);
    } catch (err) {
      // The producer may have closed meanwhile, or access ended; both arrive as their own events.
      const code = codeOf(err);
      if (code !== 'NOT_FOUND' && code !== 'PAYMENT_REQUIRED') this.report(err);
      // A passing refusal (the producer not yet piped to this viewer's router, no answer in
      // time) is asked again; a lasting one arrives as a reset or an access change.
      if (code === 'UNAVAILABLE') this.consumeLater(transport, producerId);
    } finally {
      // A newer link has its own record (cleared when this one was torn down).
      if (this.transport === transport) this.consuming.delete(producerId);
    }
  }

  /** Consumes the producer again shortly, if it is still on offer on the same transport. */
  private consumeLater(transport: Transport, producerId: string): void {
    setTimeout(() => {
      const producer = this.announced.get(producerId);
      if (producer && this.transport === transport && !transport.closed && !this.finished)
        void this.consume(transport, producer);
    }, CONSUME_RETRY_MS);
  }

  private async applyLayer(consumer: Consumer): Promise<void> {
    if (this.spatialLayer === undefined || consumer.kind !== 'video' || consumer.closed) return;
    await this.client.request('media:consumer:layers', {
      roomId: this.roomId,
      consumerId: consumer.id,
      spatialLayer: this.spatialLayer,
    });
  }

  private markPaused(producerId: string, paused: boolean): void {
    const entry = this.announced.get(producerId);
    if (entry) entry.paused = paused;
    for (const { remote } of this.consumers.values()) {
      if (remote.producerId !== producerId || remote.paused === paused) continue;
      remote.paused = paused;
      (this.emit as (e: 'trackpaused', p: RemoteTrack) => void)('trackpaused', remote);
    }
  }

  private removeConsumer(consumerId: string, reason: TrackEndReason): void {
    const entry = this.consumers.get(consumerId);
    if (!entry) return;
    this.consumers.delete(consumerId);
    entry.consumer.close(); // ends the track
    this.stream.removeTrack(entry.remote.track);
    (this.emit as (e: 'trackended', p: RemoteTrack & { reason: TrackEndReason }) => void)('trackended', {
      ...entry.remote,
      reason,
    });
  }
}

/**
 * Watches a room the client has joined: `media:join`, a receive transport, and a consumer for
 * every producer — those announced now and those that appear later. Tracks come and go with
 * the streamer; the viewing re-establishes itself after `media:reset`, a reconnect, an ICE
 * failure, or access coming back (a bought ticket after the preview), and ends with the room.
 * Without access it resolves `blocked` and waits.
 */
export async function watch(client: LecternClient, roomId: string, options: WatchOptions = {}): Promise<Viewing> {
  const viewing = new Viewing(client, roomId, options);
  await viewing.start();
  return viewing;
}
