import type { Registry } from 'prom-client';
import type { Logger } from '../log';
import { routeMediasoupLogs } from './mediasoup-logging';
import { type MediaPlaneOptions, resolveMediaOptions } from './options';
import { MediaPlaneImpl } from './plane';
import type { MediaPlane } from './types';
import { workerBinary, workerBinaryProblem } from './worker-binary';
import { WorkerPool } from './worker-pool';

export { DEFAULT_MEDIA_CODECS } from './codecs';
export { type MediaPlaneOptions, type ResolvedMediaOptions, resolveMediaOptions } from './options';
export * from './types';

export interface MediaPlaneDeps {
  log: Logger;
  /** Where to register the `lectern_media_*` metrics; none are exported without it. */
  registry?: Registry;
}

/**
 * Starts the media plane: `numWorkers` mediasoup workers, each with its WebRtcServer. Resolves
 * once every worker started or failed; never rejects because of the workers. If none can run,
 * the plane is unavailable (`status().reason` says why) and media calls throw UNAVAILABLE; it
 * becomes available by itself if a worker starts later. Throws only for invalid options.
 */
export async function createMediaPlane(options: MediaPlaneOptions, deps: MediaPlaneDeps): Promise<MediaPlane> {
  const resolved = resolveMediaOptions(options);
  const log = deps.log.child({ subsystem: 'media' });
  const bin = workerBinary();
  const problem = resolved.enabled
    ? workerBinaryProblem(bin)
    : 'media is disabled by configuration (MEDIA_ENABLED=false)';
  const pool = problem ? null : new WorkerPool(resolved, log);
  const unrouteLogs = routeMediasoupLogs(log);
  const plane = new MediaPlaneImpl(resolved, pool, log, deps.registry, problem, bin, unrouteLogs);
  await pool?.start();
  plane.refreshAvailability();
  const status = plane.status();
  if (!resolved.enabled) log.info('media is disabled by configuration');
  else if (!status.available)
    log.error({ reason: status.reason }, 'media plane started without workers: media is unavailable');
  return plane;
}
