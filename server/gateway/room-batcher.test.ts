import { RoomBatcher } from './room-batcher';

const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RoomBatcher', () => {
  it('sends a quiet room’s item at once, then coalesces a busy room into one delivery per interval', async () => {
    const sent: [string, number[]][] = [];
    const batcher = new RoomBatcher<number>(80, (roomId, items) => sent.push([roomId, items]));
    batcher.push('a', 1);
    await tick();
    expect(sent).toEqual([['a', [1]]]);
    batcher.push('a', 2);
    batcher.push('a', 3);
    batcher.push('b', 9); // another room is not held up by a's interval
    await tick();
    expect(sent).toEqual([
      ['a', [1]],
      ['b', [9]],
    ]);
    await sleep(120);
    expect(sent).toEqual([
      ['a', [1]],
      ['b', [9]],
      ['a', [2, 3]],
    ]);
  });

  it('flushes on demand (before an event that must follow) and on close, each item once', async () => {
    const sent: number[][] = [];
    const batcher = new RoomBatcher<number>(1000, (_, items) => sent.push(items));
    batcher.push('a', 1);
    await tick();
    batcher.push('a', 2);
    batcher.flush('a');
    batcher.push('a', 3);
    batcher.close();
    await sleep(20);
    expect(sent).toEqual([[1], [2], [3]]);
  });
});
