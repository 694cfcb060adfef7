import * as tf from '@tensorflow/tfjs';
import type { TrainingExample } from '../model';
import { Random } from '../model/random';
import { COLD_VERSION, ModelScorer } from './scorer';
import { TrainerCore } from './trainer-core';

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.ready();
});

const OPTIONS = {
  modelConfig: { dim: 8, historyLength: 4, negatives: 16, learningRate: 0.03 },
  batchSize: 32,
  minExamplesToServe: 100,
  rules: { minExamples: 40, tolerance: 0.01 },
  seed: 5,
};

/**
 * Impressions where viewers tagged `a` buy `a` contents 60% of the time and `b` contents 2%,
 * and the other way round: a preference the model can only learn from the labels.
 */
function impressions(rng: Random, n: number): TrainingExample[] {
  const out: TrainingExample[] = [];
  for (let i = 0; i < n; i++) {
    const camp = rng.int(2) === 0 ? 'a' : 'b';
    const itemCamp = rng.int(2) === 0 ? 'a' : 'b';
    const p = camp === itemCamp ? 0.6 : 0.02;
    out.push({
      user: { userId: `${camp}-${rng.int(30)}`, tags: [camp] },
      candidate: {
        contentId: `${itemCamp}-${rng.int(10)}`,
        tags: [itemCamp],
        creatorId: 'c',
        price: 1000,
        kind: 'lesson',
      },
      label: rng.next() < p ? 1 : 0,
    });
  }
  return out;
}

describe('TrainerCore', () => {
  it('offers nothing until it has learned more than the cold-start scorer knows', () => {
    const core = new TrainerCore(OPTIONS);
    const rng = new Random(1);
    expect(core.offerIncremental()).toBeNull();
    core.train(impressions(rng, 50));
    expect(core.offerIncremental()).toBeNull();
    core.train(impressions(rng, 100));
    const offer = core.offerIncremental();
    expect(offer).not.toBeNull();
    expect(offer?.validation.serving.version).toBe(COLD_VERSION);
  });

  it('validates against the champion, promotes on commit, and learns the preference', () => {
    const core = new TrainerCore(OPTIONS);
    const rng = new Random(2);
    core.addHeldOut(impressions(rng, 300));
    for (let round = 0; round < 8; round++) core.train(impressions(rng, 200));
    const offer = core.offerIncremental();
    if (!offer) throw new Error('expected an offer');
    // Judged on held-out data, against the tag heuristic (which knows nothing of the camps).
    expect(offer.validation.examples).toBe(300);
    expect(offer.validation.candidate.auc).toBeGreaterThan(0.8);
    expect(offer.validation.candidate.logLoss).toBeLessThan(offer.validation.serving.logLoss);
    expect(offer.validation.promote).toBe(true);
    expect(core.offerIncremental()).toBeNull(); // one outstanding offer at a time
    core.commit(offer.id, 'm1');
    expect(core.stats.championVersion).toBe('m1');
    expect(core.offerIncremental()).toBeNull(); // nothing new since

    // The checkpoint is calibrated: the mean predicted probability matches the base rate.
    const scorer = ModelScorer.fromCheckpoint('m1', offer.checkpoint);
    const probe = impressions(new Random(9), 400);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const predicted = mean(probe.map((e) => scorer.score(e.user, [e.candidate]).probability[0]));
    const actual = mean(probe.map((e) => e.label ?? 0));
    expect(Math.abs(predicted - actual)).toBeLessThan(0.08);
    // And it ranks a viewer's own camp first.
    const forA = scorer.score({ userId: 'a-1', tags: ['a'] }, [
      { contentId: 'a-3', tags: ['a'] },
      { contentId: 'b-3', tags: ['b'] },
    ]);
    expect(forA.probability[0]).toBeGreaterThan(forA.probability[1] * 3);
  });

  it('keeps learning after a rejection and offers again once it has new examples', () => {
    const core = new TrainerCore(OPTIONS);
    const rng = new Random(3);
    core.train(impressions(rng, 300));
    const first = core.offerIncremental();
    if (!first) throw new Error('expected an offer');
    core.commit(first.id, undefined);
    expect(core.stats.championVersion).toBe(COLD_VERSION);
    expect(core.offerIncremental()).toBeNull();
    core.train(impressions(rng, 10));
    expect(core.offerIncremental()).not.toBeNull();
  });

  it('retrains from scratch and, once promoted, keeps learning from the retrained model', () => {
    const core = new TrainerCore(OPTIONS);
    const rng = new Random(4);
    const offer = core.retrain(
      { examples: impressions(rng, 600), heldOut: impressions(rng, 200) },
      { epochs: 3, maxSeconds: 30 },
    );
    if (!offer) throw new Error('expected an offer');
    expect(offer.kind).toBe('full');
    expect(offer.trainedExamples).toBe(1800);
    expect(offer.validation.examples).toBe(200);
    core.train(impressions(rng, 64)); // arrives while the offer is outstanding: trains both models
    core.commit(offer.id, 'm7');
    expect(core.stats).toMatchObject({ championVersion: 'm7', retrains: 1, heldOut: 200 });
    expect(core.offerIncremental()?.trainedExamples).toBe(1800 + 64 + 64); // + replayed examples
  });
});
