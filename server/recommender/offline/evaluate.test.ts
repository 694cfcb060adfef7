import * as tf from '@tensorflow/tfjs';
import { parseInteractionsCsv } from './csv';
import { evaluateLog } from './evaluate';
import { simulateLog } from './simulate';

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.ready();
});

/** The simulated log as the CSV the evaluation script reads, so the test covers the whole path. */
function simulatedCsv(seed: number): string {
  const log = simulateLog({ users: 300, contents: 240, creators: 30, topics: 8, meanInteractions: 20, seed });
  return [
    'user,item,timestamp,value',
    ...log.interactions.map((x) => `${x.user},${x.item},${x.timestamp},${x.value}`),
  ].join('\n');
}

describe('evaluateLog', () => {
  it('learns the planted interests: the model clearly beats popularity and chance', () => {
    const log = parseInteractionsCsv(simulatedCsv(5));
    const report = evaluateLog(log, {
      seed: 1,
      epochs: 6,
      maxSeconds: Number.POSITIVE_INFINITY, // bounded by epochs, so the result does not depend on machine speed
      bprEpochs: 40,
      bprMaxSeconds: Number.POSITIVE_INFINITY,
      model: { dim: 24, historyLength: 10, negatives: 64, batchSize: 128, learningRate: 0.01 },
    });
    const chance = 10 / report.items;
    expect(report.users).toBe(300);
    expect(report.details.testUsers).toBeGreaterThan(250);
    expect(report.popularity.hr10).toBeGreaterThan(chance);
    expect(report.model.hr10).toBeGreaterThan(1.3 * report.popularity.hr10);
    expect(report.model.hr10).toBeGreaterThan(3 * chance);
    expect(report.model.ndcg10).toBeGreaterThan(report.popularity.ndcg10);
    expect(report.bpr.hr10).toBeGreaterThan(report.popularity.hr10);
    expect(report.itemKnn!.hr10).toBeGreaterThan(report.popularity.hr10);
    // the model as reported is the blend with item-kNN whose weight validation chose (0 = alone)
    expect(report.details.blend.alpha).toBeGreaterThanOrEqual(0);
    expect(report.details.blend.alpha).toBeLessThanOrEqual(1);
    expect(report.details.blend.validation).toHaveLength(11);
    if (report.details.blend.alpha === 0) expect(report.model).toEqual(report.details.modelAlone);
    for (const m of [report.model, report.popularity, report.itemKnn!, report.bpr]) {
      expect(m.ndcg10).toBeLessThanOrEqual(m.hr10);
    }
  });
});
