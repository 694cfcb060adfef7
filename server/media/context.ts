import type { Router, TransportListenInfo, WebRtcServer, Worker } from 'mediasoup/types';
import { AppError } from '../errors';
import type { Logger } from '../log';
import { mediasoupCall } from './mediasoup-errors';
import type { ResolvedMediaOptions } from './options';
import type { TypedEmitter } from './typed-emitter';
import type { MediaPlaneEvents } from './types';
import type { WorkerSlot } from './worker-pool';

/** What rooms and peers need from the plane that owns them. */
export interface MediaContext {
  readonly options: ResolvedMediaOptions;
  readonly log: Logger;
  readonly events: TypedEmitter<MediaPlaneEvents>;
  /** The least-loaded running worker, skipping `exclude`; undefined when none is left. */
  pickWorker(exclude: ReadonlySet<WorkerSlot>): WorkerSlot | undefined;
  onEdgeCreated(): void;
}

/** The cost of one peer to the router serving it. */
export interface LoadedPeer {
  readonly canProduce: boolean;
  readonly consumerCount: number;
}

/**
 * One router of a room. The origin holds the room's producers; an edge, on another worker, holds
 * pipe producers fed from the origin and serves viewers once the origin is full.
 */
export interface RoomRouter {
  readonly router: Router;
  readonly role: 'origin' | 'edge';
  readonly slot: WorkerSlot;
  /** The worker process the router lives in (the slot's may be a replacement by now). */
  readonly worker: Worker;
  readonly webRtcServer: WebRtcServer;
  readonly peers: Set<LoadedPeer>;
  /** Producer ids consumable here: on an edge, those piped so far. Unused on the origin. */
  readonly piped: Set<string>;
}

export async function createRoomRouter(
  slot: WorkerSlot,
  roomId: string,
  role: RoomRouter['role'],
  ctx: MediaContext,
): Promise<RoomRouter> {
  const { worker, webRtcServer } = slot;
  if (slot.state !== 'ready' || !worker || !webRtcServer) {
    throw new AppError('UNAVAILABLE', 'media is unavailable');
  }
  const router = await mediasoupCall('create router', () =>
    worker.createRouter({ mediaCodecs: [...ctx.options.mediaCodecs], appData: { roomId, role } }),
  );
  return { router, role, slot, worker, webRtcServer, peers: new Set(), piped: new Set() };
}

/** Pipes between workers of one host always go over loopback, whatever the public listen IP. */
export function pipeListenInfo(options: ResolvedMediaOptions): TransportListenInfo {
  return { protocol: 'udp', ip: '127.0.0.1', portRange: { min: options.rtcMinPort, max: options.rtcMaxPort } };
}

/** RTP ingest listens where browsers' media does, in the non-WebRtcServer port range. */
export function ingestListenInfo(options: ResolvedMediaOptions): TransportListenInfo {
  return {
    protocol: 'udp',
    ip: options.listenIp,
    announcedAddress: options.announcedAddress,
    portRange: { min: options.rtcMinPort, max: options.rtcMaxPort },
  };
}
