import type { FitOptions, FitResult, ScoringModel } from '../model';
import type { CatalogScorer } from './metrics';
import type { UserSequences } from './split';

/** The logged interactions of training sequences, as the model's `fit` takes them. */
export function interactionsOf(train: UserSequences, userIds: readonly string[], itemIds: readonly string[]) {
  const out: { userId: string; contentId: string; at: number }[] = [];
  for (let u = 0; u < userIds.length; u++) {
    for (let p = train.offsets[u]; p < train.offsets[u + 1]; p++) {
      // Positions, not timestamps: the sequences are already in time order with ties resolved.
      out.push({ userId: userIds[u], contentId: itemIds[train.items[p]], at: p });
    }
  }
  return out;
}

/** Ranks every dataset item for each user with the model, the user known by id and recent history. */
export function modelScorer(
  model: ScoringModel,
  train: UserSequences,
  userIds: readonly string[],
  itemIds: readonly string[],
): CatalogScorer {
  const L = model.config.historyLength;
  return (users) => {
    const contexts = Array.from(users, (u) => {
      const from = Math.max(train.offsets[u], train.offsets[u + 1] - L);
      const history = Array.from(train.items.subarray(from, train.offsets[u + 1]), (i) => itemIds[i]);
      return { userId: userIds[u], history };
    });
    return model.scoreCatalog(contexts, itemIds).scores;
  };
}

export function fitOnSequences(
  model: ScoringModel,
  train: UserSequences,
  userIds: readonly string[],
  itemIds: readonly string[],
  options: FitOptions,
): FitResult {
  return model.fit(interactionsOf(train, userIds, itemIds), options);
}
