import { type ContentCatalog, kindCode } from './catalog';
import type { Candidate, UserContext } from './types';
import type { Vocabulary } from './vocabulary';

/**
 * Dense features, each a log or an indicator so one learned weight has a sensible effect over
 * wide ranges (a 100 and a 100,000 spend). Their product, `context × W × content`, is the "wide"
 * part of the model: price sensitivity by spend, engagement by price, kind by time in room.
 */
export const CONTEXT_FEATURES = [
  'bias',
  'logSpend',
  'logPurchases',
  'logMinutesInRoom',
  'logLikes',
  'logChats',
  'logTipped',
  'knownUser',
  'historyFill',
] as const;
export const CONTENT_FEATURES = [
  'bias',
  'logPrice',
  'lesson',
  'course',
  'bundle',
  'conversionLogOdds',
  'knownContent',
] as const;
/** Features of a (viewer, content) pair that no product of the two sides can express. */
export const PAIR_FEATURES = ['roomTagOverlap', 'userTagOverlap', 'roomCreator', 'historyCreatorShare'] as const;

const NC = CONTEXT_FEATURES.length;
const NF = CONTENT_FEATURES.length;
const NP = PAIR_FEATURES.length;

/** A batch of viewers as row indices and dense features. */
export interface UserRows {
  count: number;
  user: Int32Array;
  /** count × historyLength content rows, most recent first; 0 pads. */
  history: Int32Array;
  /** Tags of the viewer and of their room, CSR: entries tagStart[b] … tagStart[b+1]-1. */
  tagStart: Int32Array;
  tag: Int32Array;
  /** Mean-pooling weight of each entry (1/number of tags on its side). */
  tagWeight: Float32Array;
  tagIsRoom: Uint8Array;
  roomCreator: Int32Array;
  context: Float32Array;
}

/** A batch of contents as row indices and dense features. */
export interface ContentRows {
  count: number;
  content: Int32Array;
  tagStart: Int32Array;
  tag: Int32Array;
  creator: Int32Array;
  features: Float32Array;
  /** Minor units, NaN when unknown. */
  price: Float32Array;
}

const EMPTY = new Int32Array(0);
const log1pPos = (x: number | undefined) => Math.log1p(Math.max(0, x ?? 0));

export interface Vocabularies {
  users: Vocabulary;
  contents: Vocabulary;
  tags: Vocabulary;
  creators: Vocabulary;
}

/** Turns contexts and candidates into rows, either looking ids up (scoring) or adding them (training). */
export class Featurizer {
  constructor(
    private readonly vocab: Vocabularies,
    private readonly catalog: ContentCatalog,
    readonly historyLength: number,
  ) {}

  tagRows(tags: readonly string[] | undefined, grow: boolean): Int32Array | undefined {
    if (tags === undefined) return undefined;
    const rows: number[] = [];
    for (const t of tags) {
      const r = grow ? this.vocab.tags.add(t) : this.vocab.tags.lookup(t);
      if (r > 0 && !rows.includes(r)) rows.push(r);
    }
    return Int32Array.from(rows);
  }

  users(contexts: readonly UserContext[], grow: boolean): UserRows {
    const L = this.historyLength;
    const n = contexts.length;
    const rows: UserRows = {
      count: n,
      user: new Int32Array(n),
      history: new Int32Array(n * L),
      tagStart: new Int32Array(n + 1),
      tag: EMPTY,
      tagWeight: new Float32Array(0),
      tagIsRoom: new Uint8Array(0),
      roomCreator: new Int32Array(n),
      context: new Float32Array(n * NC),
    };
    const tags: number[] = [];
    const weights: number[] = [];
    const isRoom: number[] = [];
    const { users, contents, creators } = this.vocab;
    contexts.forEach((c, b) => {
      rows.user[b] = c.userId === undefined ? 0 : grow ? users.add(c.userId) : users.lookup(c.userId);
      const history = c.history ?? [];
      let filled = 0;
      for (let i = history.length - 1; i >= 0 && filled < L; i--) {
        const r = contents.lookup(history[i]);
        if (r > 0) rows.history[b * L + filled++] = r;
      }
      for (const [side, list] of [
        [0, this.tagRows(c.tags, grow)],
        [1, this.tagRows(c.room?.tags, grow)],
      ] as const) {
        if (!list || list.length === 0) continue;
        for (const t of list) {
          tags.push(t);
          weights.push(1 / list.length);
          isRoom.push(side);
        }
      }
      rows.tagStart[b + 1] = tags.length;
      const rc = c.room?.creatorId;
      rows.roomCreator[b] = rc === undefined ? 0 : grow ? creators.add(rc) : creators.lookup(rc);
      writeContext(rows.context, b, c, rows.user[b] > 0, L > 0 ? filled / L : 0);
    });
    rows.tag = Int32Array.from(tags);
    rows.tagWeight = Float32Array.from(weights);
    rows.tagIsRoom = Uint8Array.from(isRoom);
    return rows;
  }

  /** Viewers known only by row and history, as in offline training: no tags, room or spend. */
  usersFromHistory(user: Int32Array, history: Int32Array): UserRows {
    const n = user.length;
    const L = this.historyLength;
    const context = new Float32Array(n * NC);
    for (let b = 0; b < n; b++) {
      let filled = 0;
      while (filled < L && history[b * L + filled] > 0) filled++;
      writeContext(context, b, {}, user[b] > 0, L > 0 ? filled / L : 0);
    }
    return {
      count: n,
      user,
      history,
      tagStart: new Int32Array(n + 1),
      tag: EMPTY,
      tagWeight: new Float32Array(0),
      tagIsRoom: new Uint8Array(0),
      roomCreator: new Int32Array(n),
      context,
    };
  }

  /** Candidates as rows; with `grow` new ids are added and the catalog remembers their fields. */
  candidates(candidates: readonly Candidate[], grow: boolean): ContentRows {
    const n = candidates.length;
    const rows = allocContents(n);
    const tags: number[] = [];
    const { contents, creators } = this.vocab;
    candidates.forEach((c, b) => {
      const row = grow ? contents.add(c.contentId) : contents.lookup(c.contentId);
      const tagRows = this.tagRows(c.tags, grow) ?? this.catalog.tagsOf(row);
      const creator =
        c.creatorId === undefined
          ? this.catalog.creatorOf(row)
          : grow
            ? creators.add(c.creatorId)
            : creators.lookup(c.creatorId);
      if (grow) this.catalog.remember(row, c, c.tags === undefined ? undefined : tagRows, creator);
      rows.content[b] = row;
      if (tagRows) for (const t of tagRows) tags.push(t);
      rows.tagStart[b + 1] = tags.length;
      rows.creator[b] = creator;
      const stored = this.catalog.conversionOf(row);
      const price = c.price ?? this.catalog.priceOf(row);
      rows.price[b] = price;
      writeContent(
        rows.features,
        b,
        row > 0,
        price,
        c.kind === undefined ? this.catalog.kindOf(row) : kindCode(c.kind),
        c.impressions === undefined ? stored.purchases : (c.purchases ?? 0),
        c.impressions ?? stored.impressions,
      );
    });
    rows.tag = Int32Array.from(tags);
    return rows;
  }

  /** Known content rows with the fields the catalog remembers (negatives, full-catalog scoring). */
  contentsByRow(content: Int32Array): ContentRows {
    const n = content.length;
    const rows = allocContents(n);
    rows.content.set(content);
    const tags: number[] = [];
    for (let b = 0; b < n; b++) {
      const row = content[b];
      const tagRows = this.catalog.tagsOf(row);
      if (tagRows) for (const t of tagRows) tags.push(t);
      rows.tagStart[b + 1] = tags.length;
      rows.creator[b] = this.catalog.creatorOf(row);
      const price = this.catalog.priceOf(row);
      rows.price[b] = price;
      const conv = this.catalog.conversionOf(row);
      writeContent(rows.features, b, row > 0, price, this.catalog.kindOf(row), conv.purchases, conv.impressions);
    }
    rows.tag = Int32Array.from(tags);
    return rows;
  }

  /**
   * Pair features for every (viewer, content) combination (`paired` false: users × contents) or
   * for viewer b with content b (`paired` true). Null when they would all be zero (id-only data),
   * which saves the work and the tensor.
   */
  pairs(users: UserRows, contents: ContentRows, paired: boolean): Float32Array | null {
    const contentHasSide = contents.tag.length > 0 || contents.creator.some((c) => c > 0);
    const userHasSide =
      users.tag.length > 0 || users.roomCreator.some((c) => c > 0) || users.history.some((h) => h > 0);
    if (!contentHasSide || !userHasSide) return null;
    const L = this.historyLength;
    const nc = paired ? 1 : contents.count;
    const out = new Float32Array(users.count * nc * NP);
    const historyCreators = new Map<number, number>();
    for (let b = 0; b < users.count; b++) {
      historyCreators.clear();
      let filled = 0;
      for (let l = 0; l < L; l++) {
        const h = users.history[b * L + l];
        if (h === 0) break;
        filled++;
        const c = this.catalog.creatorOf(h);
        if (c > 0) historyCreators.set(c, (historyCreators.get(c) ?? 0) + 1);
      }
      const from = paired ? b : 0;
      const to = paired ? b + 1 : contents.count;
      for (let i = from; i < to; i++) {
        const o = (b * nc + (i - from)) * NP;
        const t0 = contents.tagStart[i];
        const t1 = contents.tagStart[i + 1];
        if (t1 > t0) {
          let room = 0;
          let own = 0;
          for (let e = users.tagStart[b]; e < users.tagStart[b + 1]; e++) {
            const t = users.tag[e];
            for (let k = t0; k < t1; k++) {
              if (contents.tag[k] === t) {
                if (users.tagIsRoom[e]) room++;
                else own++;
              }
            }
          }
          out[o] = room / (t1 - t0);
          out[o + 1] = own / (t1 - t0);
        }
        const creator = contents.creator[i];
        if (creator > 0) {
          out[o + 2] = creator === users.roomCreator[b] ? 1 : 0;
          out[o + 3] = filled > 0 ? (historyCreators.get(creator) ?? 0) / filled : 0;
        }
      }
    }
    return out;
  }
}

function allocContents(n: number): ContentRows {
  return {
    count: n,
    content: new Int32Array(n),
    tagStart: new Int32Array(n + 1),
    tag: EMPTY,
    creator: new Int32Array(n),
    features: new Float32Array(n * NF),
    price: new Float32Array(n),
  };
}

function writeContext(out: Float32Array, b: number, c: UserContext, known: boolean, historyFill: number): void {
  const o = b * NC;
  out[o] = 1;
  out[o + 1] = log1pPos((c.spend ?? 0) / 100);
  out[o + 2] = log1pPos(c.purchases);
  out[o + 3] = log1pPos((c.room?.secondsInRoom ?? 0) / 60);
  out[o + 4] = log1pPos(c.room?.likes);
  out[o + 5] = log1pPos(c.room?.chats);
  out[o + 6] = log1pPos((c.room?.tipped ?? 0) / 100);
  out[o + 7] = known ? 1 : 0;
  out[o + 8] = historyFill;
}

// A 2% conversion prior worth 50 impressions: a content shown twice and bought once is not 50%.
const PRIOR_RATE = 0.02;
const PRIOR_WEIGHT = 50;

function writeContent(
  out: Float32Array,
  b: number,
  known: boolean,
  price: number,
  kind: number,
  purchases: number,
  impressions: number,
): void {
  const o = b * NF;
  out[o] = 1;
  out[o + 1] = Number.isFinite(price) ? log1pPos(price / 100) : 0;
  if (kind > 0) out[o + 1 + kind] = 1;
  const rate = (purchases + PRIOR_RATE * PRIOR_WEIGHT) / (Math.max(impressions, purchases) + PRIOR_WEIGHT);
  out[o + 5] = Math.log(rate / (1 - rate)) - Math.log(PRIOR_RATE / (1 - PRIOR_RATE));
  out[o + 6] = known ? 1 : 0;
}
