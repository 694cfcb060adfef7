import * as tf from '@tensorflow/tfjs';
import { type Candidate, decodeModel, type ScoreDetails, ScoringModel, type UserContext } from '../model';

/**
 * What serves: purchase probabilities (and their uncertainty) for a viewer's candidates. The
 * trained model, or the tag heuristic that stands in for it until a first version is promoted.
 */
export interface Scorer {
  readonly version: string;
  /**
   * Per candidate: `probability` of a purchase, `value` = probability × price, and the spread
   * of its log-odds, `oddsStd`, for Thompson sampling (large for what the model knows little of).
   */
  score(user: UserContext, candidates: readonly Candidate[]): ScoredBatch;
}

export interface ScoredBatch {
  probability: Float32Array;
  value: Float32Array;
  /** Standard deviation of the purchase log-odds. */
  oddsStd: Float32Array;
}

/** A trained model version. */
export class ModelScorer implements Scorer {
  constructor(
    readonly version: string,
    readonly model: ScoringModel,
    /** The calibration scale `a` of `σ(a·logit + b)`: the model's logit std becomes a·std in log-odds. */
    private readonly oddsScale = 1,
  ) {}

  static fromCheckpoint(version: string, bytes: Uint8Array): ModelScorer {
    tf.env().set('PROD', true); // scoring on this thread: no "install tfjs-node" banner
    const serialized = decodeModel(bytes);
    const scale = serialized.weights.calibration?.[0] ?? 1;
    return new ModelScorer(version, ScoringModel.deserialize(serialized), Math.abs(scale) || 1);
  }

  score(user: UserContext, candidates: readonly Candidate[]): ScoredBatch {
    const d: ScoreDetails = this.model.scoreDetailed(user, candidates);
    const oddsStd = new Float32Array(d.logitStd.length);
    for (let i = 0; i < oddsStd.length; i++) oddsStd[i] = this.oddsScale * d.logitStd[i];
    return { probability: d.probability, value: d.value, oddsStd };
  }
}

export const COLD_VERSION = 'cold-tags';

/**
 * Cold start before any model: a purchase log-odds from how well the item's tags match the
 * room's and the viewer's, whether it is the streaming creator's, and a mild price penalty,
 * with a wide spread so Thompson sampling explores. A prior, not a model: it only has to be a
 * sensible place to start collecting labelled impressions.
 */
export class TagScorer implements Scorer {
  readonly version = COLD_VERSION;

  score(user: UserContext, candidates: readonly Candidate[]): ScoredBatch {
    const n = candidates.length;
    const probability = new Float32Array(n);
    const value = new Float32Array(n);
    const oddsStd = new Float32Array(n).fill(1);
    const roomTags = new Set(user.room?.tags ?? []);
    const userTags = new Set(user.tags ?? []);
    candidates.forEach((c, i) => {
      const tags = c.tags ?? [];
      const share = (set: Set<string>) => (tags.length ? tags.filter((t) => set.has(t)).length / tags.length : 0);
      const price = c.price ?? 0;
      const odds =
        -4 +
        1.5 * share(userTags) +
        1 * share(roomTags) +
        (c.creatorId !== undefined && c.creatorId === user.room?.creatorId ? 0.7 : 0) -
        0.3 * Math.log1p(price / 1000);
      probability[i] = 1 / (1 + Math.exp(-odds));
      value[i] = probability[i] * (price || 1);
    });
    return { probability, value, oddsStd };
  }
}

/**
 * The serving scorer, swapped atomically: a request takes `current()` once and finishes on it,
 * so a swap in the middle of a round of suggestions never mixes versions or drops the round.
 */
export class ServingModel {
  private scorer: Scorer;
  private swappedAt: number | null = null;

  constructor(initial: Scorer) {
    this.scorer = initial;
  }

  current(): Scorer {
    return this.scorer;
  }

  get since(): number | null {
    return this.swappedAt;
  }

  /** Replaces the serving scorer; resolves the previous one. */
  swap(next: Scorer): Scorer {
    const previous = this.scorer;
    this.scorer = next;
    this.swappedAt = Date.now();
    return previous;
  }
}
