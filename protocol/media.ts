/**
 * Media signalling payloads. The WebRTC parameter objects are mediasoup's (server) and
 * mediasoup-client's (browser) own JSON shapes, passed through unchanged; the protocol treats
 * them as opaque objects so that it depends on neither library.
 */

/** mediasoup `RtpCapabilities`, `RtpParameters`, `DtlsParameters`, `IceParameters`, … as JSON. */
export type MediaJson = { [key: string]: unknown };

export type MediaKind = 'audio' | 'video';
/** What a producer carries: the camera, the microphone, a shared screen (and its audio). */
export type MediaSource = 'camera' | 'microphone' | 'screen' | 'screenAudio';
export type TransportDirection = 'send' | 'recv';

export interface MediaProducer {
  producerId: string;
  kind: MediaKind;
  source: MediaSource;
  paused: boolean;
}

export interface MediaJoinResult {
  /** For mediasoup-client's `device.load({ routerRtpCapabilities })`. */
  routerRtpCapabilities: MediaJson;
  /** What the streamer is publishing now. */
  producers: MediaProducer[];
  /** Whether this connection may publish (the room owner). */
  canProduce: boolean;
}

/** For `device.createSendTransport()` / `createRecvTransport()`. */
export interface TransportOptions {
  id: string;
  iceParameters: MediaJson;
  iceCandidates: MediaJson[];
  dtlsParameters: MediaJson;
  sctpParameters?: MediaJson;
}

/** For `transport.consume()`; the consumer starts paused: resume it once attached. */
export interface ConsumerOptions {
  id: string;
  producerId: string;
  kind: MediaKind;
  rtpParameters: MediaJson;
  type: string;
  producerPaused: boolean;
  source: MediaSource;
}
