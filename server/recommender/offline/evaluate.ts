import { DEFAULT_MODEL_CONFIG, type ModelConfig, ScoringModel } from '../model';
import { Random } from '../model/random';
import { BprModel, type BprOptions } from './bpr';
import type { InteractionLog } from './csv';
import { blendScorers, CosineSimilarity, itemKnnScorer, MAX_KNN_ITEMS, userSets } from './item-knn';
import { type CatalogScorer, evaluateFullRanking, type RankingMetrics } from './metrics';
import { fitOnSequences, modelScorer } from './model-adapter';
import { popularityScorer } from './popularity';
import { type Progress, silentProgress } from './progress';
import { holdOutLast, leaveLastOut, type UserSequences } from './split';

export interface EvaluationOptions {
  seed: number;
  /** Most epochs the model trains for; early stopping on validation usually ends sooner. */
  epochs: number;
  /** Training-time budget of the model, seconds. */
  maxSeconds: number;
  /** Most BPR epochs, and its time budget (epoch selection plus refit), seconds. */
  bprEpochs: number;
  bprMaxSeconds: number;
  /** Users whose last training item is held out to choose epochs (never the test items). */
  validationUsers: number;
  model: Partial<ModelConfig>;
  bpr: Partial<BprOptions>;
  /** Blend the model with item-kNN (weight chosen on validation, 0 = the model alone). */
  blendItemKnn: boolean;
  progress: Progress;
}

export const DEFAULT_EVALUATION: EvaluationOptions = {
  seed: 42,
  epochs: 30,
  maxSeconds: 360,
  bprEpochs: 200,
  bprMaxSeconds: 150,
  validationUsers: 2000,
  model: {},
  bpr: {},
  blendItemKnn: true,
  progress: silentProgress,
};

export interface Metrics10 {
  hr10: number;
  ndcg10: number;
}

export interface EvaluationReport {
  /** The model, blended with item-kNN by the weight chosen on validation (`details.blend`). */
  model: Metrics10;
  popularity: Metrics10;
  /** Cosine item-kNN (null past MAX_KNN_ITEMS items). */
  itemKnn: Metrics10 | null;
  bpr: Metrics10;
  users: number;
  items: number;
  details: {
    interactions: number;
    distinctPairs: number;
    testUsers: number;
    validationUsers: number;
    modelEpochs: number;
    modelExamplesPerSecond: number;
    /** Validation HR@10 after each model epoch and each checked BPR epoch. */
    modelValidation: number[];
    bprValidation: [epoch: number, hr10: number][];
    bprEpochs: number;
    /** The model without item-kNN. */
    modelAlone: Metrics10;
    /** The item-kNN weight chosen, and validation HR@10 for each weight tried. */
    blend: { alpha: number; validation: [alpha: number, hr10: number][] };
    seconds: { split: number; popularity: number; itemKnn: number; bpr: number; model: number; total: number };
  };
}

const at10 = (m: RankingMetrics): Metrics10 => ({ hr10: m.hitRate, ndcg10: m.ndcg });

/**
 * The offline protocol: leave-last-out by time, full ranking over all items but the user's own
 * training items, HR@10 and NDCG@10 for the model and two baselines (popularity, BPR-MF).
 * Epochs of both learned models are chosen on a validation split carved from the training data.
 */
export function evaluateLog(log: InteractionLog, options: Partial<EvaluationOptions> = {}): EvaluationReport {
  const o = { ...DEFAULT_EVALUATION, ...options };
  const started = performance.now();
  const clock = () => (performance.now() - started) / 1000;
  const split = leaveLastOut(log);
  const nItems = log.itemIds.length;
  const rng = new Random(o.seed);
  const candidates = Array.from(split.testUsers).filter(
    (u) => split.train.offsets[u + 1] - split.train.offsets[u] >= 2,
  );
  rng.shuffle(candidates);
  const validation = holdOutLast(split.train, Int32Array.from(candidates.slice(0, o.validationUsers)));
  const tSplit = clock();

  const test = (scorer: CatalogScorer, label: string) =>
    evaluateFullRanking({
      nItems,
      train: split.train,
      users: split.testUsers,
      targets: split.testItem,
      scorer,
      onProgress: (done, total) => o.progress.update(label, done / total),
    });
  const validate = (train: UserSequences, scorer: CatalogScorer) =>
    evaluateFullRanking({
      nItems,
      train,
      users: validation.validationUsers,
      targets: validation.validationItem,
      scorer,
    }).hitRate;

  const popularity = test(popularityScorer(split.train, nItems), 'popularity: ranking');
  const tPopularity = clock();

  const useKnn = nItems <= MAX_KNN_ITEMS;
  const testSimilarity = useKnn ? new CosineSimilarity(nItems, userSets(split.train)) : null;
  const itemKnn = testSimilarity ? test(itemKnnScorer(split.train, nItems, testSimilarity), 'item-kNN: ranking') : null;
  const tKnn = clock();

  // BPR: choose the epoch count on validation, then refit on all training data.
  const bprOptions = { ...o.bpr, seed: o.seed };
  const bprDeadline = clock() + o.bprMaxSeconds / 2;
  const tBprStart = clock();
  const bprValidation: [number, number][] = [];
  let bprEpochs = Math.min(o.bprEpochs, 20);
  if (validation.validationUsers.length > 0) {
    const probe = new BprModel(validation.train, nItems, bprOptions);
    let best = -1;
    let sinceBest = 0;
    const every = 2;
    for (let epoch = 1; epoch <= o.bprEpochs; epoch++) {
      probe.trainEpoch();
      o.progress.update(
        'bpr: choosing epochs',
        Math.max(epoch / o.bprEpochs, (clock() - tBprStart) / (o.bprMaxSeconds / 2)),
      );
      if (epoch % every !== 0 && epoch !== o.bprEpochs) continue;
      const hr = validate(validation.train, probe.scorer());
      bprValidation.push([epoch, round4(hr)]);
      if (hr > best) {
        best = hr;
        bprEpochs = epoch;
        sinceBest = 0;
      } else if (++sinceBest >= 10) break; // validation HR is noisy: give BPR 20 epochs to improve
      if (clock() > bprDeadline) break;
    }
  }
  const bprModel = new BprModel(split.train, nItems, bprOptions);
  const refitStarted = clock();
  let bprTrained = 0;
  while (bprTrained < bprEpochs && clock() - refitStarted < o.bprMaxSeconds / 2) {
    bprModel.trainEpoch();
    bprTrained++;
    o.progress.update('bpr: refit', bprTrained / bprEpochs);
  }
  const bpr = test(bprModel.scorer(), 'bpr: ranking');
  const tBpr = clock();

  // The model: early stopping on validation, keeping the best checkpoint. A small log gets small
  // batches and more patience, so it gets hundreds of updates, not a handful of big ones.
  const examples = validation.train.items.length;
  const batchSize =
    o.model.batchSize ?? Math.min(DEFAULT_MODEL_CONFIG.batchSize, Math.max(32, Math.round(examples / 100)));
  const patience = Math.max(2, Math.ceil(300 / Math.max(1, Math.ceil(examples / batchSize))));
  let model = new ScoringModel({ ...o.model, batchSize, seed: o.seed });
  let bestCheckpoint = model.serialize();
  let best = -1;
  let sinceBest = 0;
  let modelEpochs = 0;
  const modelValidation: number[] = [];
  const useValidation = validation.validationUsers.length > 0;
  const fitted = fitOnSequences(model, validation.train, split.userIds, split.itemIds, {
    epochs: o.epochs,
    maxSeconds: o.maxSeconds,
    onProgress: ({ epoch, fraction, loss }) =>
      o.progress.update(
        `model: epoch ${epoch + 1}`,
        Math.max(fraction, (clock() - tBpr) / o.maxSeconds),
        `loss ${loss.toFixed(3)}`,
      ),
    onEpochEnd: (epoch) => {
      if (!useValidation) return undefined;
      const hr = validate(validation.train, modelScorer(model, validation.train, split.userIds, split.itemIds));
      modelValidation.push(round4(hr));
      if (hr > best) {
        best = hr;
        modelEpochs = round(epoch);
        sinceBest = 0;
        bestCheckpoint = model.serialize();
      } else if (++sinceBest >= patience) return false;
      return undefined;
    },
  });
  if (useValidation && modelValidation[modelValidation.length - 1] < best)
    model = ScoringModel.deserialize(bestCheckpoint);
  if (!useValidation) modelEpochs = fitted.epochs;

  // The blend with item-kNN: its weight chosen on validation like the epochs (ties: less kNN).
  let alpha = 0;
  const blendValidation: [number, number][] = [];
  if (useValidation && testSimilarity && o.blendItemKnn) {
    const validationSimilarity = new CosineSimilarity(nItems, userSets(validation.train));
    const modelPart = memoScorer(modelScorer(model, validation.train, split.userIds, split.itemIds), nItems);
    const knnPart = memoScorer(itemKnnScorer(validation.train, nItems, validationSimilarity), nItems);
    let bestBlend = -1;
    for (let step = 0; step <= 10; step++) {
      const a = step / 10;
      const hr = validate(validation.train, blendScorers(modelPart, knnPart, a, nItems));
      blendValidation.push([a, round4(hr)]);
      if (hr > bestBlend + 1e-12) {
        bestBlend = hr;
        alpha = a;
      }
      o.progress.update('model: item-kNN blend', (step + 1) / 11);
    }
  }
  const modelAlone = test(modelScorer(model, split.train, split.userIds, split.itemIds), 'model: ranking');
  const modelMetrics =
    alpha > 0 && testSimilarity
      ? test(
          blendScorers(
            modelScorer(model, split.train, split.userIds, split.itemIds),
            itemKnnScorer(split.train, nItems, testSimilarity),
            alpha,
            nItems,
          ),
          'model + item-kNN: ranking',
        )
      : modelAlone;
  const tModel = clock();
  o.progress.done();

  return {
    model: at10(modelMetrics),
    popularity: at10(popularity),
    itemKnn: itemKnn ? at10(itemKnn) : null,
    bpr: at10(bpr),
    users: log.userIds.length,
    items: nItems,
    details: {
      interactions: log.user.length,
      distinctPairs: split.train.items.length + split.testUsers.length,
      testUsers: split.testUsers.length,
      validationUsers: validation.validationUsers.length,
      modelEpochs,
      modelExamplesPerSecond: Math.round(fitted.examples / Math.max(1e-9, fitted.seconds)),
      modelValidation,
      bprValidation,
      bprEpochs: bprTrained,
      modelAlone: at10(modelAlone),
      blend: { alpha, validation: blendValidation },
      seconds: {
        split: round(tSplit),
        popularity: round(tPopularity - tSplit),
        itemKnn: round(tKnn - tPopularity),
        bpr: round(tBpr - tKnn),
        model: round(tModel - tBpr),
        total: round(tModel),
      },
    },
  };
}

/**
 * Keeps a copy of each batch's scores, so scoring the same validation users for several blend
 * weights runs the model once. (The evaluator overwrites the rows it is given; copies stay clean.)
 */
function memoScorer(scorer: CatalogScorer, nItems: number): CatalogScorer {
  const cache = new Map<string, Float32Array>();
  return (users) => {
    const key = `${users[0]}:${users.length}:${users[users.length - 1]}`;
    let scores = cache.get(key);
    if (!scores) {
      scores = scorer(users).slice(0, users.length * nItems);
      cache.set(key, scores);
    }
    return scores;
  };
}

const round = (s: number) => Math.round(s * 10) / 10;
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
