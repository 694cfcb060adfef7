import { type EngagementEvent, InMemoryEventLog, type LogEntry, newEvent } from '../events';
import { batchHandler } from './batch-handler';

const roomId = '00000000-0000-4000-8000-000000000001';
const entries = (events: EngagementEvent[]): LogEntry[] =>
  events.map((event, i) => ({ id: `1-${i}`, deliveries: 1, event }));

describe('the analytics batch handler', () => {
  const log = new InMemoryEventLog();
  afterAll(() => log.close());

  it('hands each new event to one apply call, once, and skips them once they are done', async () => {
    const seen = log.seenEvents('t1');
    const applied: string[][] = [];
    const handle = batchHandler(seen, async (events) => {
      applied.push(events.map((e) => e.id));
    });
    const [a, b] = [
      newEvent('likes.sent', { roomId, data: { count: 1 } }),
      newEvent('likes.sent', { roomId, data: { count: 2 } }),
    ];
    await handle(entries([a, b, a])); // `a` appended twice
    await handle(entries([a, b])); // delivered again
    expect(applied).toEqual([[a.id, b.id], []]);
  });

  it('marks nothing done when applying fails, so a redelivery applies the events', async () => {
    const seen = log.seenEvents('t2');
    const event = newEvent('likes.sent', { roomId, data: { count: 1 } });
    let fail = true;
    const applied: string[] = [];
    const handle = batchHandler(seen, async (events) => {
      if (fail) throw new Error('database down');
      applied.push(...events.map((e) => e.id));
    });
    await expect(handle(entries([event]))).rejects.toThrow('database down');
    fail = false;
    await handle(entries([event]));
    expect(applied).toEqual([event.id]);
  });
});
