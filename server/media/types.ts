import type {
  ConsumerStat,
  ConsumerType,
  DtlsParameters,
  IceCandidate,
  IceParameters,
  MediaKind,
  ProducerStat,
  RouterDump,
  RtpCapabilities,
  RtpParameters,
  SctpParameters,
} from 'mediasoup/types';

export type {
  ConsumerType,
  DtlsParameters,
  IceCandidate,
  IceParameters,
  MediaKind,
  RtpCapabilities,
  RtpParameters,
  SctpParameters,
};

/** What a producer carries; it fixes the kind (`microphone` and `screenAudio` are audio). */
export type MediaSource = 'camera' | 'microphone' | 'screen' | 'screenAudio';
export const MEDIA_SOURCE_KIND: Readonly<Record<MediaSource, MediaKind>> = Object.freeze({
  camera: 'video',
  microphone: 'audio',
  screen: 'video',
  screenAudio: 'audio',
});

export type TransportDirection = 'send' | 'recv';

/** A peer is a participant's media presence in one room; the gateway chooses the ids. */
export interface PeerRef {
  roomId: string;
  peerId: string;
}

export interface JoinPeerInput extends PeerRef {
  /** Only the room owner gets this: it may create send transports and produce. */
  canProduce: boolean;
  /** Whether it may consume now (false for a viewer without access). Default true. */
  canConsume?: boolean;
}

export interface ProducerInfo {
  producerId: string;
  peerId: string;
  kind: MediaKind;
  source: MediaSource;
  paused: boolean;
}

export interface RoomMediaInfo {
  roomId: string;
  /** The room's origin router, where its producers live. */
  routerId: string;
  workerIndex: number;
}

export interface JoinedPeer extends PeerRef {
  /** What mediasoup-client's `device.load()` needs. */
  routerRtpCapabilities: RtpCapabilities;
  /** What is already published in the room, to consume right away. */
  producers: ProducerInfo[];
  /** Which router serves this peer: the origin, or an edge fed by pipeToRouter. */
  routerId: string;
  routerRole: 'origin' | 'edge';
  workerIndex: number;
}

/** What mediasoup-client's `device.createSendTransport` / `createRecvTransport` needs. */
export interface WebRtcTransportParams {
  id: string;
  iceParameters: IceParameters;
  iceCandidates: IceCandidate[];
  dtlsParameters: DtlsParameters;
  sctpParameters?: SctpParameters;
}

/**
 * An RTP ingest (ffmpeg, GStreamer, a test): send RTP and RTCP multiplexed to `ip:port` and the
 * transport learns the sender's address from the first packet (comedia).
 */
export interface PlainTransportParams {
  id: string;
  ip: string;
  port: number;
}

export interface ProduceInput extends PeerRef {
  transportId: string;
  kind: MediaKind;
  rtpParameters: RtpParameters;
  source: MediaSource;
}

export interface ConsumeInput extends PeerRef {
  transportId: string;
  producerId: string;
  /** The viewer's `device.rtpCapabilities`. */
  rtpCapabilities: RtpCapabilities;
}

/** What mediasoup-client's `transport.consume()` needs. The consumer starts paused. */
export interface ConsumerParams {
  id: string;
  producerId: string;
  kind: MediaKind;
  rtpParameters: RtpParameters;
  type: ConsumerType;
  producerPaused: boolean;
  source: MediaSource;
}

export interface ConsumerRef extends PeerRef {
  consumerId: string;
}
export interface ProducerRef extends PeerRef {
  producerId: string;
}
export interface TransportRef extends PeerRef {
  transportId: string;
}

export type MediaStreamStats = ConsumerStat | ProducerStat;

/** A stream a recording tap sends: what the recorder's SDP must describe. The consumer starts paused. */
export interface RecordingConsumerParams {
  id: string;
  producerId: string;
  kind: MediaKind;
  source: MediaSource;
  type: ConsumerType;
  /** Payload type, codec and SSRC of the RTP the recorder will receive. */
  rtpParameters: RtpParameters;
  producerPaused: boolean;
}

/** Where a recording stream goes: RTP and RTCP ports the recorder listens on, on 127.0.0.1. */
export interface RecordingTarget {
  rtpPort: number;
  rtcpPort: number;
}

/**
 * A room's producers as plain RTP to a recorder on this host (`MediaPlane.openRecordingTap`).
 * One PlainTransport per stream on the room's origin router, listening and sending on loopback,
 * RTCP apart from RTP (`rtcpMux: false`), connected by the caller (`comedia: false`): the usual
 * mediasoup → ffmpeg set-up. The tap is no peer: it counts as no viewer and keeps no idle room
 * open. It closes with the room's media (`roomClosing` comes first); its calls then throw
 * NOT_FOUND. A stream whose producer closes goes away by itself.
 */
export interface RecordingTap {
  readonly roomId: string;
  readonly closed: boolean;
  /**
   * A paused consumer of an announced producer of the room (NOT_FOUND otherwise). Simulcast and
   * SVC streams prefer the top layer.
   */
  consume(producerId: string): Promise<RecordingConsumerParams>;
  /** Sends the stream to 127.0.0.1 `rtpPort` (RTP) and `rtcpPort` (RTCP sender reports). Once per stream. */
  connect(consumerId: string, target: RecordingTarget): Promise<void>;
  resume(consumerId: string): Promise<void>;
  /** Asks the publisher for a key frame (video; a no-op for audio). */
  requestKeyFrame(consumerId: string): Promise<void>;
  /** Stops one stream (its consumer and transport). Safe for an unknown or closed one. */
  closeConsumer(consumerId: string): void;
  /** Stops every stream. Safe to call twice. */
  close(): void;
}

/** Why a room's media is about to close. */
export type RoomClosingReason = 'ended' | 'idle' | 'workerDied' | 'planeClosed';

export interface MediaPlaneStatus {
  available: boolean;
  /** Why media is unavailable, for operators; null while available. */
  reason: string | null;
  workersReady: number;
  workersConfigured: number;
  /** The mediasoup-worker binary mediasoup spawns (fixed when mediasoup is first loaded). */
  workerBin: string;
}

export interface ResourceCounts {
  routers: number;
  transports: number;
  producers: number;
  consumers: number;
}

export interface WorkerStats extends ResourceCounts {
  index: number;
  state: 'starting' | 'ready' | 'dead' | 'closed';
  pid: number | null;
  /** Ports of this worker's WebRtcServer (kept across replacements). */
  udpPort: number | null;
  tcpPort: number | null;
  /** CPU time (user + system, ms) of the current worker process; null when not running. */
  cpuMs: number | null;
  /** Times this slot's worker died since the plane started. */
  deaths: number;
  /** Why the slot's last worker died or failed to start; null once one runs. */
  lastError: string | null;
}

export interface MediaStats extends ResourceCounts {
  available: boolean;
  workers: number;
  rooms: number;
  peers: number;
  perWorker: WorkerStats[];
}

export interface TransportDump {
  id: string;
  type: 'webrtc' | 'plain' | 'pipe' | 'direct';
  producerIds: string[];
  consumerIds: string[];
  /** RTP bytes through the transport so far: is media flowing into (or out of) this router? */
  rtpBytesReceived: number;
  rtpBytesSent: number;
}

/** The workers' own view (asked of the C++ side), for debugging and leak checks. */
export interface MediaDump {
  workers: Array<{
    index: number;
    pid: number;
    routerIds: string[];
    routers: Array<{
      id: string;
      roomId: string | null;
      role: 'origin' | 'edge' | null;
      transports: TransportDump[];
      /** The router's producer → consumers map, as the worker has it. */
      mapProducerIdConsumerIds: RouterDump['mapProducerIdConsumerIds'];
      mapConsumerIdProducerId: RouterDump['mapConsumerIdProducerId'];
    }>;
  }>;
}

/** Events for the gateway, so it can tell clients what changed. */
export interface MediaPlaneEvents {
  /**
   * Sent synchronously just before a room's media closes, whatever the reason: `ended`
   * (`closeRoom`), `idle` (its last peer left), `workerDied` (then `roomMediaReset` follows) or
   * `planeClosed`. The room no longer answers calls (`isRoomOpen` is false), but its producers,
   * consumers and recording taps exist until the listeners return (on `workerDied` they no
   * longer carry media), so a recorder can tell its ffmpeg to finish first.
   */
  roomClosing: { roomId: string; reason: RoomClosingReason };
  /**
   * The room's media was torn down without being asked (a worker it used died). Its peers are
   * gone; clients must join media again once the room is reopened (`openRoom`).
   */
  roomMediaReset: { roomId: string; reason: 'workerDied' };
  /** A producer is ready to be consumed on every router of the room. */
  producerAdded: ProducerInfo & { roomId: string };
  producerPaused: { roomId: string; peerId: string; producerId: string };
  producerResumed: { roomId: string; peerId: string; producerId: string };
  /** Closed by its owner, or because its transport or peer closed. Not sent on room close or reset. */
  producerClosed: { roomId: string; peerId: string; producerId: string };
  /** A viewer's consumer went away without the viewer asking. */
  consumerClosed: {
    roomId: string;
    peerId: string;
    consumerId: string;
    producerId: string;
    reason: 'producerClosed' | 'revoked';
  };
  /** `restartDelayMs`: when its replacement starts (0 at once; longer for repeated deaths, see WorkerPool). */
  workerDied: { index: number; pid: number; error: string; restartDelayMs: number };
  /** A worker is serving (at start, or replacing one that died). */
  workerReady: { index: number; pid: number; udpPort: number; tcpPort: number };
  availabilityChanged: { available: boolean; reason: string | null };
}

export type MediaPlaneEventName = keyof MediaPlaneEvents;

/**
 * The media plane: mediasoup workers, a router per live room and the peers in it. Knows nothing
 * of sockets; the gateway calls it and relays its events. While no worker runs, every media call
 * throws `AppError('UNAVAILABLE')`; the observers (`status`, `stats`, `dump`, `on`, `isRoomOpen`)
 * and the cleanups (`closePeer`, `closeRoom`, `close`) never do.
 */
export interface MediaPlane {
  status(): MediaPlaneStatus;
  stats(): Promise<MediaStats>;
  dump(): Promise<MediaDump>;
  on<K extends MediaPlaneEventName>(event: K, listener: (payload: MediaPlaneEvents[K]) => void): () => void;

  /** Creates the room's origin router on the least-loaded worker; a no-op if it is open. */
  openRoom(roomId: string): Promise<RoomMediaInfo>;
  /** Releases everything of the room; its peers are gone. Safe to call for a closed room. */
  closeRoom(roomId: string): void;
  isRoomOpen(roomId: string): boolean;
  listProducers(roomId: string): ProducerInfo[];
  /**
   * A recording tap on the room's open media (NOT_FOUND if it is not open): see `RecordingTap`.
   * Several taps may be open on one room; each closes with the room.
   */
  openRecordingTap(roomId: string): Promise<RecordingTap>;

  /** Places the peer on a router (the origin, or an edge once the origin is full); CONFLICT if the id is in use. */
  joinPeer(input: JoinPeerInput): Promise<JoinedPeer>;
  routerRtpCapabilities(peer: PeerRef): RtpCapabilities;
  /** FORBIDDEN for `send` unless the peer can produce. */
  createWebRtcTransport(input: PeerRef & { direction: TransportDirection }): Promise<WebRtcTransportParams>;
  /** An RTP ingest transport for a producing peer (FORBIDDEN otherwise). */
  createPlainTransport(input: PeerRef): Promise<PlainTransportParams>;
  connectTransport(input: TransportRef & { dtlsParameters: DtlsParameters }): Promise<void>;
  restartIce(input: TransportRef): Promise<IceParameters>;

  /** FORBIDDEN unless the peer can produce; one producer per source. */
  produce(input: ProduceInput): Promise<ProducerInfo>;
  pauseProducer(input: ProducerRef): Promise<void>;
  resumeProducer(input: ProducerRef): Promise<void>;
  closeProducer(input: ProducerRef): void;

  /** Checks the viewer may consume and can decode; the consumer starts paused (resume when the client is ready). */
  consume(input: ConsumeInput): Promise<ConsumerParams>;
  pauseConsumer(input: ConsumerRef): Promise<void>;
  resumeConsumer(input: ConsumerRef): Promise<void>;
  /** Simulcast/SVC: the layers the viewer would like (the server still adapts to bandwidth). */
  setPreferredLayers(input: ConsumerRef & { spatialLayer: number; temporalLayer?: number }): Promise<void>;
  consumerStats(input: ConsumerRef): Promise<MediaStreamStats[]>;
  /**
   * Closes every consumer of the peer and refuses new ones until `allowConsume` (a paid preview
   * ended). Returns how many were closed; each gets a `consumerClosed` event with reason `revoked`.
   */
  revokeConsumers(peer: PeerRef): number;
  allowConsume(peer: PeerRef): void;

  /**
   * Releases the peer's transports, producers and consumers; a room left without peers closes its
   * media (the next `openRoom` opens it again). Safe to call for an unknown peer.
   */
  closePeer(peer: PeerRef): void;
  /** Stops every worker; safe to call twice. */
  close(): Promise<void>;
}
