/**
 * The trainer's worker thread (started by `trainer-host.ts`): a `TrainerCore` driven by
 * messages, one at a time, and the live ranker's online steps (`liveLearn`). Training steps and
 * full retrains block this thread only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { LiveStepper } from '../live/scorer';
import type { TrainingExample } from '../model';
import { type Offer, TrainerCore } from './trainer-core';
import type { WorkerInit, WorkerReply, WorkerRequest } from './trainer-host';

tf.env().set('PROD', true);

const port = parentPort;
if (!port) throw new Error('trainer-worker must run in a worker thread');
const init = workerData as WorkerInit;
const core = new TrainerCore(init.options, init.initial);
/** The live ranker's steps ("Live now for you"): its weights and AdaGrad state, plain TypeScript. */
const live = new LiveStepper();
/** Retrain data arrives in chunks (`stage`) before the `retrain` that uses it. */
let staged: { examples: TrainingExample[]; heldOut: TrainingExample[] } = { examples: [], heldOut: [] };

/** Offers leave with a copy of their checkpoint: the core keeps its own until the commit. */
function reply(id: number, result: unknown): void {
  const transfer: ArrayBuffer[] = [];
  let payload = result;
  if (result && typeof result === 'object' && 'checkpoint' in result) {
    const offer = result as Offer;
    const copy = offer.checkpoint.slice();
    transfer.push(copy.buffer as ArrayBuffer);
    payload = { ...offer, checkpoint: copy };
  }
  const message: WorkerReply = { id, ok: true, result: payload, stats: core.stats };
  port?.postMessage(message, transfer);
}

port.on('message', (request: WorkerRequest) => {
  try {
    switch (request.type) {
      case 'train':
        core.addHeldOut(request.heldOut);
        core.train(request.examples);
        return reply(request.id, null);
      case 'offer':
        return reply(request.id, core.offerIncremental());
      case 'stage':
        for (const e of request.examples) staged.examples.push(e);
        for (const e of request.heldOut) staged.heldOut.push(e);
        return reply(request.id, null);
      case 'retrain': {
        const data = staged;
        staged = { examples: [], heldOut: [] };
        return reply(request.id, core.retrain(data, request.budget));
      }
      case 'commit':
        core.commit(request.offerId, request.version);
        return reply(request.id, null);
      case 'liveLearn':
        return reply(request.id, live.apply(request.steps, request.from));
      case 'close':
        reply(request.id, null);
        port.close();
        return;
    }
  } catch (err) {
    const message: WorkerReply = { id: request.id, ok: false, error: (err as Error).stack ?? String(err) };
    port.postMessage(message);
  }
});
