import {
  createScoringModel,
  decodeModel,
  encodeModel,
  type ModelConfig,
  ScoringModel,
  type TrainingExample,
} from '../model';
import { Random } from '../model/random';
import { ModelScorer, type Scorer, TagScorer } from './scorer';
import { judge, type ValidationReport, type ValidationRules } from './validation';

/** The online model's shape: smaller and faster-learning than the offline evaluation's default. */
export const ONLINE_MODEL_CONFIG: Partial<ModelConfig> = {
  dim: 32,
  historyLength: 20,
  negatives: 64,
  learningRate: 0.02,
  idDropout: 0.1,
};

export interface TrainerCoreOptions {
  modelConfig: Partial<ModelConfig>;
  /** Examples per training step. */
  batchSize: number;
  /** Most recent held-out examples kept for validation. */
  validationSize: number;
  rules: ValidationRules;
  /**
   * Examples a model must have trained on before it may replace the cold-start scorer: a model
   * that has seen a handful knows less than the tag heuristic.
   */
  minExamplesToServe: number;
  /** Recent labelled examples replayed with each new one: more steps per scarce example. */
  replay: number;
  /** Labelled examples kept for replay and for recalibrating each offered version. */
  recentSize: number;
  seed: number;
}

export const DEFAULT_TRAINER_CORE: TrainerCoreOptions = {
  modelConfig: ONLINE_MODEL_CONFIG,
  batchSize: 64,
  validationSize: 2000,
  rules: { minExamples: 100, tolerance: 0.01 },
  minExamplesToServe: 200,
  replay: 1,
  recentSize: 4000,
  seed: 1,
};

/** A version the trainer proposes; the host persists it and answers with `commit`. */
export interface Offer {
  id: number;
  kind: 'incremental' | 'full';
  /** `encodeModel` bytes. */
  checkpoint: Uint8Array;
  trainedExamples: number;
  validation: ValidationReport;
}

export interface TrainerCoreStats {
  trainedExamples: number;
  steps: number;
  lastLoss: number | null;
  heldOut: number;
  offers: number;
  retrains: number;
  championVersion: string;
}

/** A bounded FIFO that forgets the oldest. */
class Ring<T> {
  private items: T[] = [];
  constructor(private readonly capacity: number) {}
  push(...xs: T[]): void {
    this.items.push(...xs);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }
  replace(xs: T[]): void {
    this.items = xs.slice(-this.capacity);
  }
  all(): readonly T[] {
    return this.items;
  }
  get size(): number {
    return this.items.length;
  }
  sample(rng: Random, n: number): T[] {
    const out: T[] = [];
    for (let i = 0; i < n && this.items.length > 0; i++) out.push(this.items[rng.int(this.items.length)]);
    return out;
  }
}

/**
 * The training side of the recommender, free of I/O so it runs the same in a worker thread or
 * inline: a **learner** model trained online in small batches, a copy of the **champion** (the
 * serving version) to validate against, the **held-out** examples, and full retrains.
 *
 * Every offered version is recalibrated first (Platt scaling of the learner's logit on recent
 * labelled impressions: two parameters, a few Newton steps), because the policy multiplies the
 * probability by the price and the model's own calibration learns slowly online. One offer is
 * outstanding at a time; `commit` says whether the host promoted it.
 */
export class TrainerCore {
  private learner: ScoringModel;
  private champion: Scorer;
  private fresh: ScoringModel | undefined;
  private outstanding: { offer: Offer; fresh: boolean } | undefined;
  private readonly heldOut: Ring<TrainingExample>;
  private readonly recent: Ring<TrainingExample>;
  private readonly rng: Random;
  private readonly options: TrainerCoreOptions;
  private nextOfferId = 1;
  private sinceOffer = 0;
  private rejectedInRow = 0;
  private championCheckpoint: Uint8Array | undefined;
  private readonly counts = { trainedExamples: 0, steps: 0, lastLoss: null as number | null, offers: 0, retrains: 0 };

  constructor(options: Partial<TrainerCoreOptions> = {}, initial?: { version: string; checkpoint: Uint8Array }) {
    this.options = { ...DEFAULT_TRAINER_CORE, ...options };
    this.rng = new Random(this.options.seed);
    this.heldOut = new Ring(this.options.validationSize);
    this.recent = new Ring(this.options.recentSize);
    if (initial) {
      this.learner = ScoringModel.deserialize(decodeModel(initial.checkpoint));
      this.champion = ModelScorer.fromCheckpoint(initial.version, initial.checkpoint);
      this.championCheckpoint = initial.checkpoint;
    } else {
      this.learner = this.newModel();
      this.champion = new TagScorer();
    }
  }

  get stats(): TrainerCoreStats {
    return { ...this.counts, heldOut: this.heldOut.size, championVersion: this.champion.version };
  }

  private newModel(): ScoringModel {
    return createScoringModel({ ...this.options.modelConfig, seed: this.options.seed + this.counts.retrains });
  }

  /** Held-out labelled impressions: validation only, never trained on. */
  addHeldOut(examples: readonly TrainingExample[]): void {
    this.heldOut.push(...examples);
  }

  /**
   * One or more online steps on new examples, each batch topped up with recent labelled ones.
   * While a full retrain awaits its commit, the new examples train it too, so nothing that
   * arrives meanwhile is lost whichever model wins.
   */
  train(examples: readonly TrainingExample[]): { loss: number } {
    const { batchSize, replay } = this.options;
    let loss = 0;
    for (let start = 0; start < examples.length; start += batchSize) {
      const batch = examples.slice(start, start + batchSize);
      const labelled = batch.filter((e) => e.label !== undefined);
      const replayed = replay > 0 ? this.recent.sample(this.rng, Math.round(labelled.length * replay)) : [];
      const step = [...batch, ...replayed];
      loss = this.learner.trainBatch(step).loss;
      this.fresh?.trainBatch(step);
      this.recent.push(...labelled);
      this.counts.steps++;
    }
    this.counts.trainedExamples += examples.length;
    this.counts.lastLoss = examples.length ? loss : this.counts.lastLoss;
    this.sinceOffer += examples.length;
    return { loss };
  }

  /** A new incremental version, or null when nothing new was learned (or one is outstanding). */
  offerIncremental(): Offer | null {
    if (this.outstanding || this.sinceOffer === 0) return null;
    if (this.champion instanceof TagScorer && this.learner.examplesTrained < this.options.minExamplesToServe) {
      return null;
    }
    return this.makeOffer('incremental', this.learner, false);
  }

  /**
   * A full retrain: a fresh model trained for up to `epochs` passes (or `maxSeconds`) over
   * everything given, then offered like any version. Held-out examples given replace the
   * validation set (they are the durable split read back from Postgres).
   */
  retrain(
    data: { examples: readonly TrainingExample[]; heldOut: readonly TrainingExample[] },
    budget: { epochs: number; maxSeconds: number },
  ): Offer | null {
    if (this.outstanding) return null;
    this.counts.retrains++;
    if (data.heldOut.length > 0) this.heldOut.replace([...data.heldOut]);
    const model = this.newModel();
    const examples = [...data.examples];
    const deadline = performance.now() + budget.maxSeconds * 1000;
    const batch = this.options.batchSize * 4;
    outer: for (let epoch = 0; epoch < budget.epochs; epoch++) {
      this.rng.shuffle(examples);
      for (let start = 0; start < examples.length; start += batch) {
        model.trainBatch(examples.slice(start, start + batch));
        if (performance.now() > deadline) break outer;
      }
    }
    const labelled = examples.filter((e) => e.label !== undefined);
    this.recent.replace(labelled.slice(-this.options.recentSize));
    if (model.examplesTrained === 0) return null;
    this.fresh = model;
    return this.makeOffer('full', model, true);
  }

  private makeOffer(kind: Offer['kind'], model: ScoringModel, fresh: boolean): Offer {
    const serialized = model.serialize();
    const calibration = this.calibrate(model);
    if (calibration) serialized.weights.calibration = Float32Array.of(calibration.a, calibration.b);
    const checkpoint = encodeModel(serialized);
    const id = this.nextOfferId++;
    const candidate = ModelScorer.fromCheckpoint(`candidate-${id}`, checkpoint);
    const validation = judge(candidate, this.champion, this.heldOut.all(), this.options.rules);
    const offer: Offer = { id, kind, checkpoint, trainedExamples: model.examplesTrained, validation };
    this.outstanding = { offer, fresh };
    // What arrives from now on is what the next offer would add.
    this.sinceOffer = 0;
    this.counts.offers++;
    return offer;
  }

  /**
   * The host's answer: `version` when the offer was promoted (and persisted), undefined when not.
   * Promoted: it becomes the champion (and a full retrain becomes the learner). Rejected: the
   * learner keeps learning, but after several rejections in a row it restarts from the champion,
   * in case it has drifted somewhere validation keeps refusing.
   */
  commit(offerId: number, version: string | undefined): void {
    const pending = this.outstanding;
    if (!pending || pending.offer.id !== offerId) return;
    this.outstanding = undefined;
    if (version !== undefined) {
      this.champion = ModelScorer.fromCheckpoint(version, pending.offer.checkpoint);
      this.championCheckpoint = pending.offer.checkpoint;
      if (pending.fresh && this.fresh) this.learner = this.fresh;
      this.rejectedInRow = 0;
    } else {
      this.rejectedInRow++;
      if (this.rejectedInRow >= 5 && this.championCheckpoint) {
        this.learner = ScoringModel.deserialize(decodeModel(this.championCheckpoint));
        this.rejectedInRow = 0;
      }
    }
    if (pending.fresh) this.fresh = undefined;
  }

  /**
   * Platt scaling: fits `P = σ(a·logit + b)` to recent labelled impressions by Newton's method
   * with a weak prior towards the model's own calibration. Null without both labels.
   */
  private calibrate(model: ScoringModel): { a: number; b: number } | null {
    const data = this.recent.all().slice(-2000);
    const positives = data.filter((e) => e.label === 1).length;
    if (positives < 3 || data.length - positives < 3) return null;
    const x = data.map((e) => model.scoreDetailed(e.user, [e.candidate]).logit[0]);
    const y = data.map((e) => e.label ?? 0);
    let a = 1;
    let b = -4;
    const prior = 1; // pulls towards (a, b) = (1, -4) with the weight of about one example
    for (let iter = 0; iter < 25; iter++) {
      let ga = prior * (a - 1);
      let gb = prior * (b + 4);
      let haa = prior;
      let hab = 0;
      let hbb = prior;
      for (let i = 0; i < x.length; i++) {
        const p = 1 / (1 + Math.exp(-(a * x[i] + b)));
        const r = p - y[i];
        const w = p * (1 - p);
        ga += r * x[i];
        gb += r;
        haa += w * x[i] * x[i];
        hab += w * x[i];
        hbb += w;
      }
      const det = haa * hbb - hab * hab;
      if (!(det > 1e-12)) break;
      const da = (hbb * ga - hab * gb) / det;
      const db = (haa * gb - hab * ga) / det;
      a -= da;
      b -= db;
      if (Math.abs(da) + Math.abs(db) < 1e-6) break;
    }
    // A negative slope would invert the model's ranking: keep its ordering, fit only the level.
    if (!(a > 0) || !Number.isFinite(a) || !Number.isFinite(b)) return null;
    return { a, b };
  }
}
