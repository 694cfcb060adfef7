/**
 * Prints the dead letters of the engagement stream (Redis deployments; the embedded mode's
 * in-process log lives and dies with its server), oldest first, one JSON object a line:
 *
 *   REDIS_URL=redis://… [REDIS_KEY_PREFIX=…] npx tsx scripts/events-dead-letters.ts [--count N] [--start ID]
 *
 * Each line has the dead-letter `id` (pass the last one, plus one, as `--start` to page on), the
 * entry's `originalId`, `group`, `consumer`, `deliveries`, `error` and the stored `payload`. The
 * total goes to stderr. Replaying a letter is re-publishing its payload: consumers ignore events
 * they already applied.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../server/config';
import { ENGAGEMENT_STREAM, RedisStreamsEventLog } from '../server/events';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: 'string' }, start: { type: 'string' } }, strict: true });
  const count = values.count === undefined ? 100 : Number(values.count);
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`--count must be a positive integer, got "${values.count}"`);
  const config = loadConfig({ REDIS_URL: process.env.REDIS_URL, REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX });
  if (!config.redisUrl)
    throw new Error('set REDIS_URL: dead letters of the in-process log are not reachable from outside');
  // The same key prefix as the server's event log (server/app.ts).
  const log = new RedisStreamsEventLog({ url: config.redisUrl, keyPrefix: `${config.redisKeyPrefix}events:` });
  try {
    if (!(await log.ready())) throw new Error('Redis is unreachable');
    const letters = await log.deadLetters(ENGAGEMENT_STREAM, {
      count,
      ...(values.start ? { start: values.start } : {}),
    });
    for (const { event: _decoded, ...letter } of letters) process.stdout.write(`${JSON.stringify(letter)}\n`);
    process.stderr.write(`${await log.deadLetterCount(ENGAGEMENT_STREAM)} dead letters in all\n`);
  } finally {
    await log.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
