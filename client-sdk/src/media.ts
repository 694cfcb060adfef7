/**
 * @lectern/client-sdk/media — publish and watch a room's audio and video from a browser, over
 * the `media:*` signalling of a `LecternClient`. A separate entry so that Node users of the
 * main entry never load mediasoup-client (an optional peer dependency, needed only here).
 * See README.md, "Media".
 */

export type { MediaKind, MediaSource } from '../../protocol';
export { CAMERA_CONSTRAINTS, type CaptureOptions, captureMedia, listMediaDevices } from './media/capture';
export { CAMERA_SIMULCAST } from './media/encodings';
export { Publication, type PublicationEvents, type PublishOptions, type PublishTracks, publish } from './media/publish';
export type { MediaState, RoomMediaEvents } from './media/room-media';
export type { InboundVideoStats, OutboundVideoStats } from './media/stats';
export {
  type RemoteTrack,
  type TrackEndReason,
  Viewing,
  type ViewingEvents,
  type WatchOptions,
  watch,
} from './media/watch';
