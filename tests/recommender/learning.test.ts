import { Registry } from 'prom-client';
import type { SuggestionItem } from '../../protocol';
import { loadConfig } from '../../server/config';
import { ENGAGEMENT_STREAM } from '../../server/events';
import type { AudienceMember, RoomAudience } from '../../server/gateway';
import { createLogger } from '../../server/log';
import { createRecommender, type Recommender } from '../../server/recommender';
import { Random } from '../../server/recommender/model/random';
import { RECOMMENDER_GROUP } from '../../server/recommender/online/trainer';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { eventually } from '../helpers/socket';

/**
 * The closed loop learns. A planted preference that tags cannot reveal (every content has the
 * same tags; half the viewers like one half of the contents, the rest the other half) is only
 * learnable from what viewers do with suggestions. The real recommender (pusher, policy, event
 * log, label joining, trainer, validation, promotion, hot swap) runs against simulated viewers
 * who click what they like and dismiss some of what they do not; the share of suggested items a
 * viewer likes must rise clearly above the coin flip the cold start gives.
 */

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

const ROUNDS = 36;
const VIEWERS = 24;

it('learns a planted preference from clicks and dismissals', async () => {
  const creator = await s.api.register('creator');
  const contents: { id: string; camp: number }[] = [];
  for (let i = 0; i < 12; i++) {
    const c = await s.api.content(creator.token, { title: `Piece ${i}`, price: 1000, tags: ['music'] });
    contents.push({ id: c.id, camp: i % 2 });
  }
  const campOf = new Map(contents.map((c) => [c.id, c.camp]));
  const room = await s.api.room(creator.token, { title: 'Live', tags: ['music'] });
  await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
  const viewers: (Account & { camp: number })[] = [];
  for (let i = 0; i < VIEWERS; i++) viewers.push({ ...(await s.api.register()), camp: i % 2 });

  let t = Date.now();
  const members: AudienceMember[] = viewers.map((v, i) => ({
    roomId: room.id,
    userId: v.user.id,
    connectionId: `conn-${i}`,
    joinedAt: t - 3600_000,
    access: 'full',
  }));
  const inbox: { connectionId: string; items: SuggestionItem[]; modelVersion: string }[] = [];
  const audience: RoomAudience = {
    members: () => members,
    suggest: (connectionId, p) => inbox.push({ connectionId, items: p.items, modelVersion: p.modelVersion }),
    reportToOwner: () => {},
  };
  const config = loadConfig({
    RECOMMENDER_TRAINER_THREAD: 'inline',
    RECOMMENDER_PUSH_INTERVAL_SECONDS: '1',
    RECOMMENDER_JOIN_GRACE_SECONDS: '0',
    RECOMMENDER_DISMISS_COOLDOWN_SECONDS: '0',
    RECOMMENDER_REPEAT_COOLDOWN_SECONDS: '0',
    RECOMMENDER_LABEL_WINDOW_SECONDS: '3',
    RECOMMENDER_MAX_ITEMS: '2',
    // Timers stay out of the way: the test drives rounds and publishing itself.
    RECOMMENDER_TICK_MS: '60000',
    RECOMMENDER_PUBLISH_INTERVAL_SECONDS: '3600',
    RECOMMENDER_RETRAIN_INTERVAL_MINUTES: '0',
    RECOMMENDER_VALIDATION_MIN_EXAMPLES: '60',
  });
  const recommender: Recommender = createRecommender({
    db: s.lectern.database.db,
    config,
    log: createLogger('silent'),
    registry: new Registry(),
    events: s.lectern.engagement,
    audience,
    seed: 11,
    now: () => t,
  });
  try {
    await recommender.ready();
    const rng = new Random(5);
    const liked: number[][] = []; // per round: 1 for each item shown that the viewer likes
    for (let round = 0; round < ROUNDS; round++) {
      inbox.length = 0;
      await recommender.pushNow();
      const scores: number[] = [];
      for (const delivery of inbox) {
        const viewer = viewers[Number(delivery.connectionId.slice(5))];
        for (const item of delivery.items) {
          const likes = campOf.get(item.contentId) === viewer.camp;
          scores.push(likes ? 1 : 0);
          const action = likes ? (rng.next() < 0.6 ? 'click' : null) : rng.next() < 0.3 ? 'dismiss' : null;
          if (action)
            await recommender.feedback({ userId: viewer.user.id, roomId: room.id, contentId: item.contentId, action });
        }
      }
      liked.push(scores);
      t += 1000;
      await consumerCaughtUp(s);
      if (round % 3 === 2) await recommender.publishNow();
    }

    const share = (rounds: number[][]) => {
      const all = rounds.flat();
      return all.reduce((a, b) => a + b, 0) / all.length;
    };
    const early = share(liked.slice(0, 4));
    const late = share(liked.slice(-8));
    const status = recommender.status();
    // The loop ran: labelled examples, promoted versions now serving.
    expect(status.trainer?.labelled.positive).toBeGreaterThan(50);
    expect(status.trainer?.labelled.negative).toBeGreaterThan(50);
    expect(status.trainer?.versions.promoted).toBeGreaterThanOrEqual(1);
    expect(status.serving.version).toMatch(/^m\d+$/);
    expect(early).toBeGreaterThan(0.3); // the cold start cannot tell the halves apart
    expect(early).toBeLessThan(0.7);
    expect(late).toBeGreaterThan(0.8);
    expect(late - early).toBeGreaterThan(0.2);
  } finally {
    await recommender.close();
  }
}, 120_000);

/** Resolves once the recommender group has read and acknowledged everything in the stream. */
async function consumerCaughtUp(server: TestServer): Promise<void> {
  const { log } = server.lectern.engagement;
  await eventually(() => server.lectern.engagement.publisher.flush(), 10_000, 'the publisher to append');
  await eventually(
    async () => {
      const last = (await log.range(ENGAGEMENT_STREAM)).at(-1)?.id;
      const group = (await log.groups(ENGAGEMENT_STREAM)).find((g) => g.name === RECOMMENDER_GROUP);
      return !!group && group.pending === 0 && (last === undefined || group.lastDeliveredId === last);
    },
    10_000,
    'the recommender group to catch up',
  );
}
