import { randomUUID } from 'node:crypto';
import type { EngagementEvent } from '../events';
import { Membership, Memberships } from './memberships';
import type { IoSocket } from './types';
import { WatchClock } from './watch-time';

const INTERVAL_S = 30;
const TURNS = 30;

function roomOf(viewers: number, start: number) {
  const memberships = new Memberships();
  const events: EngagementEvent[] = [];
  const clock = new WatchClock(memberships, (e) => events.push(e), INTERVAL_S);
  const roomId = randomUUID();
  for (let i = 0; i < viewers; i++) {
    const user = { id: randomUUID(), username: `u${i}` };
    const m = new Membership({ id: `s${i}` } as IoSocket, roomId, user as never, 'viewer');
    m.decide('full');
    memberships.add(m);
    clock.start(m, start);
  }
  return { clock, events };
}

describe('watch time', () => {
  it('beats a big room a slice at a time, each viewer once per interval with its full seconds', () => {
    const start = 1_000_000;
    const { clock, events } = roomOf(3000, start);
    const perTurn: number[] = [];
    // One interval's turns, a second apart (30 s / 30 turns).
    for (let turn = 1; turn <= TURNS; turn++) {
      const before = events.length;
      clock.tick(start + turn * 1000);
      perTurn.push(events.length - before);
    }
    clock.close();
    // Spread evenly: no turn carries more than its share (all at once would be 3,000 in one).
    expect(Math.max(...perTurn)).toBe(3000 / TURNS);
    expect(Math.min(...perTurn)).toBe(3000 / TURNS);
    // Every viewer beat once in the interval, and then the remainder when the clock stopped.
    const beatsOf = new Map<string, number>();
    for (const e of events.slice(0, 3000)) beatsOf.set(e.userId!, (beatsOf.get(e.userId!) ?? 0) + 1);
    expect(beatsOf.size).toBe(3000);
    expect([...beatsOf.values()].every((n) => n === 1)).toBe(true);
  });

  it('loses no second: what a viewer is credited equals how long it watched', () => {
    const start = 5_000_000;
    const { clock, events } = roomOf(45, start);
    for (let turn = 1; turn <= 75; turn++) clock.tick(start + turn * 1000);
    const end = start + 75_000;
    jest.spyOn(Date, 'now').mockReturnValue(end);
    clock.close();
    jest.restoreAllMocks();
    const credited = new Map<string, number>();
    for (const e of events) {
      const seconds = (e.data as { seconds: number }).seconds;
      credited.set(e.userId!, (credited.get(e.userId!) ?? 0) + seconds);
    }
    expect(credited.size).toBe(45);
    for (const seconds of credited.values()) expect(seconds).toBe(75);
  });
});
