import { parseScalabilityMode } from 'mediasoup';
import type { Consumer, PlainTransport, RtpCapabilities } from 'mediasoup/types';
import { conflict, invalidArgument, notFound } from '../errors';
import { type MediaContext, pipeListenInfo, type RoomRouter } from './context';
import { mediasoupCall } from './mediasoup-errors';
import type { MediaSource, RecordingConsumerParams, RecordingTap, RecordingTarget } from './types';

/** What a tap needs from its room (implemented by RoomMedia). */
export interface TapRoom {
  readonly id: string;
  readonly closed: boolean;
  readonly origin: RoomRouter;
  announcedProducer(producerId: string): { source: MediaSource } | undefined;
  tapClosed(tap: MediaRecordingTap): void;
}

interface TapStream {
  readonly transport: PlainTransport;
  readonly consumer: Consumer;
  connected: boolean;
}

const isPort = (value: unknown) => Number.isInteger(value) && (value as number) > 0 && (value as number) <= 65535;

/**
 * The codecs a local recorder takes: everything the router offers except RTX (nobody on the
 * loopback asks for retransmissions), and no header extensions (ffmpeg ignores them).
 */
function recorderCapabilities(router: RtpCapabilities): RtpCapabilities {
  return {
    codecs: (router.codecs ?? []).filter((c) => c.mimeType.toLowerCase() !== `${c.kind}/rtx`),
    headerExtensions: [],
  };
}

/**
 * A room's media as plain RTP for a recorder on this host: one PlainTransport per stream on the
 * origin router (where the producers live), on loopback, RTP and RTCP on two ports as ffmpeg's
 * SDP input expects them. The consumers are no peer of the room: they count as no viewer and do
 * not keep an idle room open. Closed with the room (ended, idle, its worker died).
 */
export class MediaRecordingTap implements RecordingTap {
  private readonly streams = new Map<string, TapStream>();
  private readonly pending = new Set<PlainTransport>();
  private closedFlag = false;

  constructor(
    private readonly room: TapRoom,
    private readonly ctx: MediaContext,
  ) {}

  get roomId(): string {
    return this.room.id;
  }

  get closed(): boolean {
    return this.closedFlag || this.room.closed;
  }

  async consume(producerId: string): Promise<RecordingConsumerParams> {
    this.assertOpen();
    const published = typeof producerId === 'string' ? this.room.announcedProducer(producerId) : undefined;
    if (!published) throw notFound('producer');
    const { router } = this.room.origin;
    const transport = await mediasoupCall('create recording transport', () =>
      router.createPlainTransport({
        listenInfo: pipeListenInfo(this.ctx.options),
        rtcpMux: false,
        comedia: false,
        appData: { role: 'recording' },
      }),
    );
    this.pending.add(transport);
    let consumer: Consumer;
    try {
      this.assertOpen();
      const rtpCapabilities = recorderCapabilities(router.rtpCapabilities);
      if (!router.canConsume({ producerId, rtpCapabilities })) {
        throw invalidArgument('the recorder cannot take this producer’s codec');
      }
      consumer = await mediasoupCall('consume for recording', () =>
        transport.consume({
          producerId,
          rtpCapabilities,
          // Resumed once the recorder listens, so the first packets it gets start with a key frame.
          paused: true,
          enableRtx: false,
          appData: { role: 'recording', source: published.source },
        }),
      );
      this.assertOpen();
    } catch (err) {
      transport.close();
      throw err;
    } finally {
      this.pending.delete(transport);
    }
    // Simulcast and SVC: the best layer the publisher sends (mediasoup falls back to lower ones
    // while it is missing). Without bandwidth estimation on a PlainTransport nothing else limits it.
    if (consumer.type === 'simulcast' || consumer.type === 'svc') {
      const { spatialLayers, temporalLayers } = parseScalabilityMode(
        consumer.rtpParameters.encodings?.[0]?.scalabilityMode,
      );
      try {
        await consumer.setPreferredLayers({ spatialLayer: spatialLayers - 1, temporalLayer: temporalLayers - 1 });
      } catch (err) {
        if (!consumer.closed)
          this.ctx.log.warn({ err, roomId: this.roomId }, 'could not prefer the top layer for recording');
      }
    }
    const stream: TapStream = { transport, consumer, connected: false };
    this.streams.set(consumer.id, stream);
    // The producer (or the room) went away: the stream is over, and so is its transport.
    consumer.observer.once('close', () => {
      this.streams.delete(consumer.id);
      transport.close();
    });
    transport.observer.once('close', () => {
      this.streams.delete(consumer.id);
    });
    return {
      id: consumer.id,
      producerId,
      kind: consumer.kind,
      source: published.source,
      type: consumer.type,
      rtpParameters: consumer.rtpParameters,
      producerPaused: consumer.producerPaused,
    };
  }

  async connect(consumerId: string, target: RecordingTarget): Promise<void> {
    const stream = this.stream(consumerId);
    if (!isPort(target?.rtpPort) || !isPort(target.rtcpPort)) throw invalidArgument('rtpPort and rtcpPort are ports');
    if (stream.connected) throw conflict('recording stream already connected');
    stream.connected = true;
    await this.call(stream, 'connect recording transport', () =>
      stream.transport.connect({ ip: '127.0.0.1', port: target.rtpPort, rtcpPort: target.rtcpPort }),
    );
  }

  async resume(consumerId: string): Promise<void> {
    const stream = this.stream(consumerId);
    await this.call(stream, 'resume recording consumer', () => stream.consumer.resume());
  }

  async requestKeyFrame(consumerId: string): Promise<void> {
    const stream = this.stream(consumerId);
    if (stream.consumer.kind !== 'video') return;
    await this.call(stream, 'request key frame', () => stream.consumer.requestKeyFrame());
  }

  /** A call on a stream: one that closed meanwhile (its producer or the room went) is NOT_FOUND. */
  private async call<T>(stream: TapStream, action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await mediasoupCall(action, call);
    } catch (err) {
      // Its producer closed: the worker may refuse the call ("… not found") before the consumer's
      // close notification has reached this process.
      const gone = err instanceof Error && / not found\b/.test(err.message);
      if (gone || stream.consumer.closed || stream.transport.closed || this.closed)
        throw notFound('recording consumer');
      throw err;
    }
  }

  closeConsumer(consumerId: string): void {
    const stream = typeof consumerId === 'string' ? this.streams.get(consumerId) : undefined;
    stream?.transport.close();
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const transport of this.pending) transport.close();
    for (const { transport } of [...this.streams.values()]) transport.close();
    this.streams.clear();
    this.room.tapClosed(this);
  }

  private stream(consumerId: string): TapStream {
    this.assertOpen();
    const stream = typeof consumerId === 'string' ? this.streams.get(consumerId) : undefined;
    if (!stream) throw notFound('recording consumer');
    return stream;
  }

  private assertOpen(): void {
    if (this.closed) throw notFound('room media');
  }
}
