import type { TrainingExample } from '../model';
import type { Scorer } from './scorer';
import { auc, judge, logLoss } from './validation';

describe('metrics', () => {
  it('computes log-loss', () => {
    expect(logLoss([0.5, 0.5], [1, 0])).toBeCloseTo(Math.log(2), 10);
    expect(logLoss([0.9, 0.2], [1, 0])).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8)) / 2, 10);
    expect(Number.isFinite(logLoss([0, 1], [1, 0]))).toBe(true); // clipped, not infinite
  });

  it('computes AUC with ties counted half, null with one class', () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 10);
    expect(auc([0.9, 0.8, 0.1], [1, 1, 0])).toBe(1);
    expect(auc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])).toBe(0.5);
    expect(auc([0.2, 0.3], [1, 1])).toBeNull();
  });
});

/** A scorer that returns a fixed probability per content id. */
const scorer = (version: string, p: Record<string, number>): Scorer => ({
  version,
  score: (_user, candidates) => {
    const probability = Float32Array.from(candidates, (c) => p[c.contentId]);
    return { probability, value: probability, oddsStd: new Float32Array(candidates.length) };
  },
});

const examples = (positives: number, negatives: number): TrainingExample[] => [
  ...Array.from({ length: positives }, () => ({ user: {}, candidate: { contentId: 'good' }, label: 1 as const })),
  ...Array.from({ length: negatives }, () => ({ user: {}, candidate: { contentId: 'bad' }, label: 0 as const })),
];

describe('judge', () => {
  const rules = { minExamples: 50, tolerance: 0.01 };
  const sharp = scorer('sharp', { good: 0.8, bad: 0.05 });
  const blunt = scorer('blunt', { good: 0.3, bad: 0.2 });

  it('promotes a version at least as good as the serving one on held-out data', () => {
    const report = judge(sharp, blunt, examples(20, 80), rules);
    expect(report).toMatchObject({ examples: 100, positives: 20, promote: true });
    expect(report.candidate.logLoss).toBeLessThan(report.serving.logLoss);
    expect(report.candidate.auc).toBe(1);
    expect(report.serving.version).toBe('blunt');
  });

  it('rejects a version that is worse beyond the tolerance', () => {
    const report = judge(blunt, sharp, examples(20, 80), rules);
    expect(report.promote).toBe(false);
    expect(report.reason).toMatch(/worse/);
  });

  it('promotes on sanity alone with too little held-out data or one class only', () => {
    expect(judge(blunt, sharp, examples(5, 10), rules)).toMatchObject({ promote: true });
    expect(judge(blunt, sharp, examples(0, 200), rules)).toMatchObject({ promote: true });
    expect(judge(blunt, sharp, [], rules)).toMatchObject({ promote: true, examples: 0 });
  });

  it('never promotes a version whose scores are not probabilities', () => {
    const broken = scorer('broken', { good: Number.NaN, bad: Number.NaN });
    expect(judge(broken, sharp, examples(5, 10), rules).promote).toBe(false);
  });
});
