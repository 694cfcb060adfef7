import { Random } from '../model/random';
import type { CatalogScorer } from './metrics';
import type { UserSequences } from './split';

export interface BprOptions {
  factors: number;
  learningRate: number;
  /** L2 on the factors touched by each update (and a tenth of it on item biases). */
  regularization: number;
  seed: number;
}

export const DEFAULT_BPR_OPTIONS: BprOptions = { factors: 64, learningRate: 0.05, regularization: 0.005, seed: 1 };

/**
 * BPR-MF (Rendle et al., 2009) with an item bias, trained by SGD on (user, seen item, unseen
 * item) triples with uniformly drawn negatives. Plain typed arrays: one update touches 2k+1
 * numbers, so tfjs's per-op overhead would cost more than the arithmetic.
 */
export class BprModel {
  readonly userFactors: Float32Array;
  readonly itemFactors: Float32Array;
  readonly itemBias: Float32Array;
  private readonly options: BprOptions;
  private readonly rng: Random;
  private readonly sortedItems: Int32Array; // per user, ascending, for membership tests
  private readonly userOfPosition: Int32Array;

  constructor(
    private readonly train: UserSequences,
    readonly nItems: number,
    options: Partial<BprOptions> = {},
  ) {
    this.options = { ...DEFAULT_BPR_OPTIONS, ...options };
    const { factors, seed } = this.options;
    this.rng = new Random(seed);
    const nUsers = train.offsets.length - 1;
    this.userFactors = new Float32Array(nUsers * factors);
    this.itemFactors = new Float32Array(nItems * factors);
    this.itemBias = new Float32Array(nItems);
    for (let i = 0; i < this.userFactors.length; i++) this.userFactors[i] = this.rng.normal() * 0.1;
    for (let i = 0; i < this.itemFactors.length; i++) this.itemFactors[i] = this.rng.normal() * 0.1;
    this.sortedItems = train.items.slice();
    this.userOfPosition = new Int32Array(train.items.length);
    for (let u = 0; u < nUsers; u++) {
      this.sortedItems.subarray(train.offsets[u], train.offsets[u + 1]).sort();
      this.userOfPosition.fill(u, train.offsets[u], train.offsets[u + 1]);
    }
  }

  private seen(u: number, item: number): boolean {
    let lo = this.train.offsets[u];
    let hi = this.train.offsets[u + 1] - 1;
    const a = this.sortedItems;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] < item) lo = mid + 1;
      else if (a[mid] > item) hi = mid - 1;
      else return true;
    }
    return false;
  }

  /** One epoch: as many sampled triples as there are training interactions. Returns the mean loss. */
  trainEpoch(): number {
    const { factors: k, learningRate: lr, regularization: reg } = this.options;
    const { userFactors: P, itemFactors: Q, itemBias: b, rng } = this;
    const n = this.train.items.length;
    let loss = 0;
    for (let s = 0; s < n; s++) {
      const pos = rng.int(n);
      const u = this.userOfPosition[pos];
      const i = this.train.items[pos];
      const seen = this.train.offsets[u + 1] - this.train.offsets[u];
      if (seen >= this.nItems) continue;
      let j = rng.int(this.nItems);
      while (this.seen(u, j)) j = rng.int(this.nItems);
      const pu = u * k;
      const qi = i * k;
      const qj = j * k;
      let x = b[i] - b[j];
      for (let f = 0; f < k; f++) x += P[pu + f] * (Q[qi + f] - Q[qj + f]);
      const g = 1 / (1 + Math.exp(x)); // d(-log σ(x))/dx = -σ(-x)
      loss += Math.log1p(Math.exp(-x));
      b[i] += lr * (g - 0.1 * reg * b[i]);
      b[j] += lr * (-g - 0.1 * reg * b[j]);
      for (let f = 0; f < k; f++) {
        const p = P[pu + f];
        const a = Q[qi + f];
        const c = Q[qj + f];
        P[pu + f] += lr * (g * (a - c) - reg * p);
        Q[qi + f] += lr * (g * p - reg * a);
        Q[qj + f] += lr * (-g * p - reg * c);
      }
    }
    return loss / Math.max(1, n);
  }

  scorer(): CatalogScorer {
    const k = this.options.factors;
    const { nItems, userFactors: P, itemFactors: Q, itemBias: b } = this;
    let buffer = new Float32Array(0);
    return (users) => {
      if (buffer.length !== users.length * nItems) buffer = new Float32Array(users.length * nItems);
      for (let r = 0; r < users.length; r++) {
        const pu = users[r] * k;
        const row = r * nItems;
        for (let i = 0; i < nItems; i++) {
          let s = b[i];
          const qi = i * k;
          for (let f = 0; f < k; f++) s += P[pu + f] * Q[qi + f];
          buffer[row + i] = s;
        }
      }
      return buffer;
    };
  }
}
