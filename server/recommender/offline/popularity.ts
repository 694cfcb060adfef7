import type { CatalogScorer } from './metrics';
import type { UserSequences } from './split';

/**
 * The most-popular baseline: every user gets the items with the most training users. It is the
 * bar any personalised model has to clear, and on many real logs a hard one.
 */
export function popularityScorer(train: UserSequences, nItems: number): CatalogScorer {
  const counts = new Float32Array(nItems);
  for (const it of train.items) counts[it]++;
  let buffer = new Float32Array(0);
  return (users) => {
    if (buffer.length !== users.length * nItems) buffer = new Float32Array(users.length * nItems);
    for (let r = 0; r < users.length; r++) buffer.set(counts, r * nItems);
    return buffer;
  };
}
