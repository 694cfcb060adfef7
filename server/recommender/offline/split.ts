import type { InteractionLog } from './csv';

/**
 * Every user's distinct items in time order, stored CSR-style: user u's items are
 * `items[offsets[u]] … items[offsets[u + 1] - 1]`.
 */
export interface UserSequences {
  readonly offsets: Int32Array;
  readonly items: Int32Array;
  readonly timestamps: Float64Array;
}

/** The leave-last-out protocol's view of a log. */
export interface LeaveLastOutSplit {
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  /** Each user's training items in time order (all of them for users left out of the test). */
  readonly train: UserSequences;
  /** Per user, the held-out last item, or -1 for a user with fewer than two distinct items. */
  readonly testItem: Int32Array;
  readonly testTimestamp: Float64Array;
  /** The users that have a test item, ascending. */
  readonly testUsers: Int32Array;
}

/**
 * Orders each user's interactions by time (ties keep file order) and keeps the first occurrence
 * of each (user, item) pair: a repeat can never be a test target, because the protocol ranks
 * only items the user has not had yet, so repeats would only inflate training counts.
 */
export function userSequences(log: InteractionLog): UserSequences {
  const nUsers = log.userIds.length;
  const rows = log.user.length;
  const offsets = new Int32Array(nUsers + 1);
  for (let r = 0; r < rows; r++) offsets[log.user[r] + 1]++;
  for (let u = 0; u < nUsers; u++) offsets[u + 1] += offsets[u];
  // Counting sort by user keeps file order within a user, so a stable sort by time is enough.
  const byUser = new Int32Array(rows);
  const fill = offsets.slice(0, nUsers);
  for (let r = 0; r < rows; r++) byUser[fill[log.user[r]]++] = r;

  const items = new Int32Array(rows);
  const timestamps = new Float64Array(rows);
  const outOffsets = new Int32Array(nUsers + 1);
  const lastSeen = new Int32Array(log.itemIds.length).fill(-1); // user that last claimed the item
  let out = 0;
  for (let u = 0; u < nUsers; u++) {
    const slice = Array.from(byUser.subarray(offsets[u], offsets[u + 1]));
    slice.sort((a, b) => log.timestamp[a] - log.timestamp[b] || a - b);
    for (const r of slice) {
      const it = log.item[r];
      if (lastSeen[it] === u) continue;
      lastSeen[it] = u;
      items[out] = it;
      timestamps[out] = log.timestamp[r];
      out++;
    }
    outOffsets[u + 1] = out;
  }
  return { offsets: outOffsets, items: items.slice(0, out), timestamps: timestamps.slice(0, out) };
}

/**
 * Leave-last-out: each user's last distinct item (by time) is the test target and the rest is
 * training; users with fewer than two distinct items keep everything in training.
 */
export function leaveLastOut(log: InteractionLog): LeaveLastOutSplit {
  const seq = userSequences(log);
  const nUsers = log.userIds.length;
  const testItem = new Int32Array(nUsers).fill(-1);
  const testTimestamp = new Float64Array(nUsers).fill(Number.NaN);
  const trainOffsets = new Int32Array(nUsers + 1);
  const trainItems = new Int32Array(seq.items.length);
  const trainTimes = new Float64Array(seq.items.length);
  const testUsers: number[] = [];
  let out = 0;
  for (let u = 0; u < nUsers; u++) {
    const start = seq.offsets[u];
    let end = seq.offsets[u + 1];
    if (end - start >= 2) {
      end--;
      testItem[u] = seq.items[end];
      testTimestamp[u] = seq.timestamps[end];
      testUsers.push(u);
    }
    trainItems.set(seq.items.subarray(start, end), out);
    trainTimes.set(seq.timestamps.subarray(start, end), out);
    out += end - start;
    trainOffsets[u + 1] = out;
  }
  return {
    userIds: log.userIds,
    itemIds: log.itemIds,
    train: { offsets: trainOffsets, items: trainItems.slice(0, out), timestamps: trainTimes.slice(0, out) },
    testItem,
    testTimestamp,
    testUsers: Int32Array.from(testUsers),
  };
}

/**
 * Holds out each chosen user's last training item as a validation target, for choosing epochs
 * without looking at the test items. Returns the reduced training sequences and the targets.
 */
export function holdOutLast(
  train: UserSequences,
  users: Int32Array,
): { train: UserSequences; validationItem: Int32Array; validationUsers: Int32Array } {
  const nUsers = train.offsets.length - 1;
  const chosen = new Uint8Array(nUsers);
  for (const u of users) if (train.offsets[u + 1] - train.offsets[u] >= 2) chosen[u] = 1;
  const validationItem = new Int32Array(nUsers).fill(-1);
  const offsets = new Int32Array(nUsers + 1);
  const items = new Int32Array(train.items.length);
  const timestamps = new Float64Array(train.items.length);
  const validationUsers: number[] = [];
  let out = 0;
  for (let u = 0; u < nUsers; u++) {
    const start = train.offsets[u];
    let end = train.offsets[u + 1];
    if (chosen[u]) {
      end--;
      validationItem[u] = train.items[end];
      validationUsers.push(u);
    }
    items.set(train.items.subarray(start, end), out);
    timestamps.set(train.timestamps.subarray(start, end), out);
    out += end - start;
    offsets[u + 1] = out;
  }
  return {
    train: { offsets, items: items.slice(0, out), timestamps: timestamps.slice(0, out) },
    validationItem,
    validationUsers: Int32Array.from(validationUsers),
  };
}
