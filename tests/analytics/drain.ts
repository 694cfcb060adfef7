import { Redis } from 'ioredis';
import { ANALYTICS_GROUP } from '../../server/analytics';
import type { Lectern } from '../../server/app';
import { ENGAGEMENT_STREAM } from '../../server/events';
import { TEST_REDIS_URL } from '../helpers/env';
import { eventually } from '../helpers/socket';

/**
 * Resolves once the analytics group has read and acknowledged everything in the stream: the
 * aggregates then reflect every event published so far.
 */
export async function analyticsDrained(lectern: Lectern, timeoutMs = 20_000): Promise<void> {
  // Money events reach the stream through the outbox relay: let it finish what is committed.
  await lectern.outbox.drain();
  // A log that just started may still be connecting: flush until everything is appended.
  await eventually(() => lectern.engagement.publisher.flush(), timeoutMs, 'the publisher to append its events');
  const { log } = lectern.engagement;
  await eventually(
    async () => {
      const last = (await log.range(ENGAGEMENT_STREAM)).at(-1)?.id;
      const group = (await log.groups(ENGAGEMENT_STREAM)).find((g) => g.name === ANALYTICS_GROUP);
      return !!group && group.pending === 0 && (last === undefined || group.lastDeliveredId === last);
    },
    timeoutMs,
    'the analytics group to catch up',
  );
}

/** Deletes every Redis key of a test's prefix. */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
