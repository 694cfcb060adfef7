import type { Producer, Transport } from 'mediasoup-client/types';
import type { MediaSource } from '../../../protocol';
import type { LecternClient } from '../client';
import { LecternError } from '../errors';
import { AUDIO_CODEC_OPTIONS, encodingsFor, preferredVideoCodec, VIDEO_CODEC_OPTIONS } from './encodings';
import type { MediaLink } from './link';
import { RoomMedia, type RoomMediaEvents } from './room-media';
import { type OutboundVideoStats, outboundVideo } from './stats';

/** The tracks to send, by what they show. Capture them yourself (or with `captureMedia`). */
export type PublishTracks = Partial<Record<MediaSource, MediaStreamTrack>>;

export interface PublishOptions extends PublishTracks {
  /** Send the camera as three simulcast layers (VP8) so each viewer gets what fits. Default `true`. */
  simulcast?: boolean;
}

export interface PublicationEvents extends RoomMediaEvents {
  /** A sent track ended on its own (the user stopped screen sharing, a camera was unplugged). */
  trackended: (p: { source: MediaSource }) => void;
}

/**
 * What the room's owner is publishing. Tracks stay the caller's: stopping the publication does
 * not stop them (the studio keeps its preview), and a re-established link sends them again.
 */
export class Publication extends RoomMedia<PublicationEvents> {
  private readonly tracks = new Map<MediaSource, MediaStreamTrack>();
  private readonly producers = new Map<MediaSource, Producer>();
  private readonly paused = new Set<MediaSource>();
  private transport: Transport | undefined;

  /** @internal use {@link publish} */
  constructor(
    client: LecternClient,
    roomId: string,
    tracks: PublishTracks,
    private readonly simulcast: boolean,
  ) {
    super(client, roomId);
    for (const [source, track] of Object.entries(tracks) as [MediaSource, MediaStreamTrack | undefined][]) {
      if (track) this.tracks.set(source, track);
    }
  }

  /** The server's producer id for each source being sent. */
  get producerIds(): Partial<Record<MediaSource, string>> {
    return Object.fromEntries([...this.producers].map(([source, p]) => [source, p.id]));
  }

  /** The sources being sent now. */
  get sources(): MediaSource[] {
    return [...this.tracks.keys()];
  }

  isPaused(source: MediaSource): boolean {
    return this.paused.has(source);
  }

  /** Stops sending a source for a while (viewers keep their place; a paused camera sends nothing). */
  async pause(source: MediaSource): Promise<void> {
    this.paused.add(source);
    const producer = this.producers.get(source);
    if (!producer || producer.paused) return;
    producer.pause();
    await this.client.request('media:producer:pause', { roomId: this.roomId, producerId: producer.id });
  }

  async resume(source: MediaSource): Promise<void> {
    this.paused.delete(source);
    const producer = this.producers.get(source);
    if (!producer?.paused) return;
    producer.resume();
    await this.client.request('media:producer:resume', { roomId: this.roomId, producerId: producer.id });
  }

  /**
   * Sends `track` as `source`: swapped in place when that source is being sent (viewers notice
   * nothing but the picture), started otherwise. `null` stops sending the source.
   */
  async replaceTrack(source: MediaSource, track: MediaStreamTrack | null): Promise<void> {
    if (this.finished) throw new LecternError('CONFLICT', 'the publication is over');
    if (!track) return this.stopSource(source);
    this.tracks.set(source, track);
    const producer = this.producers.get(source);
    if (producer && !producer.closed) await producer.replaceTrack({ track });
    else if (this.transport) await this.produce(this.transport, source, track);
  }

  /** Stops sending one source; viewers get `media:producer:closed`. */
  async stopSource(source: MediaSource): Promise<void> {
    this.tracks.delete(source);
    this.paused.delete(source);
    const producer = this.producers.get(source);
    this.producers.delete(source);
    if (!producer) return;
    producer.close();
    if (this.link && !this.link.isClosed)
      await this.client.request('media:producer:close', { roomId: this.roomId, producerId: producer.id });
  }

  /** Per video layer being sent: its resolution and counters (simulcast shows one per layer). */
  async getStats(): Promise<OutboundVideoStats[]> {
    const out: OutboundVideoStats[] = [];
    for (const [source, producer] of this.producers) {
      if (producer.kind === 'video' && !producer.closed) out.push(...outboundVideo(await producer.getStats(), source));
    }
    return out;
  }

  /** Stops publishing and releases the server's side. The tracks keep running. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.finished) return;
    const wasJoined = this.link !== undefined;
    this.finish('closed');
    if (wasJoined && this.client.connected)
      await this.client.request('media:leave', { roomId: this.roomId }).catch(() => undefined);
  }

  protected async setUp(link: MediaLink): Promise<void> {
    if (!link.joined.canProduce) throw new LecternError('FORBIDDEN', 'only the room owner can publish');
    const transport = await link.createTransport('send', this.onTransportLost);
    this.transport = transport;
    for (const [source, track] of this.tracks) {
      if (track.readyState === 'live') await this.produce(transport, source, track);
    }
  }

  protected tearDown(): void {
    // Closing the transport closes its producers; the server forgets them with the peer.
    this.producers.clear();
    this.transport = undefined;
  }

  private async produce(transport: Transport, source: MediaSource, track: MediaStreamTrack): Promise<void> {
    const video = track.kind === 'video';
    if (source === 'screen' && 'contentHint' in track) track.contentHint = 'detail';
    const producer = await transport.produce({
      track,
      encodings: video ? encodingsFor(source, this.simulcast) : undefined,
      codec: video ? preferredVideoCodec(this.link?.device.sendRtpCapabilities.codecs) : undefined,
      codecOptions: video ? VIDEO_CODEC_OPTIONS : AUDIO_CODEC_OPTIONS,
      stopTracks: false,
      appData: { source },
    });
    if (transport.closed || this.transport !== transport) return producer.close();
    this.producers.get(source)?.close();
    this.producers.set(source, producer);
    producer.on('trackended', () => {
      (this.emit as (e: 'trackended', p: { source: MediaSource }) => void)('trackended', { source });
      if (this.producers.get(source) === producer) void this.stopSource(source).catch((err) => this.report(err));
    });
    if (this.paused.has(source)) {
      producer.pause();
      await this.client.request('media:producer:pause', { roomId: this.roomId, producerId: producer.id });
    }
  }
}

/**
 * Publishes tracks to a live room the client has joined as its owner: `media:join`, a send
 * transport, and one producer per source — the camera as simulcast VP8. Re-establishes by
 * itself after `media:reset`, a reconnect or an ICE failure; stops when the room ends.
 */
export async function publish(
  client: LecternClient,
  roomId: string,
  options: PublishOptions = {},
): Promise<Publication> {
  const { simulcast = true, ...tracks } = options;
  const publication = new Publication(client, roomId, tracks, simulcast);
  await publication.start();
  return publication;
}
