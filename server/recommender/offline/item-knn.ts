import type { CatalogScorer } from './metrics';
import type { UserSequences } from './split';

/** Past this many items the dense similarity matrix (4 bytes × items²) is not built. */
export const MAX_KNN_ITEMS = 16_384;

/**
 * Item-item cosine similarity over a binary user × item matrix, as the reference scripts
 * (`content-baselines.py`, `live-baselines.py`) compute it with numpy: float32 throughout,
 * `cooc(i, j) / ((√n_i + 1e-9)(√n_j + 1e-9))`, the diagonal zero. Dense `nItems²`.
 */
export class CosineSimilarity {
  /** Row-major nItems × nItems. */
  readonly s: Float32Array;
  /** Distinct users per item. */
  readonly users: Int32Array;

  constructor(
    readonly nItems: number,
    /** Each user's distinct items. */
    sets: Iterable<ArrayLike<number>>,
  ) {
    if (nItems > MAX_KNN_ITEMS) throw new Error(`item-kNN: ${nItems} items is more than ${MAX_KNN_ITEMS}`);
    const s = new Float32Array(nItems * nItems); // co-occurrence counts first (exact in float32)
    const users = new Int32Array(nItems);
    for (const set of sets) {
      for (let a = 0; a < set.length; a++) {
        const i = set[a];
        users[i]++;
        const row = i * nItems;
        for (let b = 0; b < set.length; b++) s[row + set[b]]++;
      }
    }
    const norm = Float32Array.from(users, (n) => Math.fround(Math.fround(Math.sqrt(n)) + 1e-9));
    for (let i = 0; i < nItems; i++) {
      const row = i * nItems;
      for (let j = 0; j < nItems; j++) {
        const c = s[row + j];
        if (c !== 0) s[row + j] = i === j ? 0 : Math.fround(c / Math.fround(norm[i] * norm[j]));
      }
    }
    this.s = s;
    this.users = users;
  }

  /** Σ over `history` (summed in the given order, float32) of sim(h, c), per candidate c. */
  sumOver(history: ArrayLike<number>, candidates: ArrayLike<number>, out = new Float64Array(candidates.length)) {
    const n = this.nItems;
    for (let k = 0; k < candidates.length; k++) {
      const c = candidates[k];
      let acc = 0;
      for (let a = 0; a < history.length; a++) acc = Math.fround(acc + this.s[history[a] * n + c]);
      out[k] = acc;
    }
    return out;
  }
}

/** Each user's distinct training items. */
export function userSets(train: UserSequences): Int32Array[] {
  const nUsers = train.offsets.length - 1;
  return Array.from({ length: nUsers }, (_, u) =>
    Int32Array.from(new Set(train.items.subarray(train.offsets[u], train.offsets[u + 1]))),
  );
}

/**
 * The item-kNN baseline of the content task: each item scored by its cosine similarity summed
 * over the user's training items (`M[u] @ S` in content-baselines.py).
 */
export function itemKnnScorer(
  train: UserSequences,
  nItems: number,
  sim = new CosineSimilarity(nItems, userSets(train)),
): CatalogScorer {
  let buffer = new Float32Array(0);
  return (users) => {
    if (buffer.length !== users.length * nItems) buffer = new Float32Array(users.length * nItems);
    buffer.fill(0);
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      const out = buffer.subarray(r * nItems, (r + 1) * nItems);
      const seen = new Set<number>();
      for (let p = train.offsets[u]; p < train.offsets[u + 1]; p++) {
        const h = train.items[p];
        if (seen.has(h)) continue;
        seen.add(h);
        const row = sim.s.subarray(h * nItems, (h + 1) * nItems);
        for (let i = 0; i < nItems; i++) out[i] += row[i];
      }
    }
    return buffer;
  };
}

/**
 * A blend of two catalog scorers for the same users: `(1 − alpha) · z(a) + alpha · z(b)`, each
 * standardised per user over the whole catalog (mean 0, standard deviation 1), so scales that
 * have nothing in common (model logits, summed cosines) can be mixed by one weight.
 */
export function blendScorers(a: CatalogScorer, b: CatalogScorer, alpha: number, nItems: number): CatalogScorer {
  let buffer = new Float32Array(0);
  return (users) => {
    if (buffer.length !== users.length * nItems) buffer = new Float32Array(users.length * nItems);
    const sa = alpha < 1 ? a(users) : null;
    if (sa) buffer.set(sa.subarray(0, users.length * nItems));
    const sb = alpha > 0 ? b(users) : null;
    for (let r = 0; r < users.length; r++) {
      const lo = r * nItems;
      const za = sa ? standardize(buffer, lo, nItems) : null;
      const zb = sb ? standardize(sb, lo, nItems) : null;
      for (let i = 0; i < nItems; i++) {
        buffer[lo + i] =
          (za ? (1 - alpha) * (buffer[lo + i] - za.mean) * za.inv : 0) +
          (zb ? alpha * (sb![lo + i] - zb.mean) * zb.inv : 0);
      }
    }
    return buffer;
  };
}

function standardize(x: Float32Array, lo: number, n: number): { mean: number; inv: number } {
  let sum = 0;
  for (let i = lo; i < lo + n; i++) sum += x[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = lo; i < lo + n; i++) ss += (x[i] - mean) ** 2;
  const std = Math.sqrt(ss / n);
  return { mean, inv: std > 0 ? 1 / std : 0 };
}
