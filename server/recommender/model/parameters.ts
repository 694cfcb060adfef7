import type { Random } from './random';

export interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** L2 penalty added to the gradient of every row a batch touches. */
  l2: number;
}

/**
 * A row-major parameter matrix in a Float32Array that can grow by rows, with Adam moments kept
 * per row and updated lazily (only rows a batch touched). tfjs has no sparse gradient: the
 * gradient of `gather` is a dense tensor the size of the whole table, so with a million users
 * every step would rewrite every row. Keeping tables here and handing tfjs only the gathered rows
 * makes a step cost O(rows touched), and growing a table online is a reallocation.
 */
export class ParameterTable {
  private capacity: number;
  private values: Float32Array;
  private m: Float32Array;
  private v: Float32Array;
  private steps: Float32Array; // per row, for Adam's bias correction under lazy updates
  private rowCount = 0;
  private readonly pending = new Map<number, Float32Array>();

  constructor(
    readonly name: string,
    readonly dim: number,
    private readonly init: { std: number; rng: Random; reservedZeroRow: boolean },
    rows = 0,
  ) {
    this.capacity = Math.max(16, rows);
    this.values = new Float32Array(this.capacity * dim);
    this.m = new Float32Array(this.capacity * dim);
    this.v = new Float32Array(this.capacity * dim);
    this.steps = new Float32Array(this.capacity);
    this.ensureRows(rows);
  }

  get rows(): number {
    return this.rowCount;
  }

  /** A view of the live values (rows × dim); valid until the table grows. */
  get data(): Float32Array {
    return this.values.subarray(0, this.rowCount * this.dim);
  }

  /** Grows to at least `rows`, initialising new rows (row 0 stays zero when reserved). */
  ensureRows(rows: number): void {
    if (rows <= this.rowCount) return;
    if (rows > this.capacity) {
      let capacity = this.capacity;
      while (capacity < rows) capacity *= 2;
      const grow = (a: Float32Array, per: number) => {
        const b = new Float32Array(capacity * per);
        b.set(a);
        return b;
      };
      this.values = grow(this.values, this.dim);
      this.m = grow(this.m, this.dim);
      this.v = grow(this.v, this.dim);
      this.steps = grow(this.steps, 1);
      this.capacity = capacity;
    }
    const { std, rng, reservedZeroRow } = this.init;
    for (let r = this.rowCount; r < rows; r++) {
      if (reservedZeroRow && r === 0) continue;
      for (let j = 0; j < this.dim; j++) this.values[r * this.dim + j] = std === 0 ? 0 : rng.normal() * std;
    }
    this.rowCount = rows;
  }

  /** Draws every row afresh and forgets the optimizer state (a full retrain). */
  reinitialize(): void {
    const rows = this.rowCount;
    this.values.fill(0);
    this.m.fill(0);
    this.v.fill(0);
    this.steps.fill(0);
    this.pending.clear();
    this.rowCount = 0;
    this.ensureRows(rows);
  }

  /** Copies rows into `out` (indices × dim); out-of-range indices give zeros. */
  gather(indices: ArrayLike<number>, out = new Float32Array(indices.length * this.dim)): Float32Array {
    const d = this.dim;
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i];
      if (r > 0 && r < this.rowCount) out.set(this.values.subarray(r * d, r * d + d), i * d);
      else if (r === 0 && !this.init.reservedZeroRow) out.set(this.values.subarray(0, d), i * d);
      else out.fill(0, i * d, i * d + d);
    }
    return out;
  }

  /** Adds `weight × grad[offset … offset + dim)` to the pending gradient of `row`. */
  accumulate(row: number, grad: Float32Array, offset: number, weight = 1): void {
    if (row < 0 || row >= this.rowCount || (row === 0 && this.init.reservedZeroRow)) return;
    let g = this.pending.get(row);
    if (!g) {
      g = new Float32Array(this.dim);
      this.pending.set(row, g);
    }
    for (let j = 0; j < this.dim; j++) g[j] += weight * grad[offset + j];
  }

  /** Applies one Adam step to every row with a pending gradient, then clears them. */
  step(s: AdamSettings): void {
    const d = this.dim;
    const { learningRate: lr, beta1: b1, beta2: b2, epsilon: eps, l2 } = s;
    for (const [row, g] of this.pending) {
      const t = ++this.steps[row];
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const base = row * d;
      for (let j = 0; j < d; j++) {
        const k = base + j;
        const grad = g[j] + l2 * this.values[k];
        this.m[k] = b1 * this.m[k] + (1 - b1) * grad;
        this.v[k] = b2 * this.v[k] + (1 - b2) * grad * grad;
        this.values[k] -= (lr * (this.m[k] / c1)) / (Math.sqrt(this.v[k] / c2) + eps);
      }
    }
    this.pending.clear();
  }

  /** Values (and optionally optimizer state) for a checkpoint. */
  export(withOptimizer: boolean): Record<string, Float32Array> {
    const n = this.rowCount;
    const out: Record<string, Float32Array> = { [this.name]: this.values.slice(0, n * this.dim) };
    if (withOptimizer) {
      out[`${this.name}/m`] = this.m.slice(0, n * this.dim);
      out[`${this.name}/v`] = this.v.slice(0, n * this.dim);
      out[`${this.name}/steps`] = this.steps.slice(0, n);
    }
    return out;
  }

  import(weights: Readonly<Record<string, Float32Array>>): void {
    const values = weights[this.name];
    if (!values || (this.dim > 0 && values.length % this.dim !== 0)) {
      throw new Error(`checkpoint lacks a valid "${this.name}"`);
    }
    const rows = this.dim > 0 ? values.length / this.dim : this.rowCount;
    this.ensureRows(rows);
    this.values.set(values);
    const m = weights[`${this.name}/m`];
    const v = weights[`${this.name}/v`];
    const steps = weights[`${this.name}/steps`];
    if (m && v && steps && m.length === values.length && v.length === values.length && steps.length === rows) {
      this.m.set(m);
      this.v.set(v);
      this.steps.set(steps);
    }
  }
}
