import { eventLogContract } from './event-log.contract';
import { InMemoryEventLog } from './memory-log';

describe('InMemoryEventLog', () => {
  const logs: InMemoryEventLog[] = [];
  eventLogContract({
    async create(options) {
      const log = new InMemoryEventLog(options);
      logs.push(log);
      return log;
    },
    async cleanup() {
      await Promise.all(logs.map((l) => l.close()));
    },
  });
});
