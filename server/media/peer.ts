import type {
  Consumer,
  DtlsParameters,
  IceParameters,
  PlainTransport,
  Producer,
  RtpCapabilities,
  Transport,
  WebRtcTransport,
} from 'mediasoup/types';
import { AppError, conflict, forbidden, invalidArgument, notFound } from '../errors';
import { ingestListenInfo, type LoadedPeer, type MediaContext, type RoomRouter } from './context';
import { mediasoupCall } from './mediasoup-errors';
import {
  type ConsumerParams,
  MEDIA_SOURCE_KIND,
  type MediaKind,
  type MediaSource,
  type MediaStreamStats,
  type PlainTransportParams,
  type ProducerInfo,
  type RtpParameters,
  type TransportDirection,
  type WebRtcTransportParams,
} from './types';

/** What a peer needs from its room (implemented by RoomMedia). */
export interface PeerRoom {
  readonly id: string;
  readonly closed: boolean;
  /** Makes the producer consumable on every router of the room, then announces it. */
  publish(producer: Producer, peer: MediaPeer, source: MediaSource): Promise<ProducerInfo>;
  /** Bookkeeping when a producer closed, for whatever reason. */
  producerClosed(producerId: string): void;
  /** An announced producer of the room, or undefined. */
  announcedProducer(producerId: string): { source: MediaSource } | undefined;
}

interface PeerTransport {
  readonly transport: WebRtcTransport | PlainTransport;
  readonly direction: TransportDirection;
  connected: boolean;
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;
const isLayer = (value: unknown) => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 15;

/**
 * A participant's media in one room: its transports on its router, and the producers and
 * consumers on them. Closing the peer closes the transports, which close everything on them.
 */
export class MediaPeer implements LoadedPeer {
  private readonly transports = new Map<string, PeerTransport>();
  private readonly producers = new Map<string, Producer>();
  private readonly consumers = new Map<string, Consumer>();
  /** Reservations for requests in flight, so that concurrent calls cannot pass the limits. */
  private pendingTransports = 0;
  private readonly pendingSources = new Set<MediaSource>();
  private readonly pendingConsumes = new Set<string>();
  private closedFlag = false;

  constructor(
    readonly id: string,
    private readonly room: PeerRoom,
    readonly home: RoomRouter,
    readonly canProduce: boolean,
    private canConsumeNow: boolean,
    private readonly ctx: MediaContext,
  ) {}

  get closed(): boolean {
    return this.closedFlag;
  }

  get consumerCount(): number {
    return this.consumers.size;
  }

  async createWebRtcTransport(direction: TransportDirection): Promise<WebRtcTransportParams> {
    if (direction !== 'send' && direction !== 'recv') throw invalidArgument('direction must be "send" or "recv"');
    if (direction === 'send' && !this.canProduce) throw forbidden('only the room owner can publish media');
    const { options } = this.ctx;
    const transport = await this.withTransportSlot(() =>
      this.call('create transport', () =>
        this.home.router.createWebRtcTransport({
          webRtcServer: this.home.webRtcServer,
          enableUdp: true,
          enableTcp: options.enableTcp,
          preferUdp: true,
          initialAvailableOutgoingBitrate: options.initialAvailableOutgoingBitrate,
          appData: { peerId: this.id, direction },
        }),
      ),
    );
    this.adopt(transport, direction);
    // A DTLS failure is final (an ICE restart does not fix it), and 'closed' means the browser
    // hung up: either way the transport is dead weight.
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') transport.close();
    });
    if (direction === 'send' && options.maxIncomingBitrate) {
      try {
        await this.call('limit incoming bitrate', () => transport.setMaxIncomingBitrate(options.maxIncomingBitrate));
      } catch (err) {
        transport.close();
        throw err;
      }
    }
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
      sctpParameters: transport.sctpParameters,
    };
  }

  async createPlainTransport(): Promise<PlainTransportParams> {
    if (!this.canProduce) throw forbidden('only the room owner can publish media');
    const transport = await this.withTransportSlot(() =>
      this.call('create ingest transport', () =>
        this.home.router.createPlainTransport({
          listenInfo: ingestListenInfo(this.ctx.options),
          rtcpMux: true,
          comedia: true,
          appData: { peerId: this.id, direction: 'send' },
        }),
      ),
    );
    // A comedia transport needs no connect() from the caller: the first packet connects it.
    this.adopt(transport, 'send').connected = true;
    const { tuple } = transport;
    return { id: transport.id, ip: this.ctx.options.announcedAddress ?? tuple.localAddress, port: tuple.localPort };
  }

  /** Counts a transport against the limit while it is being created; closes it if the peer left meanwhile. */
  private async withTransportSlot<T extends { close(): void }>(create: () => Promise<T>): Promise<T> {
    this.assertOpen();
    if (this.transports.size + this.pendingTransports >= this.ctx.options.maxTransportsPerPeer) {
      throw conflict(`a peer may hold at most ${this.ctx.options.maxTransportsPerPeer} transports`);
    }
    this.pendingTransports++;
    try {
      const transport = await create();
      if (this.closedFlag) {
        transport.close();
        throw notFound('media peer');
      }
      return transport;
    } finally {
      this.pendingTransports--;
    }
  }

  private adopt(transport: WebRtcTransport | PlainTransport, direction: TransportDirection): PeerTransport {
    const entry: PeerTransport = { transport, direction, connected: false };
    this.transports.set(transport.id, entry);
    (transport as Transport).observer.once('close', () => this.transports.delete(transport.id));
    return entry;
  }

  private transport(transportId: string): PeerTransport {
    const entry = typeof transportId === 'string' ? this.transports.get(transportId) : undefined;
    if (!entry) throw notFound('transport');
    return entry;
  }

  private webRtcTransport(transportId: string): WebRtcTransport {
    const { transport } = this.transport(transportId);
    if (transport.type !== 'webrtc') throw invalidArgument('not a WebRTC transport');
    return transport;
  }

  async connectTransport(transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    const entry = this.transport(transportId);
    if (entry.transport.type !== 'webrtc') throw invalidArgument('not a WebRTC transport');
    if (!isObject(dtlsParameters)) throw invalidArgument('dtlsParameters must be an object');
    if (entry.connected) throw conflict('transport already connected');
    entry.connected = true;
    const transport = entry.transport;
    try {
      await this.call('connect transport', () => transport.connect({ dtlsParameters }));
    } catch (err) {
      entry.connected = false;
      throw err;
    }
  }

  restartIce(transportId: string): Promise<IceParameters> {
    const transport = this.webRtcTransport(transportId);
    return this.call('restart ICE', () => transport.restartIce());
  }

  async produce(input: {
    transportId: string;
    kind: MediaKind;
    rtpParameters: RtpParameters;
    source: MediaSource;
  }): Promise<ProducerInfo> {
    if (!this.canProduce) throw forbidden('only the room owner can publish media');
    const { transportId, kind, rtpParameters, source } = input;
    if (!Object.hasOwn(MEDIA_SOURCE_KIND, source)) {
      throw invalidArgument(`source must be one of ${Object.keys(MEDIA_SOURCE_KIND).join(', ')}`);
    }
    if (MEDIA_SOURCE_KIND[source] !== kind)
      throw invalidArgument(`a ${source} producer is ${MEDIA_SOURCE_KIND[source]}`);
    if (!isObject(rtpParameters)) throw invalidArgument('rtpParameters must be an object');
    const entry = this.transport(transportId);
    if (entry.direction !== 'send') throw invalidArgument('produce needs a send transport');
    if (this.pendingSources.has(source) || [...this.producers.values()].some((p) => p.appData.source === source)) {
      throw conflict(`a ${source} producer already exists`);
    }
    this.pendingSources.add(source);
    let producer: Producer;
    try {
      producer = await this.call('produce', () =>
        entry.transport.produce({ kind, rtpParameters, appData: { source, peerId: this.id, roomId: this.room.id } }),
      );
    } finally {
      this.pendingSources.delete(source);
    }
    if (this.closedFlag) {
      producer.close();
      throw notFound('media peer');
    }
    this.producers.set(producer.id, producer);
    producer.observer.once('close', () => {
      this.producers.delete(producer.id);
      this.room.producerClosed(producer.id);
    });
    try {
      return await this.room.publish(producer, this, source);
    } catch (err) {
      producer.close();
      throw err;
    }
  }

  private producer(producerId: string): Producer {
    const producer = typeof producerId === 'string' ? this.producers.get(producerId) : undefined;
    if (!producer) throw notFound('producer');
    return producer;
  }

  /** Pauses or resumes one of the peer's producers; returns whether the state changed. */
  async setProducerPaused(producerId: string, paused: boolean): Promise<boolean> {
    const producer = this.producer(producerId);
    if (producer.paused === paused) return false;
    await this.call(paused ? 'pause producer' : 'resume producer', () =>
      paused ? producer.pause() : producer.resume(),
    );
    return true;
  }

  closeProducer(producerId: string): void {
    this.producer(producerId).close();
  }

  async consume(input: {
    transportId: string;
    producerId: string;
    rtpCapabilities: RtpCapabilities;
  }): Promise<ConsumerParams> {
    const { transportId, producerId, rtpCapabilities } = input;
    if (!this.canConsumeNow) throw forbidden('no access to this room’s media');
    const entry = this.transport(transportId);
    if (entry.direction !== 'recv') throw invalidArgument('consume needs a recv transport');
    const published = typeof producerId === 'string' ? this.room.announcedProducer(producerId) : undefined;
    if (!published) throw notFound('producer');
    if (this.home.role === 'edge' && !this.home.piped.has(producerId)) {
      throw new AppError('UNAVAILABLE', 'this media is not available on the viewer’s router yet');
    }
    if (this.pendingConsumes.has(producerId) || [...this.consumers.values()].some((c) => c.producerId === producerId)) {
      throw conflict('already consuming this producer');
    }
    if (!isObject(rtpCapabilities) || !this.home.router.canConsume({ producerId, rtpCapabilities })) {
      throw invalidArgument('these RTP capabilities cannot receive this producer');
    }
    this.pendingConsumes.add(producerId);
    let consumer: Consumer;
    try {
      consumer = await this.call('consume', () =>
        entry.transport.consume({
          producerId,
          rtpCapabilities,
          paused: true, // resumed once the client has its consumer, so no keyframe is lost
          appData: { peerId: this.id, source: published.source },
        }),
      );
    } finally {
      this.pendingConsumes.delete(producerId);
    }
    // Revoked or left while mediasoup was creating it: it must not survive.
    if (this.closedFlag || !this.canConsumeNow) {
      consumer.close();
      throw this.closedFlag ? notFound('media peer') : forbidden('no access to this room’s media');
    }
    this.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => this.consumers.delete(consumer.id));
    consumer.on('producerclose', () => {
      if (this.room.closed) return;
      this.ctx.events.emit('consumerClosed', {
        roomId: this.room.id,
        peerId: this.id,
        consumerId: consumer.id,
        producerId,
        reason: 'producerClosed',
      });
    });
    return {
      id: consumer.id,
      producerId,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters,
      type: consumer.type,
      producerPaused: consumer.producerPaused,
      source: published.source,
    };
  }

  private consumer(consumerId: string): Consumer {
    const consumer = typeof consumerId === 'string' ? this.consumers.get(consumerId) : undefined;
    if (!consumer) throw notFound('consumer');
    return consumer;
  }

  setConsumerPaused(consumerId: string, paused: boolean): Promise<void> {
    const consumer = this.consumer(consumerId);
    return this.call(paused ? 'pause consumer' : 'resume consumer', () =>
      paused ? consumer.pause() : consumer.resume(),
    );
  }

  setPreferredLayers(consumerId: string, spatialLayer: number, temporalLayer?: number): Promise<void> {
    const consumer = this.consumer(consumerId);
    if (!isLayer(spatialLayer) || (temporalLayer !== undefined && !isLayer(temporalLayer))) {
      throw invalidArgument('layers are integers from 0 to 15');
    }
    return this.call('set preferred layers', () => consumer.setPreferredLayers({ spatialLayer, temporalLayer }));
  }

  consumerStats(consumerId: string): Promise<MediaStreamStats[]> {
    const consumer = this.consumer(consumerId);
    return this.call('consumer stats', () => consumer.getStats());
  }

  /** Closes every consumer and refuses new ones until allowConsume(). */
  revokeConsumers(): number {
    this.canConsumeNow = false;
    const revoked = [...this.consumers.values()];
    for (const consumer of revoked) {
      consumer.close();
      this.ctx.events.emit('consumerClosed', {
        roomId: this.room.id,
        peerId: this.id,
        consumerId: consumer.id,
        producerId: consumer.producerId,
        reason: 'revoked',
      });
    }
    return revoked.length;
  }

  allowConsume(): void {
    this.canConsumeNow = true;
  }

  /** Closes the transports (and with them every producer and consumer). Safe to call twice. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const { transport } of [...this.transports.values()]) transport.close();
    this.transports.clear();
  }

  /**
   * A mediasoup call on this peer's objects. If the peer was closed meanwhile (it left, its room
   * closed or its worker died) the worker's complaint about a vanished object means just that.
   */
  private async call<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await mediasoupCall(action, call);
    } catch (err) {
      if (this.closedFlag) throw notFound('media peer');
      throw err;
    }
  }

  private assertOpen(): void {
    if (this.closedFlag) throw notFound('media peer');
  }
}
