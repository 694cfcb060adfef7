/**
 * String ids → dense row indices that grow as new users, contents, tags and creators appear.
 * Index 0 is reserved for "unknown": its embedding rows stay zero, so an id the model has never
 * trained on contributes nothing and the score falls back to the features (tags, creator, price).
 */
export class Vocabulary {
  private readonly index = new Map<string, number>();
  private readonly ids: string[] = [''];

  /** `capacity` bounds the number of ids (past it, new ids map to unknown) so memory stays bounded online. */
  constructor(readonly capacity = Number.POSITIVE_INFINITY) {}

  /** Rows in use, including the reserved unknown row. */
  get size(): number {
    return this.ids.length;
  }

  /** The row of a known id, or 0. */
  lookup(id: string | undefined | null): number {
    if (id === undefined || id === null) return 0;
    return this.index.get(id) ?? 0;
  }

  /** The row of an id, adding it if it is new and there is room; 0 when the vocabulary is full. */
  add(id: string): number {
    const known = this.index.get(id);
    if (known !== undefined) return known;
    if (this.ids.length - 1 >= this.capacity) return 0;
    const row = this.ids.length;
    this.index.set(id, row);
    this.ids.push(id);
    return row;
  }

  idOf(row: number): string | undefined {
    return row > 0 ? this.ids[row] : undefined;
  }

  /** The ids in row order, without the reserved row. */
  toJSON(): string[] {
    return this.ids.slice(1);
  }

  static fromJSON(ids: readonly string[], capacity = Number.POSITIVE_INFINITY): Vocabulary {
    const vocab = new Vocabulary(capacity);
    for (const id of ids) vocab.add(id);
    if (vocab.size !== ids.length + 1) throw new Error('vocabulary has duplicate ids or exceeds its capacity');
    return vocab;
  }
}
