import { type CandidateInput, type CoWatchView, FEATURES, historyNorms, writeFeatures } from './features';
import { type Availability, availableAt, type LiveSplit } from './protocol';

/**
 * Choice examples from a watch log for the live ranker: for each of a viewer's rows after their
 * first, the rooms live at that moment (the protocol's availability window) with their features,
 * and which one the viewer opened. Features use only the viewer's own earlier rows, and co-watch
 * statistics of the training log with the viewer's own later rows left out (`LeaveOneOutCoWatch`),
 * so a training choice looks exactly like a test choice: the test row itself gets the statistics
 * of the whole training log.
 */
export interface ChoiceExamples {
  /** Row-major features, FEATURES wide; event e's rooms are rows `offsets[e] … offsets[e + 1] - 1`. */
  readonly x: Float32Array;
  readonly offsets: Int32Array;
  /** Index (within the event) of the room opened. */
  readonly positive: Int32Array;
  /** Per event: 0 training, 1 validation (each viewer's last training row), 2 test. */
  readonly kind: Uint8Array;
  readonly user: Int32Array;
  /** Per event, the availability (items in name order, pop-now) and the target item, for ranking. */
  readonly available: Availability[];
  readonly target: Int32Array;
  /**
   * Per event: 1 if someone else also started the target in the window. When 0, the room is a
   * candidate only because this viewer opened it — an artifact of inferring availability from a
   * sample's starts (see `buildChoiceExamples`).
   */
  readonly visible: Uint8Array;
}

export const TRAIN = 0;
export const VALIDATION = 1;
export const TEST = 2;

/**
 * Co-watch counts of the training log (binary viewer × creator, consecutive transitions), seen
 * from one event of one viewer: that viewer's own contribution is replaced by what they had done
 * before the event. At a viewer's test event this is the whole training log.
 */
export class LeaveOneOutCoWatch implements CoWatchView {
  readonly cooc: Int32Array;
  readonly users: Int32Array;
  readonly trans: Int32Array;
  readonly transFrom: Int32Array;
  /** The current viewer: all their training creators, those before the event, and transitions. */
  private readonly inAll: Uint8Array;
  private readonly inPrefix: Uint8Array;
  private readonly allTrans = new Map<number, number>();
  private readonly prefixTrans = new Map<number, number>();
  private readonly allFrom = new Map<number, number>();
  private readonly prefixFrom = new Map<number, number>();

  constructor(
    readonly nItems: number,
    /** Each user's training rows' items, in time order. */
    private readonly sequences: readonly Int32Array[],
  ) {
    const n = nItems;
    this.cooc = new Int32Array(n * n);
    this.users = new Int32Array(n);
    this.trans = new Int32Array(n * n);
    this.transFrom = new Int32Array(n);
    this.inAll = new Uint8Array(n);
    this.inPrefix = new Uint8Array(n);
    for (const seq of sequences) {
      const set = Array.from(new Set(seq));
      for (const i of set) {
        this.users[i]++;
        for (const j of set) if (i !== j) this.cooc[i * n + j]++;
      }
      for (let k = 1; k < seq.length; k++) {
        if (seq[k] === seq[k - 1]) continue;
        this.trans[seq[k - 1] * n + seq[k]]++;
        this.transFrom[seq[k - 1]]++;
      }
    }
  }

  /** Starts viewer `u` with nothing before their first event. */
  begin(u: number): void {
    this.inAll.fill(0);
    this.inPrefix.fill(0);
    this.allTrans.clear();
    this.prefixTrans.clear();
    this.allFrom.clear();
    this.prefixFrom.clear();
    const seq = this.sequences[u];
    for (let k = 0; k < seq.length; k++) {
      this.inAll[seq[k]] = 1;
      if (k > 0 && seq[k] !== seq[k - 1]) {
        bump(this.allTrans, seq[k - 1] * this.nItems + seq[k]);
        bump(this.allFrom, seq[k - 1]);
      }
    }
  }

  /** Viewer `u`'s training row `k` (its item `item`, after `previous`) is now in the past. */
  advance(item: number, previous: number): void {
    this.inPrefix[item] = 1;
    if (previous >= 0 && previous !== item) {
      bump(this.prefixTrans, previous * this.nItems + item);
      bump(this.prefixFrom, previous);
    }
  }

  viewers(c: number): number {
    return this.users[c] - this.inAll[c] + this.inPrefix[c];
  }

  both(a: number, b: number): number {
    return this.cooc[a * this.nItems + b] - this.inAll[a] * this.inAll[b] + this.inPrefix[a] * this.inPrefix[b];
  }

  transitions(a: number, b: number): number {
    const key = a * this.nItems + b;
    return this.trans[key] - (this.allTrans.get(key) ?? 0) + (this.prefixTrans.get(key) ?? 0);
  }

  transitionsFrom(a: number): number {
    return this.transFrom[a] - (this.allFrom.get(a) ?? 0) + (this.prefixFrom.get(a) ?? 0);
  }
}

function bump(m: Map<number, number>, key: number): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

/** Each user's training rows' items in time order (the test row left out). */
export function trainingSequences(split: LiveSplit): Int32Array[] {
  return Array.from({ length: split.nUsers }, (_, u) => {
    const rows = split.rows.subarray(split.offsets[u], split.offsets[u + 1]);
    const items = Array.from(rows, (r) => split.log.item[r]);
    if (split.testRow[u] >= 0) items.pop();
    return Int32Array.from(items);
  });
}

/**
 * Builds the choice examples of every user's rows after their first (training, validation, test).
 *
 * With `visibleTrainingOnly`, training choices whose target nobody else started in the window are
 * left out. Availability in a log is inferred from starts, so such a room is a candidate only
 * because it is the answer; a model trained on those choices learns "a room without other starts
 * (a niche room) is the one" — true of the protocol, false of a real live directory, where every
 * live room is listed. Restricted to rooms visible anyway, the conditional logit is unbiased (a
 * softmax over a subset of the live rooms is the same model, by independence of irrelevant
 * alternatives). Validation and test choices are always kept.
 */
export function buildChoiceExamples(
  split: LiveSplit,
  window: number,
  options: { view?: LeaveOneOutCoWatch; visibleTrainingOnly?: boolean } = {},
): ChoiceExamples {
  const view = options.view;
  const co = view ?? new LeaveOneOutCoWatch(split.nItems, trainingSequences(split));
  const { log } = split;
  let x = new Float32Array(1 << 20);
  const offsets: number[] = [0];
  const positive: number[] = [];
  const kind: number[] = [];
  const user: number[] = [];
  const available: Availability[] = [];
  const target: number[] = [];
  const visible: number[] = [];
  const count = new Float64Array(split.nItems);
  const lastAt = new Float64Array(split.nItems);
  const lastRow = new Int32Array(split.nItems);
  for (let u = 0; u < split.nUsers; u++) {
    const rows = split.rows.subarray(split.offsets[u], split.offsets[u + 1]);
    if (rows.length < 2) continue;
    co.begin(u);
    const seen: number[] = [];
    let total = 0;
    let previous = -1;
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k];
      const item = log.item[r];
      const t = log.timestamp[r];
      const kindOf = r === split.testRow[u] ? TEST : k === rows.length - 2 ? VALIDATION : TRAIN;
      const avail = k > 0 ? availableAt(split, t, window, r) : null;
      const seenByOthers = avail !== null && avail.popNow[avail.items.indexOf(item)] > 0;
      if (avail && (seenByOthers || kindOf !== TRAIN || !options.visibleTrainingOnly)) {
        const n = avail.items.length;
        const base = offsets[offsets.length - 1];
        while (x.length < (base + n) * FEATURES) {
          const bigger = new Float32Array(x.length * 2);
          bigger.set(x);
          x = bigger;
        }
        // The history, most recent first (ties: the later row first), as the ranker sees it.
        const ids = seen.slice().sort((a, b) => lastAt[b] - lastAt[a] || lastRow[b] - lastRow[a]);
        const history = { ids, lastId: previous, total, lastAt: ids.map((i) => lastAt[i]) };
        const norms = historyNorms(history, co);
        let pos = -1;
        for (let i = 0; i < n; i++) {
          const c = avail.items[i];
          if (c === item) pos = i;
          const candidate: CandidateInput = {
            id: c,
            count: count[c],
            lastAt: lastAt[c],
            isLast: c === previous,
            popularity: avail.popNow[i],
            following: false,
            subscribed: false,
            tagAffinity: 0,
            upcoming: false,
          };
          writeFeatures(history, norms, candidate, co, t, x, (base + i) * FEATURES);
        }
        offsets.push(base + n);
        positive.push(pos);
        kind.push(kindOf);
        user.push(u);
        available.push(avail);
        target.push(item);
        visible.push(seenByOthers ? 1 : 0);
      }
      if (r === split.testRow[u]) break;
      if (count[item] === 0) seen.push(item);
      count[item]++;
      lastAt[item] = t;
      lastRow[item] = k;
      total++;
      co.advance(item, previous);
      previous = item;
    }
    for (const item of seen) {
      count[item] = 0;
      lastAt[item] = 0;
      lastRow[item] = 0;
    }
  }
  return {
    x: x.subarray(0, offsets[offsets.length - 1] * FEATURES),
    offsets: Int32Array.from(offsets),
    positive: Int32Array.from(positive),
    kind: Uint8Array.from(kind),
    user: Int32Array.from(user),
    available,
    target: Int32Array.from(target),
    visible: Uint8Array.from(visible),
  };
}
