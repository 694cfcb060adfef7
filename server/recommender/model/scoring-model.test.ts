import * as tf from '@tensorflow/tfjs';
import { createScoringModel, decodeModel, encodeModel, ScoringModel, type TrainingExample } from '.';
import { Random } from './random';

beforeAll(async () => {
  tf.env().set('PROD', true); // no "install tfjs-node" banner in test output
  await tf.ready();
});

const SMALL = { dim: 16, historyLength: 8, negatives: 32, batchSize: 64, learningRate: 0.01 };

/** Users of two camps, each buying only its camp's contents; contents carry their camp's tag. */
function campExamples(rng: Random, n: number): TrainingExample[] {
  const examples: TrainingExample[] = [];
  for (let i = 0; i < n; i++) {
    const camp = rng.int(2);
    const tag = camp === 0 ? 'python' : 'cooking';
    const user = `u${camp}-${rng.int(20)}`;
    const content = `${tag}-${rng.int(15)}`;
    examples.push({
      user: { userId: user, tags: [tag] },
      candidate: { contentId: content, tags: [tag], creatorId: `creator-${tag}`, price: 1000, kind: 'lesson' },
    });
  }
  return examples;
}

function trainOnCamps(model: ScoringModel, batches: number, seed = 3): void {
  const rng = new Random(seed);
  for (let b = 0; b < batches; b++) model.trainBatch(campExamples(rng, 32));
}

describe('ScoringModel', () => {
  it('scores a batch of candidates with one value, probability, logit and spread each', () => {
    const model = createScoringModel(SMALL);
    trainOnCamps(model, 5);
    const candidates = Array.from({ length: 40 }, (_, i) => ({ contentId: `python-${i % 15}`, price: 500 + i }));
    const details = model.scoreDetailed({ userId: 'u0-1' }, candidates);
    expect(details.value).toHaveLength(40);
    for (let i = 0; i < 40; i++) {
      expect(details.probability[i]).toBeGreaterThan(0);
      expect(details.probability[i]).toBeLessThan(1);
      expect(details.value[i]).toBeCloseTo(details.probability[i] * (500 + i), 2);
      expect(details.logitStd[i]).toBeGreaterThan(0);
    }
    expect(model.score({}, [])).toHaveLength(0);
  });

  it('gives identical scores after serialize → bytes → deserialize', () => {
    const model = createScoringModel(SMALL);
    trainOnCamps(model, 10);
    const user = { userId: 'u1-3', tags: ['cooking'], history: ['cooking-1', 'python-2'], room: { tags: ['python'] } };
    const candidates = [
      { contentId: 'cooking-4' },
      { contentId: 'python-7', tags: ['python'] },
      { contentId: 'never-seen', tags: ['cooking'], creatorId: 'creator-cooking' },
    ];
    const before = model.scoreDetailed(user, candidates);
    const restored = ScoringModel.deserialize(decodeModel(encodeModel(model.serialize())));
    const after = restored.scoreDetailed(user, candidates);
    expect(Array.from(after.logit)).toEqual(Array.from(before.logit));
    expect(Array.from(after.value)).toEqual(Array.from(before.value));
    expect(Array.from(after.logitStd)).toEqual(Array.from(before.logitStd));
    expect(restored.sizes).toEqual(model.sizes);
  });

  it('checkpoints the optimizer state only when asked', () => {
    const model = createScoringModel(SMALL);
    trainOnCamps(model, 4);
    const lean = model.serialize();
    expect(lean.weights['user/m']).toBeUndefined();
    const full = model.serialize({ optimizerState: true });
    const moments = full.weights['user/m'];
    expect(moments.some((x) => x !== 0)).toBe(true);
    const restored = ScoringModel.deserialize(decodeModel(encodeModel(full))).serialize({ optimizerState: true });
    expect(Array.from(restored.weights['user/m'])).toEqual(Array.from(moments));
    expect(Array.from(restored.weights['content/v'])).toEqual(Array.from(full.weights['content/v']));
  });

  it('grows its vocabularies online and never while scoring', () => {
    const model = createScoringModel(SMALL);
    trainOnCamps(model, 2);
    const before = model.sizes;
    model.score({ userId: 'stranger', tags: ['unknown-tag'] }, [{ contentId: 'unknown-content', creatorId: 'nobody' }]);
    expect(model.sizes).toEqual(before);
    model.trainBatch([
      {
        user: { userId: 'newcomer', tags: ['rust'] },
        candidate: { contentId: 'rust-101', tags: ['rust', 'systems'], creatorId: 'ferris' },
      },
    ]);
    expect(model.sizes).toEqual({
      users: before.users + 1,
      contents: before.contents + 1,
      tags: before.tags + 2,
      creators: before.creators + 1,
    });
  });

  it('ranks brand-new contents for a brand-new viewer by tags (cold start)', () => {
    const model = createScoringModel({ ...SMALL, idDropout: 0.3 });
    trainOnCamps(model, 60);
    const fresh = [
      { contentId: 'new-python', tags: ['python'] },
      { contentId: 'new-cooking', tags: ['cooking'] },
    ];
    const pythonFan = model.scoreDetailed({ userId: 'brand-new-1', tags: ['python'] }, fresh).logit;
    const cook = model.scoreDetailed({ userId: 'brand-new-2', tags: ['cooking'] }, fresh).logit;
    expect(pythonFan[0]).toBeGreaterThan(pythonFan[1]);
    expect(cook[1]).toBeGreaterThan(cook[0]);
    // A viewer known only by the room they sit in is matched the same way.
    const inRoom = model.scoreDetailed({ room: { tags: ['cooking'] } }, fresh).logit;
    expect(inRoom[1]).toBeGreaterThan(inRoom[0]);
  });

  it('is less certain about contents it has seen less', () => {
    const model = createScoringModel(SMALL);
    trainOnCamps(model, 20);
    const { logitStd } = model.scoreDetailed({ userId: 'u0-1' }, [
      { contentId: 'python-1' },
      { contentId: 'never-seen' },
    ]);
    expect(logitStd[1]).toBeGreaterThan(logitStd[0]);
  });

  it('learns purchase probability from labelled impressions', () => {
    const model = createScoringModel(SMALL);
    trainOnCamps(model, 5);
    const rng = new Random(5);
    for (let step = 0; step < 80; step++) {
      const batch: TrainingExample[] = [];
      for (let i = 0; i < 32; i++) {
        const buys = rng.next() < 0.5;
        const user = { userId: `u0-${rng.int(20)}` };
        batch.push({ user, candidate: { contentId: 'python-1' }, label: buys && rng.next() < 0.8 ? 1 : 0 });
        batch.push({ user, candidate: { contentId: 'python-2' }, label: rng.next() < 0.05 ? 1 : 0 });
      }
      model.trainBatch(batch);
    }
    const p = model.scoreDetailed({ userId: 'u0-3' }, [
      { contentId: 'python-1' },
      { contentId: 'python-2' },
    ]).probability;
    expect(p[0]).toBeGreaterThan(p[1] + 0.15);
    expect(p[1]).toBeLessThan(0.2);
  });

  it('fits from logged interactions and starts afresh on a full retrain', () => {
    const model = createScoringModel(SMALL);
    const interactions = Array.from({ length: 300 }, (_, i) => ({
      userId: `u${i % 30}`,
      contentId: `c${(i * 7) % 40}`,
      at: i,
    }));
    const first = model.fit(interactions, { epochs: 2 });
    expect(first.epochs).toBe(2);
    expect(first.examples).toBeGreaterThan(0);
    expect(model.sizes.users).toBe(30);
    const stopped = model.fit(interactions, { epochs: 5, onEpochEnd: (epoch) => epoch < 1 });
    expect(stopped.epochs).toBe(1);
    expect(model.examplesTrained).toBe(stopped.examples);
  });
});
