import type { Candidate } from './types';

export const KINDS = ['lesson', 'course', 'bundle'] as const;

/** 0 for an unknown kind, else 1 + its position in KINDS. */
export function kindCode(kind: string | undefined): number {
  const i = (KINDS as readonly string[]).indexOf(kind ?? '');
  return i + 1;
}

/**
 * What the model remembers about each content row it has trained on, so a content can be scored
 * (and sampled as a negative) from its id alone, and a candidate that omits a field falls back to
 * the last value seen.
 */
export class ContentCatalog {
  private tags: (Int32Array | undefined)[] = [];
  private creator = new Int32Array(16);
  private kind = new Uint8Array(16);
  private price = new Float32Array(16).fill(Number.NaN);
  private purchases = new Float32Array(16);
  private impressions = new Float32Array(16);

  private ensure(row: number): void {
    if (row < this.creator.length) return;
    let n = this.creator.length;
    while (n <= row) n *= 2;
    const grow = <T extends Int32Array | Uint8Array | Float32Array>(a: T, fill = 0): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.fill(fill);
      b.set(a);
      return b;
    };
    this.creator = grow(this.creator);
    this.kind = grow(this.kind);
    this.price = grow(this.price, Number.NaN);
    this.purchases = grow(this.purchases);
    this.impressions = grow(this.impressions);
  }

  /** Records the fields a candidate carries (rows resolved by the caller's vocabularies). */
  remember(row: number, candidate: Candidate, tagRows: Int32Array | undefined, creatorRow: number): void {
    if (row <= 0) return;
    this.ensure(row);
    if (tagRows) this.tags[row] = tagRows;
    if (creatorRow > 0) this.creator[row] = creatorRow;
    if (candidate.kind !== undefined) this.kind[row] = kindCode(candidate.kind);
    if (candidate.price !== undefined) this.price[row] = candidate.price;
    if (candidate.impressions !== undefined) {
      this.impressions[row] = candidate.impressions;
      this.purchases[row] = candidate.purchases ?? 0;
    }
  }

  tagsOf(row: number): Int32Array | undefined {
    return this.tags[row];
  }
  creatorOf(row: number): number {
    return row < this.creator.length ? this.creator[row] : 0;
  }
  kindOf(row: number): number {
    return row < this.kind.length ? this.kind[row] : 0;
  }
  priceOf(row: number): number {
    return row < this.price.length ? this.price[row] : Number.NaN;
  }
  conversionOf(row: number): { purchases: number; impressions: number } {
    if (row >= this.impressions.length) return { purchases: 0, impressions: 0 };
    return { purchases: this.purchases[row], impressions: this.impressions[row] };
  }

  export(rows: number): Record<string, Float32Array | Int32Array> {
    this.ensure(rows);
    const offsets = new Int32Array(rows + 1);
    for (let r = 0; r < rows; r++) offsets[r + 1] = offsets[r] + (this.tags[r]?.length ?? 0);
    const flat = new Int32Array(offsets[rows]);
    for (let r = 0; r < rows; r++) if (this.tags[r]) flat.set(this.tags[r]!, offsets[r]);
    return {
      'catalog/tagOffsets': offsets,
      'catalog/tags': flat,
      'catalog/creator': this.creator.slice(0, rows),
      'catalog/kind': Int32Array.from(this.kind.subarray(0, rows)),
      'catalog/price': this.price.slice(0, rows),
      'catalog/purchases': this.purchases.slice(0, rows),
      'catalog/impressions': this.impressions.slice(0, rows),
    };
  }

  static import(weights: Readonly<Record<string, Float32Array | Int32Array>>): ContentCatalog {
    const catalog = new ContentCatalog();
    const offsets = weights['catalog/tagOffsets'];
    const flat = weights['catalog/tags'];
    if (!offsets || !flat) throw new Error('checkpoint lacks the content catalog');
    const rows = offsets.length - 1;
    catalog.ensure(rows);
    for (let r = 0; r < rows; r++) {
      if (offsets[r + 1] > offsets[r]) catalog.tags[r] = Int32Array.from(flat.subarray(offsets[r], offsets[r + 1]));
    }
    catalog.creator.set(weights['catalog/creator']);
    catalog.kind.set(weights['catalog/kind']);
    catalog.price.set(weights['catalog/price']);
    catalog.purchases.set(weights['catalog/purchases']);
    catalog.impressions.set(weights['catalog/impressions']);
    return catalog;
  }
}
