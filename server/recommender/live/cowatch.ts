import type { CoWatchView } from './features';

/**
 * Co-watch statistics learned incrementally from the engagement stream (`observe`: viewer v
 * started watching creator c at time t): each creator's audience, how many viewers two creators
 * share (for item-kNN cosine), and viewers' moves from one creator to the next. Bounded memory
 * and bounded work per event:
 *
 * - each viewer remembers at most `historyPerViewer` recent creators (a new creator co-occurs with
 *   those only), and at most `maxViewers` viewers are remembered (least recently active dropped);
 * - at most `maxCreators` creators get an id (later ones are scored from popularity and tags);
 * - when pairs or transitions exceed `maxPairs` entries, all their counts are halved and zeros
 *   dropped (until at most half of `maxPairs` are left): old co-watching fades, memory stays
 *   bounded, and the work is amortised over the events that filled it.
 *
 * So an event costs O(1) map updates for a creator the viewer watched recently, and
 * O(historyPerViewer) for a new one.
 */
export interface CoWatchOptions {
  maxViewers: number;
  historyPerViewer: number;
  maxCreators: number;
  maxPairs: number;
}

export const DEFAULT_COWATCH_OPTIONS: CoWatchOptions = {
  maxViewers: 200_000,
  historyPerViewer: 100,
  maxCreators: 200_000,
  maxPairs: 1_000_000,
};

/** Creator ids fit in 21 bits, so a pair of them is one exact number key. */
const SHIFT = 2 ** 21;

interface ViewerState {
  /** Recent distinct creators, oldest first. */
  recent: number[];
  last: number;
}

export class CoWatchStats implements CoWatchView {
  readonly options: CoWatchOptions;
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private audience: number[] = [];
  private transFrom: number[] = [];
  private readonly pairs = new Map<number, number>();
  private readonly trans = new Map<number, number>();
  private readonly viewerState = new Map<string, ViewerState>();
  /** Events observed, and how often the counts were halved. */
  events = 0;
  prunes = 0;

  constructor(options: Partial<CoWatchOptions> = {}) {
    this.options = { ...DEFAULT_COWATCH_OPTIONS, ...options };
    if (this.options.maxCreators > SHIFT) throw new Error(`maxCreators must be at most ${SHIFT}`);
  }

  /** The creator's id here, or -1 if it was never observed. */
  id(creatorId: string): number {
    return this.ids.get(creatorId) ?? -1;
  }

  get creators(): number {
    return this.names.length;
  }

  get viewerCount(): number {
    return this.viewerState.size;
  }

  get pairCount(): number {
    return this.pairs.size;
  }

  /** Viewer `viewerId` started watching `creatorId` (events should come roughly in time order). */
  observe(viewerId: string, creatorId: string): void {
    let c = this.ids.get(creatorId);
    if (c === undefined) {
      if (this.names.length >= this.options.maxCreators) return;
      c = this.names.length;
      this.ids.set(creatorId, c);
      this.names.push(creatorId);
      this.audience.push(0);
      this.transFrom.push(0);
    }
    this.events++;
    let v = this.viewerState.get(viewerId);
    if (v) this.viewerState.delete(viewerId);
    else {
      v = { recent: [], last: -1 };
      if (this.viewerState.size >= this.options.maxViewers) {
        this.viewerState.delete(this.viewerState.keys().next().value!);
      }
    }
    this.viewerState.set(viewerId, v); // most recently active last
    if (v.last >= 0 && v.last !== c) {
      const key = v.last * SHIFT + c;
      this.trans.set(key, (this.trans.get(key) ?? 0) + 1);
      this.transFrom[v.last]++;
    }
    const at = v.recent.indexOf(c);
    if (at < 0) {
      for (const h of v.recent) {
        const key = h < c ? h * SHIFT + c : c * SHIFT + h;
        this.pairs.set(key, (this.pairs.get(key) ?? 0) + 1);
      }
      this.audience[c]++;
      v.recent.push(c);
      if (v.recent.length > this.options.historyPerViewer) v.recent.shift();
    } else if (at !== v.recent.length - 1) {
      v.recent.splice(at, 1);
      v.recent.push(c);
    }
    v.last = c;
    const max = this.options.maxPairs;
    if (this.pairs.size > max || this.trans.size > max) {
      do this.halve();
      while (this.pairs.size > max / 2 || this.trans.size > max / 2);
    }
  }

  viewers(c: number): number {
    return this.audience[c] ?? 0;
  }

  both(a: number, b: number): number {
    return this.pairs.get(a < b ? a * SHIFT + b : b * SHIFT + a) ?? 0;
  }

  transitions(a: number, b: number): number {
    return this.trans.get(a * SHIFT + b) ?? 0;
  }

  transitionsFrom(a: number): number {
    return this.transFrom[a] ?? 0;
  }

  /** Halves every count and drops the zeros (an exponential forgetting step). */
  private halve(): void {
    this.prunes++;
    for (const m of [this.pairs, this.trans]) {
      for (const [key, n] of m) {
        if (n < 2) m.delete(key);
        else m.set(key, n >> 1);
      }
    }
    this.audience = this.audience.map((n) => Math.ceil(n / 2));
    this.transFrom = this.transFrom.map(() => 0);
    for (const [key, n] of this.trans) this.transFrom[Math.floor(key / SHIFT)] += n;
  }
}
