import { FEATURES } from '../live/features';
import { DEFAULT_LIVE_WEIGHTS, LiveScorer, type LiveStep } from '../live/scorer';
import { Random } from '../model/random';
import { createTrainerHost, type TrainerHost } from './trainer-host';

/**
 * The live ranker's steps taken in the recommender's trainer host (`liveLearn`): through the
 * worker thread they give exactly the weights the same steps give on this thread.
 */

/** Choices among 2–40 rooms with features in [0, 1), the chosen room at random. */
function steps(seed: number, count: number): LiveStep[] {
  const rng = new Random(seed);
  return Array.from({ length: count }, () => {
    const n = 2 + Math.floor(rng.next() * 39);
    const x = new Float32Array(n * FEATURES);
    for (let i = 0; i < x.length; i++) x[i] = rng.next();
    return { x, n, positive: Math.floor(rng.next() * n) };
  });
}
const copy = (batch: LiveStep[]) => batch.map((s) => ({ ...s, x: s.x.slice() }));

const hosts: TrainerHost[] = [];
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.close()));
});

describe('liveLearn in the trainer host', () => {
  it('gives the same weights and loss in the worker thread as inline, batch after batch, and transfers the features', async () => {
    const worker = createTrainerHost('worker', {});
    const inline = createTrainerHost('inline', {});
    hosts.push(worker, inline);
    const local = new LiveScorer(DEFAULT_LIVE_WEIGHTS, { learningRate: 0.2 });
    const from = { weights: DEFAULT_LIVE_WEIGHTS, prior: DEFAULT_LIVE_WEIGHTS, training: { learningRate: 0.2 } };

    for (const [i, seed] of [1, 2, 3].entries()) {
      const batch = steps(seed, 32);
      let expectedLoss = 0;
      for (const s of copy(batch)) expectedLoss += local.update(s.x, s.n, s.positive);
      const before = { ...from };
      const viaInline = await inline.learnLive(copy(batch), before);
      const started = performance.now();
      const viaWorker = await worker.learnLive(batch, before);
      const ms = performance.now() - started;
      // Transferred, not copied: the arrays sent are detached here.
      expect(batch.every((s) => s.x.byteLength === 0)).toBe(true);
      expect(viaWorker.weights.w).toEqual(local.weights().w);
      expect(viaInline.weights.w).toEqual(local.weights().w);
      expect(viaWorker.steps).toBe(32);
      expect(viaWorker.loss).toBeCloseTo(expectedLoss / 32, 12);
      expect(viaInline.loss).toBe(viaWorker.loss);
      from.weights = viaWorker.weights;
      if (i > 0) console.log(`liveLearn through the worker: 32 steps (2–40 rooms) in ${ms.toFixed(2)} ms round trip`);
    }
    expect(local.weights().w).not.toEqual(DEFAULT_LIVE_WEIGHTS.w);
  });

  it('starts each batch from the weights sent with it and skips what is not a choice', async () => {
    const worker = createTrainerHost('worker', {});
    hosts.push(worker);
    const moved = { w: DEFAULT_LIVE_WEIGHTS.w.map((v, f) => v + 0.01 * f) };
    const result = await worker.learnLive([], { weights: moved });
    expect(result).toEqual({ weights: moved, loss: 0, steps: 0 });
    const bad = [{ x: new Float32Array(FEATURES), n: 1, positive: 0 }, ...steps(9, 1)];
    expect((await worker.learnLive(bad, { weights: moved })).steps).toBe(1);
  });
});
