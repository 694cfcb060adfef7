import * as tf from '@tensorflow/tfjs';
import { ContentCatalog } from './catalog';
import {
  CONTENT_FEATURES,
  CONTEXT_FEATURES,
  type ContentRows,
  Featurizer,
  PAIR_FEATURES,
  type UserRows,
} from './features';
import {
  type ContentInputs,
  crossLogits,
  type DenseInputs,
  trainingLoss,
  type ViewerInputs,
  viewerVector,
} from './network';
import { type AdamSettings, ParameterTable } from './parameters';
import { Random } from './random';
import type { Candidate, Interaction, ModelConfig, ScoreDetails, TrainingExample, UserContext } from './types';
import { Vocabulary } from './vocabulary';

export const DEFAULT_MODEL_CONFIG: ModelConfig = {
  dim: 64,
  historyLength: 20,
  userIds: true,
  negatives: 128,
  batchSize: 512,
  learningRate: 0.005,
  l2: 1e-5,
  idDropout: 0.1,
  uncertaintyScale: 1,
  maxUsers: 5_000_000,
  maxContents: 1_000_000,
  maxTags: 100_000,
  maxCreators: 1_000_000,
  seed: 1,
};

export const MODEL_FORMAT = 'lectern.scoring-model';
export const MODEL_FORMAT_VERSION = 1;

/** A checkpoint: JSON-safe metadata and named flat arrays (see `encodeModel` for one byte blob). */
export interface SerializedModel {
  meta: {
    format: typeof MODEL_FORMAT;
    version: number;
    config: ModelConfig;
    vocabularies: { users: string[]; contents: string[]; tags: string[]; creators: string[] };
    trainedExamples: number;
  };
  weights: Record<string, Float32Array | Int32Array>;
}

export interface FitOptions {
  epochs: number;
  /** Stop after this much training time even if epochs remain. */
  maxSeconds?: number;
  /** Train from the current parameters instead of a fresh initialisation. */
  warmStart?: boolean;
  /** Called after every batch with the fraction of all planned work done. */
  onProgress?: (p: { epoch: number; fraction: number; loss: number }) => void;
  /**
   * Called after every epoch with the epochs done so far, and once more with a fractional count
   * when `maxSeconds` cuts an epoch short; returning false stops training.
   */
  onEpochEnd?: (epochs: number) => boolean | undefined;
}

export interface FitResult {
  epochs: number;
  examples: number;
  seconds: number;
  loss: number;
}

const NC = CONTEXT_FEATURES.length;
const NF = CONTENT_FEATURES.length;
const NP = PAIR_FEATURES.length;

/**
 * The recommender's scoring model: a two-tower factorisation whose viewer tower adds a learned
 * recency-weighted average of the viewer's recent contents (so it follows what they do now, and
 * scores viewers it has never trained on from their history alone), with tags and creators on
 * both towers for cold start and a small wide part for price, kind, spend, room context and
 * conversion. See docs/recommender.md for the measurements behind this shape.
 */
export class ScoringModel {
  readonly config: ModelConfig;
  private readonly rng: Random;
  private readonly users: Vocabulary;
  private readonly contents: Vocabulary;
  private readonly tags: Vocabulary;
  private readonly creators: Vocabulary;
  private catalog: ContentCatalog;
  private featurizer: Featurizer;
  private readonly userTable: ParameterTable;
  private readonly contentTable: ParameterTable;
  private readonly historyTable: ParameterTable;
  private readonly tagTable: ParameterTable;
  private readonly creatorTable: ParameterTable;
  private readonly biasTable: ParameterTable;
  private readonly dense: Record<keyof DenseInputs, ParameterTable>;
  /** Training examples seen per user and per content row: the basis of `logitStd`. */
  private readonly userEvidence: ParameterTable;
  private readonly contentEvidence: ParameterTable;
  private trainedExamples = 0;

  constructor(config: Partial<ModelConfig> = {}) {
    this.config = { ...DEFAULT_MODEL_CONFIG, ...config };
    const { dim: d, historyLength: L, seed } = this.config;
    this.rng = new Random(seed);
    this.users = new Vocabulary(this.config.maxUsers);
    this.contents = new Vocabulary(this.config.maxContents);
    this.tags = new Vocabulary(this.config.maxTags);
    this.creators = new Vocabulary(this.config.maxCreators);
    this.catalog = new ContentCatalog();
    this.featurizer = this.makeFeaturizer();
    const rows = { std: 0.05, rng: this.rng, reservedZeroRow: true };
    const zero = { std: 0, rng: this.rng, reservedZeroRow: true };
    const dense = { std: 0, rng: this.rng, reservedZeroRow: false };
    this.userTable = new ParameterTable('user', d, rows, 1);
    this.contentTable = new ParameterTable('content', d, rows, 1);
    this.historyTable = new ParameterTable('history', d, rows, 1);
    this.tagTable = new ParameterTable('tag', d, rows, 1);
    this.creatorTable = new ParameterTable('creator', d, rows, 1);
    this.biasTable = new ParameterTable('contentBias', 1, zero, 1);
    this.userEvidence = new ParameterTable('userEvidence', 1, zero, 1);
    this.contentEvidence = new ParameterTable('contentEvidence', 1, zero, 1);
    this.dense = {
      position: new ParameterTable('position', L, dense, 1),
      wide: new ParameterTable('wide', NC * NF, dense, 1),
      pair: new ParameterTable('pair', NP, dense, 1),
      calibration: new ParameterTable('calibration', 2, dense, 1),
    };
    this.resetDense();
  }

  private makeFeaturizer(): Featurizer {
    const vocab = { users: this.users, contents: this.contents, tags: this.tags, creators: this.creators };
    return new Featurizer(vocab, this.catalog, this.config.historyLength);
  }

  private resetDense(): void {
    // Recent items start out weighing more; training reshapes the curve.
    const position = this.dense.position.data;
    for (let l = 0; l < position.length; l++) position[l] = -0.05 * l;
    this.dense.wide.data.fill(0);
    this.dense.pair.data.fill(0);
    this.dense.calibration.data.set([1, -4]); // an uninformed start at ~2% purchase probability
  }

  /** Known ids (the reserved unknown row excluded). */
  get sizes(): { users: number; contents: number; tags: number; creators: number } {
    return {
      users: this.users.size - 1,
      contents: this.contents.size - 1,
      tags: this.tags.size - 1,
      creators: this.creators.size - 1,
    };
  }

  get examplesTrained(): number {
    return this.trainedExamples;
  }

  /** Expected value of showing each candidate to the viewer now: purchase probability × price. */
  score(user: UserContext, candidates: readonly Candidate[]): Float32Array {
    return this.scoreDetailed(user, candidates).value;
  }

  scoreDetailed(user: UserContext, candidates: readonly Candidate[]): ScoreDetails {
    const n = candidates.length;
    if (n === 0) {
      const none = new Float32Array(0);
      return { logit: none, probability: none, value: none, logitStd: none };
    }
    const users = this.featurizer.users([user], false);
    const contents = this.featurizer.candidates(candidates, false);
    const pairs = this.featurizer.pairs(users, contents, false);
    let logit: Float32Array = new Float32Array(0);
    let probability: Float32Array = new Float32Array(0);
    // Results leave tidy through the closure: tidy walks whatever it returns, element by element.
    tf.tidy(() => {
      const dense = this.denseTensors();
      const q = viewerVector(this.viewerTensors(users, null), dense.position);
      const logits = crossLogits(
        q,
        tf.tensor2d(users.context, [1, NC]),
        this.contentTensors(contents, null),
        pairs ? tf.tensor3d(pairs, [1, n, NP]) : null,
        dense,
      ).reshape([n]);
      const [scale, offset] = dense.calibration.dataSync();
      logit = logits.dataSync() as Float32Array;
      probability = tf.sigmoid(tf.add(tf.mul(logits, scale), offset)).dataSync() as Float32Array;
    });
    const value = new Float32Array(n);
    const logitStd = new Float32Array(n);
    const userSeen = this.userEvidence.data[users.user[0]] ?? 0;
    let historyCount = 0;
    for (let l = 0; l < this.config.historyLength && users.history[l] > 0; l++) historyCount++;
    const userTerm = 1 / (1 + userSeen + historyCount);
    for (let i = 0; i < n; i++) {
      const price = contents.price[i];
      value[i] = probability[i] * (Number.isFinite(price) ? price : 1);
      const contentSeen = this.contentEvidence.data[contents.content[i]] ?? 0;
      logitStd[i] = this.config.uncertaintyScale * Math.sqrt(1 / (1 + contentSeen) + userTerm);
    }
    return { logit, probability, value, logitStd };
  }

  /**
   * Ranking logits of every listed content (default: every known one) for each viewer, row-major
   * `users.length × contentIds.length`; ids the model does not know are scored cold.
   */
  scoreCatalog(
    users: readonly UserContext[],
    contentIds?: readonly string[],
  ): { contentIds: readonly string[]; scores: Float32Array } {
    const ids = contentIds ?? this.contents.toJSON();
    const rows = Int32Array.from(ids, (id) => this.contents.lookup(id));
    const contents = this.featurizer.contentsByRow(rows);
    return { contentIds: ids, scores: this.scoreRows(this.featurizer.users(users, false), contents) };
  }

  private scoreRows(users: UserRows, contents: ContentRows): Float32Array {
    const pairs = this.featurizer.pairs(users, contents, false);
    let scores: Float32Array = new Float32Array(0);
    tf.tidy(() => {
      const dense = this.denseTensors();
      const q = viewerVector(this.viewerTensors(users, null), dense.position);
      scores = crossLogits(
        q,
        tf.tensor2d(users.context, [users.count, NC]),
        this.contentTensors(contents, null),
        pairs ? tf.tensor3d(pairs, [users.count, contents.count, NP]) : null,
        dense,
      ).dataSync() as Float32Array;
    });
    return scores;
  }

  /**
   * One incremental update from a small batch (online learning). Implicit positives are
   * contrasted with contents sampled from the catalog; labelled impressions train the calibrated
   * probability. New users, contents, tags and creators are added to the vocabularies.
   */
  trainBatch(examples: readonly TrainingExample[]): { loss: number } {
    if (examples.length === 0) return { loss: 0 };
    const users = this.featurizer.users(
      examples.map((e) => e.user),
      true,
    );
    const own = this.featurizer.candidates(
      examples.map((e) => e.candidate),
      true,
    );
    this.growTables();
    const implicit = Float32Array.from(examples, (e) => (e.label === undefined ? 1 : 0));
    const label = Float32Array.from(examples, (e) => e.label ?? 0);
    const weight = Float32Array.from(examples, (e) => e.weight ?? 1);
    const loss = this.step(users, own, implicit, label, weight);
    return { loss };
  }

  /**
   * Trains on logged interactions: every (user, content) at its time is an implicit positive
   * whose viewer history is the user's earlier contents. Each user's repeats of a content are
   * dropped after the first. Starts from fresh parameters unless `warmStart`.
   */
  fit(interactions: readonly Interaction[], options: FitOptions): FitResult {
    if (!options.warmStart) this.reinitialise();
    const userRow = new Int32Array(interactions.length);
    const contentRow = new Int32Array(interactions.length);
    interactions.forEach((x, i) => {
      userRow[i] = this.users.add(x.userId);
      contentRow[i] = this.contents.add(x.contentId);
    });
    this.growTables();
    const order = Array.from(interactions.keys()).sort(
      (a, b) => userRow[a] - userRow[b] || interactions[a].at - interactions[b].at || a - b,
    );
    const seqUser: number[] = [];
    const seqContent: number[] = [];
    const seen = new Set<number>();
    let current = -1;
    for (const i of order) {
      if (userRow[i] !== current) {
        current = userRow[i];
        seen.clear();
      }
      if (seen.has(contentRow[i])) continue;
      seen.add(contentRow[i]);
      seqUser.push(userRow[i]);
      seqContent.push(contentRow[i]);
    }
    return this.fitSequences(Int32Array.from(seqUser), Int32Array.from(seqContent), options);
  }

  /**
   * Training on sequences already in row form: `user` and `content` hold each user's distinct
   * contents in time order, users contiguous.
   */
  private fitSequences(user: Int32Array, content: Int32Array, options: FitOptions): FitResult {
    const { batchSize, historyLength: L } = this.config;
    const n = user.length;
    if (!options.warmStart) {
      // Start each content's bias at its log frequency, the optimum of a sampled softmax against
      // uniform negatives up to a constant, so epochs go to personalisation, not to popularity.
      const bias = this.biasTable.data;
      for (const c of content) bias[c]++;
      for (let r = 1; r < bias.length; r++) bias[r] = Math.log1p(bias[r]);
    }
    const started = performance.now();
    const deadline = options.maxSeconds === undefined ? Number.POSITIVE_INFINITY : started + options.maxSeconds * 1000;
    const positions = Int32Array.from({ length: n }, (_, i) => i);
    const batches = Math.ceil(n / batchSize);
    let epoch = 0;
    let loss = 0;
    let examples = 0;
    const implicit = new Float32Array(batchSize).fill(1);
    const zeros = new Float32Array(batchSize);
    const ones = new Float32Array(batchSize).fill(1);
    outer: for (epoch = 0; epoch < options.epochs; epoch++) {
      this.rng.shuffle(positions);
      let epochLoss = 0;
      for (let b = 0; b < batches; b++) {
        const batch = positions.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize));
        const m = batch.length;
        const history = new Int32Array(m * L);
        const users = new Int32Array(m);
        const own = new Int32Array(m);
        for (let r = 0; r < m; r++) {
          const p = batch[r];
          users[r] = user[p];
          own[r] = content[p];
          for (let l = 0, q = p - 1; l < L && q >= 0 && user[q] === user[p]; l++, q--) history[r * L + l] = content[q];
        }
        const stepLoss = this.step(
          this.featurizer.usersFromHistory(users, history),
          this.featurizer.contentsByRow(own),
          implicit.subarray(0, m),
          zeros.subarray(0, m),
          ones.subarray(0, m),
        );
        epochLoss += stepLoss * m;
        examples += m;
        options.onProgress?.({
          epoch,
          fraction: (epoch * batches + b + 1) / (options.epochs * batches),
          loss: stepLoss,
        });
        if (performance.now() > deadline && b < batches - 1) {
          loss = epochLoss / ((b + 1) * batchSize);
          options.onEpochEnd?.(epoch + (b + 1) / batches);
          epoch++;
          break outer;
        }
      }
      loss = epochLoss / Math.max(1, n);
      if (options.onEpochEnd?.(epoch + 1) === false || performance.now() > deadline) {
        epoch++;
        break;
      }
    }
    return { epochs: epoch, examples, seconds: (performance.now() - started) / 1000, loss };
  }

  /** One optimisation step on viewers × their own contents plus shared sampled negatives. */
  private step(
    users: UserRows,
    own: ContentRows,
    implicit: Float32Array,
    label: Float32Array,
    weight: Float32Array,
  ): number {
    const B = users.count;
    const { idDropout } = this.config;
    const known = this.contents.size - 1;
    const M = implicit.some((x) => x > 0) && known >= 2 ? Math.min(this.config.negatives, known) : 0;
    const negativeRows = new Int32Array(M);
    for (let j = 0; j < M; j++) negativeRows[j] = 1 + this.rng.int(known);
    const negatives = this.featurizer.contentsByRow(negativeRows);
    const contents = concatContents(own, negatives);

    // Hide ids now and then, only where something else (history, tags, creator) can stand in.
    const dropUser = new Uint8Array(B);
    const dropContent = new Uint8Array(B + M);
    if (idDropout > 0) {
      for (let b = 0; b < B; b++) {
        const hasSide = users.history[b * this.config.historyLength] > 0 || users.tagStart[b + 1] > users.tagStart[b];
        if (hasSide && this.rng.next() < idDropout) dropUser[b] = 1;
        const hasFeatures = own.tagStart[b + 1] > own.tagStart[b] || own.creator[b] > 0;
        if (hasFeatures && this.rng.next() < idDropout) dropContent[b] = 1;
      }
    }

    const ownPairs = this.featurizer.pairs(users, own, true);
    const negativePairs = M > 0 ? this.featurizer.pairs(users, negatives, false) : null;
    let excluded: Uint8Array | null = null;
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < M; j++) {
        if (negativeRows[j] === own.content[b]) {
          excluded ??= new Uint8Array(B * M);
          excluded[b * M + j] = 1;
        }
      }
    }

    const viewerArrays = this.viewerArrays(users, dropUser);
    const contentArrays = this.contentArrays(contents, dropContent);
    const d = this.config.dim;
    const L = this.config.historyLength;
    const denseNames = Object.keys(this.dense) as (keyof DenseInputs)[];
    let loss = 0;
    let grads: Float32Array[] = [];
    tf.tidy(() => {
      const inputs = [
        tf.tensor2d(viewerArrays.static, [B, d]),
        tf.tensor3d(viewerArrays.history, [B, L, d]),
        tf.tensor2d(contentArrays.vector, [B + M, d]),
        tf.tensor1d(contentArrays.bias),
        ...denseNames.map((k) => tf.tensor(this.dense[k].data, this.denseShape(k))),
      ];
      const constants = {
        historyMask: tf.tensor2d(viewerArrays.mask, [B, L]),
        context: tf.tensor2d(users.context, [B, NC]),
        features: tf.tensor2d(contents.features, [B + M, NF]),
        ownPairs: ownPairs ? tf.tensor2d(ownPairs, [B, NP]) : null,
        negativePairs: negativePairs ? tf.tensor3d(negativePairs, [B, M, NP]) : null,
        implicit: tf.tensor1d(implicit),
        label: tf.tensor1d(label),
        weight: tf.tensor1d(weight),
      };
      const lossFn = (...xs: tf.Tensor[]) => {
        const [stat, history, vector, bias, ...denseTensors] = xs;
        const dense = Object.fromEntries(denseNames.map((k, i) => [k, denseTensors[i]])) as unknown as DenseInputs;
        return trainingLoss(
          {
            viewers: {
              static: stat as tf.Tensor2D,
              history: history as tf.Tensor3D,
              historyMask: constants.historyMask,
              context: constants.context,
            },
            contents: { vector: vector as tf.Tensor2D, bias: bias as tf.Tensor1D, features: constants.features },
            ownPairs: constants.ownPairs,
            negativePairs: constants.negativePairs,
            excluded,
            implicit: constants.implicit,
            label: constants.label,
            weight: constants.weight,
          },
          dense,
        );
      };
      const result = tf.valueAndGrads(lossFn)(inputs);
      loss = result.value.dataSync()[0];
      grads = result.grads.map((g) => g.dataSync() as Float32Array);
    });
    const [gStatic, gHistory, gVector, gBias, ...gDense] = grads;
    this.applyViewerGradients(users, dropUser, gStatic, gHistory);
    this.applyContentGradients(contents, dropContent, gVector, gBias);
    denseNames.forEach((k, i) => {
      this.dense[k].accumulate(0, gDense[i], 0);
    });
    const adam = this.adam();
    for (const table of this.trainableTables()) table.step(adam);
    for (const k of denseNames) this.dense[k].step({ ...adam, l2: 0 });
    for (let b = 0; b < B; b++) {
      bump(this.userEvidence, users.user[b]);
      bump(this.contentEvidence, own.content[b]);
    }
    this.trainedExamples += B;
    return loss;
  }

  private adam(): AdamSettings {
    return { learningRate: this.config.learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, l2: this.config.l2 };
  }

  private trainableTables(): ParameterTable[] {
    return [this.userTable, this.contentTable, this.historyTable, this.tagTable, this.creatorTable, this.biasTable];
  }

  private denseShape(k: keyof DenseInputs): number[] {
    return k === 'wide' ? [NC, NF] : [this.dense[k].dim];
  }

  private denseTensors(): DenseInputs {
    return {
      position: tf.tensor1d(this.dense.position.data),
      wide: tf.tensor2d(this.dense.wide.data, [NC, NF]),
      pair: tf.tensor1d(this.dense.pair.data),
      calibration: tf.tensor1d(this.dense.calibration.data),
    };
  }

  private viewerArrays(users: UserRows, dropUser: Uint8Array | null) {
    const d = this.config.dim;
    const L = this.config.historyLength;
    const B = users.count;
    const stat = this.config.userIds ? this.userTable.gather(users.user) : new Float32Array(B * d);
    if (dropUser) for (let b = 0; b < B; b++) if (dropUser[b]) stat.fill(0, b * d, b * d + d);
    const tagData = this.tagTable.data;
    for (let b = 0; b < B; b++) {
      for (let e = users.tagStart[b]; e < users.tagStart[b + 1]; e++) {
        const t = users.tag[e];
        const w = users.tagWeight[e];
        for (let j = 0; j < d; j++) stat[b * d + j] += w * tagData[t * d + j];
      }
    }
    const history = this.historyTable.gather(users.history);
    const mask = new Float32Array(B * L);
    for (let i = 0; i < B * L; i++) mask[i] = users.history[i] > 0 ? 1 : 0;
    return { static: stat, history, mask };
  }

  private viewerTensors(users: UserRows, dropUser: Uint8Array | null): ViewerInputs {
    const a = this.viewerArrays(users, dropUser);
    const { dim: d, historyLength: L } = this.config;
    return {
      static: tf.tensor2d(a.static, [users.count, d]),
      history: tf.tensor3d(a.history, [users.count, L, d]),
      historyMask: tf.tensor2d(a.mask, [users.count, L]),
      context: tf.tensor2d(users.context, [users.count, NC]),
    };
  }

  private contentArrays(contents: ContentRows, dropContent: Uint8Array | null) {
    const d = this.config.dim;
    const N = contents.count;
    const vector = this.contentTable.gather(contents.content);
    if (dropContent) for (let i = 0; i < N; i++) if (dropContent[i]) vector.fill(0, i * d, i * d + d);
    const tagData = this.tagTable.data;
    const creatorData = this.creatorTable.data;
    for (let i = 0; i < N; i++) {
      const t0 = contents.tagStart[i];
      const t1 = contents.tagStart[i + 1];
      for (let e = t0; e < t1; e++) {
        const t = contents.tag[e];
        for (let j = 0; j < d; j++) vector[i * d + j] += tagData[t * d + j] / (t1 - t0);
      }
      const c = contents.creator[i];
      if (c > 0 && c < this.creatorTable.rows) for (let j = 0; j < d; j++) vector[i * d + j] += creatorData[c * d + j];
    }
    const bias = this.biasTable.gather(contents.content);
    return { vector, bias };
  }

  private contentTensors(contents: ContentRows, dropContent: Uint8Array | null): ContentInputs {
    const a = this.contentArrays(contents, dropContent);
    return {
      vector: tf.tensor2d(a.vector, [contents.count, this.config.dim]),
      bias: tf.tensor1d(a.bias),
      features: tf.tensor2d(contents.features, [contents.count, NF]),
    };
  }

  private applyViewerGradients(users: UserRows, dropUser: Uint8Array, gStatic: Float32Array, gHistory: Float32Array) {
    const d = this.config.dim;
    const L = this.config.historyLength;
    for (let b = 0; b < users.count; b++) {
      if (!dropUser[b] && this.config.userIds) this.userTable.accumulate(users.user[b], gStatic, b * d);
      for (let e = users.tagStart[b]; e < users.tagStart[b + 1]; e++) {
        this.tagTable.accumulate(users.tag[e], gStatic, b * d, users.tagWeight[e]);
      }
      for (let l = 0; l < L; l++) {
        const h = users.history[b * L + l];
        if (h === 0) break;
        this.historyTable.accumulate(h, gHistory, (b * L + l) * d);
      }
    }
  }

  private applyContentGradients(
    contents: ContentRows,
    dropContent: Uint8Array,
    gVector: Float32Array,
    gBias: Float32Array,
  ) {
    const d = this.config.dim;
    for (let i = 0; i < contents.count; i++) {
      if (!dropContent[i]) this.contentTable.accumulate(contents.content[i], gVector, i * d);
      const t0 = contents.tagStart[i];
      const t1 = contents.tagStart[i + 1];
      for (let e = t0; e < t1; e++) this.tagTable.accumulate(contents.tag[e], gVector, i * d, 1 / (t1 - t0));
      this.creatorTable.accumulate(contents.creator[i], gVector, i * d);
      this.biasTable.accumulate(contents.content[i], gBias, i);
    }
  }

  private growTables(): void {
    this.userTable.ensureRows(this.users.size);
    this.userEvidence.ensureRows(this.users.size);
    this.contentTable.ensureRows(this.contents.size);
    this.historyTable.ensureRows(this.contents.size);
    this.biasTable.ensureRows(this.contents.size);
    this.contentEvidence.ensureRows(this.contents.size);
    this.tagTable.ensureRows(this.tags.size);
    this.creatorTable.ensureRows(this.creators.size);
  }

  /** Fresh random parameters for the current vocabularies (a full retrain). */
  private reinitialise(): void {
    for (const table of [...this.trainableTables(), this.userEvidence, this.contentEvidence]) table.reinitialize();
    for (const table of Object.values(this.dense)) table.reinitialize();
    this.resetDense();
    this.trainedExamples = 0;
  }

  serialize(options: { optimizerState?: boolean } = {}): SerializedModel {
    const withOptimizer = options.optimizerState ?? false;
    const weights: Record<string, Float32Array | Int32Array> = {};
    for (const table of [
      ...this.trainableTables(),
      this.userEvidence,
      this.contentEvidence,
      ...Object.values(this.dense),
    ]) {
      Object.assign(weights, table.export(withOptimizer));
    }
    Object.assign(weights, this.catalog.export(this.contents.size));
    return {
      meta: {
        format: MODEL_FORMAT,
        version: MODEL_FORMAT_VERSION,
        config: { ...this.config },
        vocabularies: {
          users: this.users.toJSON(),
          contents: this.contents.toJSON(),
          tags: this.tags.toJSON(),
          creators: this.creators.toJSON(),
        },
        trainedExamples: this.trainedExamples,
      },
      weights,
    };
  }

  static deserialize(s: SerializedModel): ScoringModel {
    if (s.meta?.format !== MODEL_FORMAT) throw new Error('not a scoring model checkpoint');
    if (s.meta.version > MODEL_FORMAT_VERSION) throw new Error(`checkpoint version ${s.meta.version} is too new`);
    const model = new ScoringModel(s.meta.config);
    const v = s.meta.vocabularies;
    const load = (target: Vocabulary, ids: string[]) => {
      for (const id of ids) target.add(id);
      if (target.size !== ids.length + 1) throw new Error('checkpoint vocabulary is inconsistent');
    };
    load(model.users, v.users);
    load(model.contents, v.contents);
    load(model.tags, v.tags);
    load(model.creators, v.creators);
    model.growTables();
    const w = s.weights as Record<string, Float32Array>;
    for (const table of [
      ...model.trainableTables(),
      model.userEvidence,
      model.contentEvidence,
      ...Object.values(model.dense),
    ]) {
      table.import(w);
    }
    model.catalog = ContentCatalog.import(s.weights);
    model.featurizer = model.makeFeaturizer();
    model.trainedExamples = s.meta.trainedExamples;
    return model;
  }
}

function bump(table: ParameterTable, row: number): void {
  if (row > 0 && row < table.rows) table.data[row]++;
}

function concatContents(a: ContentRows, b: ContentRows): ContentRows {
  if (b.count === 0) return a;
  const tagStart = new Int32Array(a.count + b.count + 1);
  tagStart.set(a.tagStart);
  for (let i = 1; i <= b.count; i++) tagStart[a.count + i] = a.tag.length + b.tagStart[i];
  const cat = <T extends Int32Array | Float32Array>(x: T, y: T): T => {
    const out = new (x.constructor as new (n: number) => T)(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return {
    count: a.count + b.count,
    content: cat(a.content, b.content),
    tagStart,
    tag: cat(a.tag, b.tag),
    creator: cat(a.creator, b.creator),
    features: cat(a.features, b.features),
    price: cat(a.price, b.price),
  };
}
