import { eventLogContract } from './event-log.contract';
import { RedisStreamsEventLog } from './redis-log';
import { deleteKeys, TEST_REDIS_URL, testKeyPrefix } from './testing';

describe('RedisStreamsEventLog', () => {
  const keyPrefix = testKeyPrefix('redis-log');
  const logs: RedisStreamsEventLog[] = [];
  eventLogContract({
    async create(options) {
      const log = new RedisStreamsEventLog({ url: TEST_REDIS_URL, keyPrefix, ...options });
      logs.push(log);
      if (!(await log.ready())) throw new Error(`no Redis at ${TEST_REDIS_URL}`);
      return log;
    },
    async cleanup() {
      await Promise.all(logs.map((l) => l.close()));
      await deleteKeys(TEST_REDIS_URL, keyPrefix);
    },
  });
});
