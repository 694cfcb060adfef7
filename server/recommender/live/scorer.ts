import { FEATURE_NAMES, FEATURES, NON_NEGATIVE } from './features';

/** A module-local copy: an imported binding is a getter call in every loop iteration. */
const F: number = FEATURES;
const KEEP_POSITIVE: readonly number[] = [...NON_NEGATIVE];

/**
 * The live ranker's scoring model: a linear score `w · x` over the pair features, trained as a
 * conditional logit (a softmax over the rooms that were live when the viewer chose one, the
 * chosen one positive). Plain TypeScript, a few hundred multiply-adds per room; `update` is one
 * AdaGrad step on one choice, so the same code learns offline from a log and online from the
 * engagement stream.
 */
export interface LiveWeights {
  /** One weight per feature, in `FEATURE_NAMES` order. */
  readonly w: readonly number[];
}

/**
 * Default weights, shipped as constants: 20 hyper-parameters, no viewer or creator in them. The
 * first fifteen (repeat, recency, co-watch) are what the conditional logit learns on the
 * development log's training rows (`recsys:eval --task live`), rounded to one decimal. The rest
 * are set by hand (docs/recommender.md, "Live now for you"): popularity now, because the log
 * cannot measure it without bias, small (it orders a cold start and breaks near-ties); follows,
 * subscriptions, tags and upcoming rooms, absent from the log, by what they mean — an explicit
 * follow outweighs co-watching, a paid subscription more, a room not live yet is a step down.
 * `learn` adjusts all of them online from real choices.
 */
export const DEFAULT_LIVE_WEIGHTS: LiveWeights = {
  w: [
    0.7, // watched
    0.9, // logCount
    0.9, // share
    -0.4, // recent1h
    -1.2, // recent6h
    0.1, // recent1d
    1.4, // recent7d
    0.4, // logGap
    0.5, // isLast
    1.6, // knn
    2.4, // knnMean
    0.1, // knnRecent
    1.8, // knnNew
    0.4, // transition
    0.1, // logTransition
    0.2, // logPopularity
    2.0, // following
    3.0, // subscribed
    1.5, // tags
    -2.0, // upcoming
  ],
};

export interface TrainOptions {
  /** AdaGrad step size. */
  learningRate: number;
  /** L2 penalty per step, pulling towards the prior weights (the defaults), not towards zero. */
  l2: number;
  /** Features whose weight is not learned (kept at the prior), by name. */
  frozen: readonly string[];
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { learningRate: 0.1, l2: 1e-5, frozen: [] };

export class LiveScorer {
  readonly w: Float64Array;
  private readonly prior: Float64Array;
  private readonly g2: Float64Array;
  private readonly grad = new Float64Array(F);
  private readonly learned: Uint8Array;
  readonly options: TrainOptions;
  updates = 0;

  constructor(weights: LiveWeights = DEFAULT_LIVE_WEIGHTS, options: Partial<TrainOptions> = {}) {
    this.options = { ...DEFAULT_TRAIN_OPTIONS, ...options };
    this.learned = new Uint8Array(F).fill(1);
    for (const name of this.options.frozen) {
      const f = (FEATURE_NAMES as readonly string[]).indexOf(name);
      if (f < 0) throw new Error(`unknown feature "${name}"`);
      this.learned[f] = 0;
    }
    if (weights.w.length !== F) {
      throw new Error(`expected ${F} weights (${FEATURE_NAMES.join(', ')}), got ${weights.w.length}`);
    }
    this.w = Float64Array.from(weights.w);
    this.prior = Float64Array.from(weights.w);
    this.g2 = new Float64Array(F).fill(1e-8);
  }

  /** Scores `n` feature rows (row-major, F wide) into `out`. */
  score(x: Float32Array, n: number, out = new Float64Array(n)): Float64Array {
    const w = this.w;
    for (let i = 0; i < n; i++) {
      let s = 0;
      const o = i * F;
      for (let f = 0; f < F; f++) s += w[f] * x[o + f];
      out[i] = s;
    }
    return out;
  }

  /**
   * One step on one choice: `x` holds the `n` rooms that were available, `positive` the index of
   * the one the viewer opened. Returns the negative log-likelihood before the step.
   */
  update(x: Float32Array, n: number, positive: number, scratch = new Float64Array(n)): number {
    if (n < 2) return 0; // nothing to learn from a choice among one
    const s = this.score(x, n, scratch);
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) if (s[i] > max) max = s[i];
    let z = 0;
    for (let i = 0; i < n; i++) {
      s[i] = Math.exp(s[i] - max);
      z += s[i];
    }
    const g = this.grad;
    for (let f = 0; f < F; f++) g[f] = x[positive * F + f];
    const loss = -Math.log(s[positive] / z);
    for (let i = 0; i < n; i++) {
      const p = s[i] / z;
      if (p < 1e-12) continue;
      const o = i * F;
      for (let f = 0; f < F; f++) g[f] -= p * x[o + f];
    }
    const { learningRate, l2 } = this.options;
    for (let f = 0; f < F; f++) {
      if (!this.learned[f]) continue;
      const gf = g[f] - l2 * (this.w[f] - this.prior[f]);
      this.g2[f] += gf * gf;
      this.w[f] += (learningRate * gf) / Math.sqrt(this.g2[f]);
    }
    for (const f of KEEP_POSITIVE) if (this.w[f] < 0) this.w[f] = 0;
    this.updates++;
    return loss;
  }

  weights(): LiveWeights {
    return { w: Array.from(this.w) };
  }

  /**
   * Replaces the weights (learned elsewhere: the recommender's worker thread). The prior and the
   * AdaGrad accumulators stay: they belong to whoever takes the steps.
   */
  setWeights(weights: LiveWeights): void {
    if (weights.w.length !== F || !weights.w.every(Number.isFinite)) {
      throw new Error(`expected ${F} finite weights (${FEATURE_NAMES.join(', ')})`);
    }
    this.w.set(weights.w);
  }
}

/** One choice, ready to learn from: the features of the `n` rooms that were available (row-major, F wide), the chosen one's index. */
export interface LiveStep {
  x: Float32Array;
  n: number;
  positive: number;
}

/**
 * What steps taken away from the ranker start from: its weights now, and the prior and training
 * options of its scorer (used once, when the scorer that takes the steps is created).
 */
export interface LiveLearnFrom {
  weights: LiveWeights;
  prior?: LiveWeights;
  training?: Partial<TrainOptions>;
}

export interface LiveLearnResult {
  weights: LiveWeights;
  /** Mean negative log-likelihood of the steps, each before its step (0 when none was taken). */
  loss: number;
  /** Steps taken. */
  steps: number;
}

/**
 * Takes live ranker steps for a ranker elsewhere (the recommender's trainer host: its worker
 * thread, or inline). The scorer is created at the first batch (from `from.prior` or
 * `DEFAULT_LIVE_WEIGHTS`, and `from.training`) and keeps its AdaGrad accumulators from batch to
 * batch; its weights are set to the ranker's (`from.weights`) before each batch, so the ranker
 * stays the one owner of the weights it serves (a batch learned inline meanwhile is not lost).
 */
export class LiveStepper {
  private scorer: LiveScorer | undefined;

  apply(steps: readonly LiveStep[], from?: LiveLearnFrom): LiveLearnResult {
    this.scorer ??= new LiveScorer(from?.prior ?? DEFAULT_LIVE_WEIGHTS, from?.training);
    const scorer = this.scorer;
    if (from?.weights) scorer.setWeights(from.weights);
    let loss = 0;
    let taken = 0;
    let scratch = new Float64Array(0);
    for (const { x, n, positive } of steps) {
      if (!(n >= 2) || !(positive >= 0 && positive < n) || x.length < n * F) continue; // not a choice
      if (scratch.length < n) scratch = new Float64Array(n);
      loss += scorer.update(x, n, positive, scratch);
      taken++;
    }
    return { weights: scorer.weights(), loss: taken ? loss / taken : 0, steps: taken };
  }
}
