import type { TrainingExample } from '../model';
import type { Scorer } from './scorer';

export interface Metrics {
  /** Mean binary cross-entropy of the purchase probability (lower is better). */
  logLoss: number;
  /** Area under the ROC curve of the probability (null without both labels). */
  auc: number | null;
}

export interface ValidationReport {
  examples: number;
  positives: number;
  candidate: Metrics;
  serving: Metrics & { version: string };
  promote: boolean;
  reason: string;
}

export interface ValidationRules {
  /** Below this many held-out examples (or without both labels) only sanity is checked. */
  minExamples: number;
  /** Promote when candidate log-loss ≤ serving log-loss × (1 + tolerance). */
  tolerance: number;
}

const EPS = 1e-6;

export function logLoss(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - EPS, Math.max(EPS, probabilities[i]));
    sum -= labels[i] ? Math.log(p) : Math.log(1 - p);
  }
  return labels.length ? sum / labels.length : 0;
}

/** ROC AUC with ties counted half (Mann–Whitney U); null when one class is missing. */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]]) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** The scorer's purchase probabilities for labelled examples (scored one viewer at a time). */
export function predict(scorer: Scorer, examples: readonly TrainingExample[]): Float64Array {
  const out = new Float64Array(examples.length);
  examples.forEach((e, i) => {
    out[i] = scorer.score(e.user, [e.candidate]).probability[0];
  });
  return out;
}

export function measure(scorer: Scorer, examples: readonly TrainingExample[]): Metrics {
  const labels = examples.map((e) => e.label ?? 1);
  const p = predict(scorer, examples);
  return { logLoss: logLoss(p, labels), auc: auc(p, labels) };
}

/**
 * Whether a candidate version may replace the serving one, judged on held-out labelled
 * impressions neither has trained on. Non-finite metrics always refuse; too little held-out data
 * (or one class only) promotes on sanity alone, since a comparison on a handful is noise.
 */
export function judge(
  candidate: Scorer,
  serving: Scorer,
  heldOut: readonly TrainingExample[],
  rules: ValidationRules,
): ValidationReport {
  const labelled = heldOut.filter((e) => e.label !== undefined);
  const positives = labelled.filter((e) => e.label === 1).length;
  const c = measure(candidate, labelled);
  const s = measure(serving, labelled);
  const report = (promote: boolean, reason: string): ValidationReport => ({
    examples: labelled.length,
    positives,
    candidate: c,
    serving: { ...s, version: serving.version },
    promote,
    reason,
  });
  if (!Number.isFinite(c.logLoss)) return report(false, 'candidate log-loss is not finite');
  const sanity = labelled.length === 0 || candidate.score(labelled[0].user, [labelled[0].candidate]).probability;
  if (sanity !== true && !(sanity[0] >= 0 && sanity[0] <= 1))
    return report(false, 'candidate scores are not probabilities');
  if (labelled.length < rules.minExamples || positives === 0 || positives === labelled.length) {
    return report(true, `too little held-out data (${labelled.length} examples, ${positives} positive): sanity only`);
  }
  if (c.logLoss <= s.logLoss * (1 + rules.tolerance)) {
    return report(true, `held-out log-loss ${c.logLoss.toFixed(4)} vs ${s.logLoss.toFixed(4)} serving`);
  }
  return report(false, `held-out log-loss ${c.logLoss.toFixed(4)} worse than ${s.logLoss.toFixed(4)} serving`);
}
