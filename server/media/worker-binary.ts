import { accessSync, constants } from 'node:fs';
import * as mediasoup from 'mediasoup';

/**
 * The binary mediasoup will spawn. mediasoup 3.19 has no per-worker setting for it: it reads
 * `MEDIASOUP_WORKER_BIN` once, when the package is first loaded, and otherwise uses
 * node_modules/mediasoup/worker/out/Release/mediasoup-worker.
 */
export function workerBinary(): string {
  return mediasoup.workerBin;
}

/** Why the worker binary cannot run, or null if it looks runnable. Cheaper and clearer than a failed spawn. */
export function workerBinaryProblem(bin = workerBinary()): string | null {
  try {
    accessSync(bin, constants.X_OK);
    return null;
  } catch {
    return `mediasoup-worker binary not found or not executable at ${bin}; run scripts/mediasoup/setup-worker.sh (or set MEDIASOUP_WORKER_BIN before start)`;
  }
}
