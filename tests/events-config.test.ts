import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ENGAGEMENT_STREAM, RedisStreamsEventLog } from '../server/events';
import { chatEvents, deleteKeys, TEST_REDIS_URL, testKeyPrefix } from '../server/events/testing';
import { createLogger } from '../server/log';
import { startTestServer } from './helpers/server';
import { closeAllSockets, connect, ok } from './helpers/socket';

afterEach(closeAllSockets);

describe('the composition of the event log', () => {
  it('caps the in-process stream at EVENTS_STREAM_MAX_LENGTH, as the Redis one', async () => {
    const s = await startTestServer({ EVENTS_STREAM_MAX_LENGTH: '1000' });
    try {
      const { log } = s.lectern.engagement;
      expect(log.kind).toBe('memory');
      await log.append('capped', chatEvents(1500));
      expect(await log.length('capped')).toBe(1000);
    } finally {
      await s.close();
    }
  });

  it('records an event even when the recommender fails to observe it, and says which failed', async () => {
    const lines: { msg: string }[] = [];
    const log = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line)) });
    const s = await startTestServer({ RECOMMENDER_ENABLED: 'true', RECOMMENDER_TRAINING: 'false' }, { log });
    try {
      s.lectern.recommender!.observe = () => {
        throw new Error('the recommender broke');
      };
      const owner = await s.api.register('creator');
      const room = await s.api.room(owner.token);
      const viewer = await s.api.register();
      await ok(await connect(s.url, viewer.token), 'room:join', { roomId: room.id });
      await s.lectern.engagement.publisher.flush();
      const recorded = await s.lectern.engagement.log.range(ENGAGEMENT_STREAM);
      expect(recorded.some((e) => e.event?.type === 'room.joined' && e.event.roomId === room.id)).toBe(true);
      expect(lines.map((l) => l.msg)).toContain('recommender could not observe an event');
      expect(lines.map((l) => l.msg)).not.toContain('engagement event not recorded');
    } finally {
      await s.close();
    }
  });
});

describe('scripts/events-dead-letters.ts', () => {
  it('prints the dead letters of a Redis deployment, one JSON object a line, and their number', async () => {
    const prefix = testKeyPrefix('dead-letters-cli');
    const log = new RedisStreamsEventLog({ url: TEST_REDIS_URL, keyPrefix: `${prefix}events:` });
    try {
      expect(await log.ready()).toBe(true);
      await log.createGroup(ENGAGEMENT_STREAM, 'analytics');
      await log.append(ENGAGEMENT_STREAM, chatEvents(3));
      const entries = await log.read(ENGAGEMENT_STREAM, 'analytics', 'c', { count: 3 });
      await log.deadLetter(ENGAGEMENT_STREAM, 'analytics', 'c', [
        { entry: entries[0], error: 'first' },
        { entry: entries[2], error: 'third' },
      ]);
      const script = path.join(__dirname, '..', 'scripts', 'events-dead-letters.ts');
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', script, '--count', '1'],
        {
          env: { ...process.env, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix },
        },
      );
      const lines = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toEqual([
        expect.objectContaining({ originalId: entries[0].id, group: 'analytics', error: 'first', deliveries: 1 }),
      ]);
      expect(JSON.parse(lines[0].payload)).toEqual(entries[0].event);
      expect(stderr).toContain('2 dead letters in all');
    } finally {
      await log.close();
      await deleteKeys(TEST_REDIS_URL, prefix);
    }
  });
});
