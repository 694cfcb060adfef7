/**
 * Stream entry ids as Redis spells them, `<ms>-<seq>`: milliseconds of the appending server's
 * clock and a sequence within that millisecond. Both logs use them, so ids from either compare,
 * trim and page the same way.
 */
export interface StreamId {
  ms: number;
  seq: number;
}

export const ZERO_ID = '0-0';

const ID = /^(\d{1,16})-(\d{1,16})$/;

export function parseStreamId(id: string): StreamId {
  const m = ID.exec(id);
  if (!m) throw new TypeError(`not a stream id: ${id}`);
  return { ms: Number(m[1]), seq: Number(m[2]) };
}

export const formatStreamId = (id: StreamId) => `${id.ms}-${id.seq}`;

export function isStreamId(id: string): boolean {
  return ID.test(id);
}

/** Negative, zero or positive as `a` is before, equal to or after `b`. */
export function compareStreamIds(a: string, b: string): number {
  const x = parseStreamId(a);
  const y = parseStreamId(b);
  return x.ms - y.ms || x.seq - y.seq;
}

/** The smallest id after `id` (what `XTRIM MINID` needs to drop `id` itself). */
export function nextStreamId(id: string): string {
  const { ms, seq } = parseStreamId(id);
  return seq >= Number.MAX_SAFE_INTEGER ? `${ms + 1}-0` : `${ms}-${seq + 1}`;
}

export function minStreamId(ids: Iterable<string>): string | null {
  let min: string | null = null;
  for (const id of ids) if (min === null || compareStreamIds(id, min) < 0) min = id;
  return min;
}
