import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { CreatorAnalytics, RoomAnalytics, SessionMetrics } from '../../server/analytics';
import { type Lectern, startLectern } from '../../server/app';
import { ENGAGEMENT_STREAM, type EngagementEvent, newEvent } from '../../server/events';
import { TEST_REDIS_URL } from '../helpers/env';
import { type Account, Api, startTestServer, type TestServer } from '../helpers/server';
import { analyticsDrained, deleteRedisKeys } from './drain';

/**
 * A scripted creator day, published into the engagement log with chosen event times (in a
 * shuffled order), then every metric checked exactly; then the same events delivered again, by
 * the log, by hand and after a restart, without any number moving.
 *
 * Session 1 (a ticket room, 10:00–10:10): A waits in the lobby and buys a ticket, B, a guest,
 * D, another guest and E come and go; chat, likes, questions, three tickets (G's, presold, never
 * used: a buyer who is no viewer), two tips, a lesson and a subscription bought from the room;
 * D's ticket is refunded after the end. Session 2 (the next day, 5 minutes): A and F, one tip.
 * A lesson sold the hour before session 1, and one A buys from the catalog during it (not from
 * the room), belong to no session. The platform's fee is 10%.
 */

const T0 = Date.UTC(2025, 2, 1, 10, 0, 0); // a minute boundary: session 1's buckets are its minutes
const T1 = T0 + 86_400_000;
const at1 = (s: number) => T0 + s * 1000;
const at2 = (s: number) => T1 + s * 1000;

interface Cast {
  creator: string;
  room1: string;
  room2: string;
}

function script({ creator: C, room1: R1, room2: R2 }: Cast): EngagementEvent[] {
  const [A, B, D, E, F, G] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const lesson = randomUUID();
  const subscription = randomUUID();
  const ticketOfD = randomUUID();
  const fee = (amount: number) => amount / 10;
  const join = (roomId: string, at: number, userId?: string) =>
    newEvent('room.joined', { roomId, at, ...(userId ? { userId } : {}), data: { access: 'full' } });
  const leave = (roomId: string, at: number, userId?: string, reason: 'left' | 'disconnected' | 'ended' = 'left') =>
    newEvent('room.left', { roomId, at, ...(userId ? { userId } : {}), data: { reason } });
  const beat = (roomId: string, at: number, seconds: number, userId?: string) =>
    newEvent('watch.heartbeat', { roomId, at, ...(userId ? { userId } : {}), data: { seconds, access: 'full' } });
  const chat = (roomId: string, at: number, userId: string) =>
    newEvent('chat.sent', { roomId, at, userId, data: { messageId: randomUUID(), length: 5 } });
  const likes = (roomId: string, at: number, userId: string, count: number) =>
    newEvent('likes.sent', { roomId, at, userId, data: { count } });
  const tip = (roomId: string, at: number, userId: string, amount: number) =>
    newEvent('tip.sent', {
      roomId,
      at,
      userId,
      creatorId: C,
      data: { tipId: randomUUID(), amount, fee: fee(amount), currency: 'USD' },
    });
  const ticket = (at: number, userId: string, purchaseId = randomUUID()) =>
    newEvent('purchase.completed', {
      at,
      userId,
      creatorId: C,
      roomId: R1,
      data: { purchaseId, kind: 'ticket', amount: 300, fee: 30, currency: 'USD' },
    });
  /** A lesson bought from inside `fromRoom`, or elsewhere (the catalog) without it. */
  const content = (at: number, userId: string, fromRoom?: string, amount = 500) =>
    newEvent('purchase.completed', {
      at,
      userId,
      creatorId: C,
      contentId: lesson,
      ...(fromRoom ? { roomId: fromRoom } : {}),
      data: { purchaseId: randomUUID(), kind: 'content', amount, fee: fee(amount), currency: 'USD' },
    });
  const data = { purchaseId: subscription, amount: 1000, fee: 100, currency: 'USD' };
  return [
    // --- session 1 -----------------------------------------------------------------------------
    join(R1, at1(-60), C), // the creator: not a viewer
    ticket(at1(-40), G), // G never comes
    join(R1, at1(-30), A), // in the lobby before the start
    ticket(at1(-25), A),
    chat(R1, at1(-20), A),
    join(R1, at1(0), B),
    chat(R1, at1(30), A),
    likes(R1, at1(45), A, 10),
    join(R1, at1(60)), // guest 1
    chat(R1, at1(70), B),
    chat(R1, at1(90), A),
    likes(R1, at1(100), B, 5),
    join(R1, at1(120), D),
    ticket(at1(125), D, ticketOfD),
    chat(R1, at1(130), D),
    chat(R1, at1(135), C), // the creator's chat is room activity
    newEvent('question.asked', { roomId: R1, at: at1(150), userId: B, data: { questionId: randomUUID() } }),
    join(R1, at1(180)), // guest 2
    newEvent('question.asked', { roomId: R1, at: at1(200), userId: D, data: { questionId: randomUUID() } }),
    tip(R1, at1(200), B, 100),
    newEvent('question.upvoted', { roomId: R1, at: at1(210), userId: A, data: { questionId: randomUUID() } }),
    beat(R1, at1(240), 90, A),
    leave(R1, at1(240), A),
    join(R1, at1(300), A), // back: not a new unique viewer
    likes(R1, at1(310), D, 20),
    tip(R1, at1(320), A, 250),
    content(at1(330), B, R1), // bought from the room: session 1's
    content(at1(340), A, undefined, 400), // bought from the catalog while session 1 is live: no session's
    beat(R1, at1(360), 300), // guest time
    leave(R1, at1(360)), // guest 1
    newEvent('question.answered', { roomId: R1, at: at1(400), data: { questionId: randomUUID() } }),
    beat(R1, at1(420), 420, B),
    leave(R1, at1(420), B, 'disconnected'),
    newEvent('subscription.started', {
      at: at1(450),
      userId: D,
      creatorId: C,
      roomId: R1,
      data: { ...data, periodEnd: T1 },
    }),
    // The same subscription purchase seen as a purchase too (recorded before it carried its fee
    // and room): a sale counts once by its id, with what either record says.
    newEvent('purchase.completed', {
      at: at1(450),
      userId: D,
      creatorId: C,
      data: { purchaseId: subscription, amount: 1000, currency: 'USD', kind: 'subscription' },
    }),
    beat(R1, at1(480), 360, D),
    leave(R1, at1(480), D),
    join(R1, at1(500), E),
    beat(R1, at1(540), 360), // guest time
    leave(R1, at1(540)), // guest 2
    beat(R1, at1(550), 50, E),
    leave(R1, at1(550), E),
    beat(R1, at1(600), 110, A),
    beat(R1, at1(600), 50, C), // the creator's own time: not watch time
    leave(R1, at1(600), A, 'ended'), // at the end: outside the session
    leave(R1, at1(600), C, 'ended'),
    // After the end, D's ticket is refunded: it leaves session 1's revenue, fees and buyers.
    newEvent('purchase.refunded', {
      at: at1(700),
      userId: D,
      creatorId: C,
      roomId: R1,
      data: { purchaseId: ticketOfD, kind: 'ticket', amount: 300, fee: 30, currency: 'USD' },
    }),
    // Not analytics' business, or not a room of this deployment: no effect.
    newEvent('suggestion.shown', {
      roomId: R1,
      contentId: lesson,
      at: at1(100),
      data: { modelVersion: 'v1', score: 0.5 },
    }),
    chat(randomUUID(), at1(100), A),
    // --- outside any session ---------------------------------------------------------------------
    content(T0 - 3_600_000, E),
    // --- session 2 -----------------------------------------------------------------------------
    join(R2, at2(0), A),
    join(R2, at2(60), F),
    chat(R2, at2(70), F),
    tip(R2, at2(100), F, 200),
    beat(R2, at2(120), 60, F),
    leave(R2, at2(120), F),
    beat(R2, at2(240), 240, A),
    leave(R2, at2(240), A),
  ];
}

/** A fixed permutation: the log does not keep order across retries, and the numbers must not care. */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  let seed = 42;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const revenue = (r: Partial<Record<'ticket' | 'content' | 'tip' | 'subscription', number>>) => {
  const full = { ticket: 0, content: 0, tip: 0, subscription: 0, ...r };
  return { ...full, total: full.ticket + full.content + full.tip + full.subscription };
};
const activity = (a: Partial<SessionMetrics['activity']>) => ({
  chatMessages: 0,
  likes: 0,
  questionsAsked: 0,
  questionUpvotes: 0,
  questionsAnswered: 0,
  ...a,
});

function expectedSession1(room1: string): SessionMetrics {
  return {
    roomId: room1,
    title: 'Session one',
    status: 'ended',
    startedAt: new Date(T0).toISOString(),
    endedAt: new Date(at1(600)).toISOString(),
    durationSeconds: 600,
    viewers: {
      peak: 5,
      // per minute: 2, 3, 4, 5, 4, 5, 4, 3, then 2 (20 s) 3 (40 s), then 2 (10 s) 1 (50 s)
      viewerSeconds: 2030,
      average: 2030 / 600,
      unique: 4, // A, B, D, E
      guestJoins: 2,
      joins: 7, // A twice, B, D, E and two guests
    },
    watch: { seconds: 1690, signedInSeconds: 1030, guestSeconds: 660, perViewerSeconds: 1030 / 4 },
    activity: activity({ chatMessages: 6, likes: 35, questionsAsked: 2, questionUpvotes: 1, questionsAnswered: 1 }),
    money: {
      revenue: revenue({ ticket: 600, content: 500, tip: 350, subscription: 1000 }),
      fees: 245,
      net: 2205,
      refunds: { count: 1, amount: 300 }, // D's ticket
      sales: 6,
      salesByKind: { ticket: 2, content: 1, tip: 2, subscription: 1 },
      buyers: 4, // A (ticket, tip), B (tip, lesson), D (subscription), G (ticket)
      buyersPerViewer: 1,
      viewerBuyers: 3, // G never joined
      viewerConversion: 3 / 4,
      revenuePerViewer: 2450 / 4,
      revenuePerBuyer: 2450 / 4,
    },
  };
}

function expectedSession2(room2: string): SessionMetrics {
  return {
    roomId: room2,
    title: 'Session two',
    status: 'ended',
    startedAt: new Date(T1).toISOString(),
    endedAt: new Date(at2(300)).toISOString(),
    durationSeconds: 300,
    viewers: { peak: 2, viewerSeconds: 300, average: 1, unique: 2, guestJoins: 0, joins: 2 },
    watch: { seconds: 300, signedInSeconds: 300, guestSeconds: 0, perViewerSeconds: 150 },
    activity: activity({ chatMessages: 1 }),
    money: {
      revenue: revenue({ tip: 200 }),
      fees: 20,
      net: 180,
      refunds: { count: 0, amount: 0 },
      sales: 1,
      salesByKind: { ticket: 0, content: 0, tip: 1, subscription: 0 },
      buyers: 1,
      buyersPerViewer: 0.5,
      viewerBuyers: 1,
      viewerConversion: 0.5,
      revenuePerViewer: 100,
      revenuePerBuyer: 200,
    },
  };
}

const minute = (k: number) => new Date(T0 + k * 60_000).toISOString();
const SERIES_1 = [
  // [peak, average, chat, likes, revenue]; the lobby's chat and ticket show in the first minute;
  // D's refunded ticket (minute 2) shows nowhere
  [2, 2, 2, 10, 600],
  [3, 3, 2, 5, 0],
  [4, 4, 2, 0, 0],
  [5, 5, 0, 0, 100],
  [4, 4, 0, 0, 0],
  [5, 5, 0, 20, 750],
  [4, 4, 0, 0, 0],
  [3, 3, 0, 0, 1000],
  [3, 160 / 60, 0, 0, 0],
  [2, 70 / 60, 0, 0, 0],
].map(([peakViewers, averageViewers, chatMessages, likes, revenue], k) => ({
  at: minute(k),
  peakViewers,
  averageViewers,
  chatMessages,
  likes,
  revenue,
}));

describe.each([
  ['in-process log', () => ({})],
  [
    'Redis Streams log',
    () => ({ REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: `lectern-test-${randomBytes(4).toString('hex')}:` }),
  ],
])('analytics of a scripted session (%s)', (_name, makeEnv) => {
  const env: Record<string, string> = makeEnv();
  let s: TestServer;
  let lectern: Lectern;
  let api: Api;
  let creator: Account;
  let cast: Cast;
  let events: EngagementEvent[];

  beforeAll(async () => {
    s = await startTestServer(env);
    lectern = s.lectern;
    api = s.api;
    creator = await api.register('creator');
    const room1 = await api.room(creator.token, { title: 'Session one', access: 'ticket', ticketPrice: 300 });
    const room2 = await api.room(creator.token, { title: 'Session two' });
    // The sessions' clock is the rooms' own: set to the script's times.
    await sql`UPDATE rooms SET status = 'ended', started_at = ${new Date(T0)}, ended_at = ${new Date(at1(600))}
      WHERE id = ${room1.id}`.execute(lectern.database.db);
    await sql`UPDATE rooms SET status = 'ended', started_at = ${new Date(T1)}, ended_at = ${new Date(at2(300))}
      WHERE id = ${room2.id}`.execute(lectern.database.db);
    cast = { creator: creator.user.id, room1: room1.id, room2: room2.id };
    events = script(cast);
    for (const event of shuffled(events)) lectern.engagement.publish(event);
    await analyticsDrained(lectern);
  });

  afterAll(async () => {
    await lectern?.close();
    await s?.database.drop();
    if (env.REDIS_KEY_PREFIX) await deleteRedisKeys(env.REDIS_KEY_PREFIX);
  });

  const roomReport = async (roomId: string) => {
    const res = await api.get<RoomAnalytics>(`/api/analytics/rooms/${roomId}`, creator.token);
    expect(res.status).toBe(200);
    return res.body;
  };
  const creatorReport = async () => {
    const res = await api.get<CreatorAnalytics>('/api/analytics/creator', creator.token);
    expect(res.status).toBe(200);
    return res.body;
  };

  /** Every number of both reports, exactly. */
  async function expectExactMetrics(): Promise<void> {
    const one = await roomReport(cast.room1);
    expect(one.session).toEqual(expectedSession1(cast.room1));
    expect(one.bucketSeconds).toBe(60);
    expect(one.series).toEqual(SERIES_1);
    expect(one.decomposition).toEqual({
      viewers: 4,
      buyersPerViewer: 1,
      revenuePerBuyer: 2450 / 4,
      product: 4 * 1 * (2450 / 4),
      revenue: 2450,
      holds: true,
    });
    // Revenue = viewers x buyers per viewer x revenue per buyer; the series adds up to the session.
    const { viewers, money, activity: act } = one.session;
    expect(viewers.unique * money.buyersPerViewer! * money.revenuePerBuyer!).toBeCloseTo(money.revenue.total, 9);
    expect(one.series.reduce((n, p) => n + p.revenue, 0)).toBe(money.revenue.total);
    expect(one.series.reduce((n, p) => n + p.chatMessages, 0)).toBe(act.chatMessages);
    expect(one.series.reduce((n, p) => n + p.likes, 0)).toBe(act.likes);
    expect(Math.max(...one.series.map((p) => p.peakViewers))).toBe(viewers.peak);

    const two = await roomReport(cast.room2);
    expect(two.session).toEqual(expectedSession2(cast.room2));
    expect(two.series.map((p) => p.peakViewers)).toEqual([1, 2, 1, 1, 0]);

    const report = await creatorReport();
    expect(report.creatorId).toBe(cast.creator);
    expect(report.sessions).toEqual([expectedSession2(cast.room2), expectedSession1(cast.room1)]);
    expect(report.page).toEqual({ limit: 20, offset: 0, total: 2 });
    expect(report.totals).toEqual({
      sessions: 2,
      liveSessions: 0,
      durationSeconds: 900,
      viewers: {
        peak: 5,
        viewerSeconds: 2330,
        average: 2330 / 900,
        unique: 5, // A, B, D, E, F: A counted once
        guestJoins: 2,
        joins: 9,
      },
      watch: { seconds: 1990, signedInSeconds: 1330, guestSeconds: 660, perViewerSeconds: 1330 / 5 },
      activity: activity({ chatMessages: 7, likes: 35, questionsAsked: 2, questionUpvotes: 1, questionsAnswered: 1 }),
      money: {
        revenue: revenue({ ticket: 600, content: 500, tip: 550, subscription: 1000 }),
        fees: 265,
        net: 2385,
        refunds: { count: 1, amount: 300 },
        sales: 7,
        salesByKind: { ticket: 2, content: 1, tip: 3, subscription: 1 },
        buyers: 5, // A, B, D, F, G
        buyersPerViewer: 1,
        viewerBuyers: 4, // A, B, D in session 1, F in session 2
        viewerConversion: 0.8,
        revenuePerViewer: 530,
        revenuePerBuyer: 530,
      },
      decomposition: {
        viewers: 5,
        buyersPerViewer: 1,
        revenuePerBuyer: 530,
        product: 5 * 1 * 530,
        revenue: 2650,
        holds: true,
      },
      // E's lesson the hour before, and A's bought from the catalog during session 1
      outsideSessions: {
        revenue: revenue({ content: 900 }),
        sales: 2,
        fees: 90,
        net: 810,
        refunds: { count: 0, amount: 0 },
      },
      allRevenue: revenue({ ticket: 600, content: 1400, tip: 550, subscription: 1000 }),
      all: {
        revenue: revenue({ ticket: 600, content: 1400, tip: 550, subscription: 1000 }),
        sales: 9,
        fees: 355,
        net: 3195,
        refunds: { count: 1, amount: 300 },
      },
    });
  }

  it('computes every metric of the sessions and of the creator exactly', async () => {
    await expectExactMetrics();
  });

  it('pages the sessions and serves the cached summary of ended sessions unchanged', async () => {
    const res = await api.get<CreatorAnalytics>('/api/analytics/creator?limit=1&offset=1', creator.token);
    expect(res.status).toBe(200);
    expect(res.body.sessions).toEqual([expectedSession1(cast.room1)]);
    expect(res.body.page).toEqual({ limit: 1, offset: 1, total: 2 });
    const cached = await lectern.database.db
      .selectFrom('analytics_rooms')
      .select(['summary_version', 'presence_version'])
      .where('room_id', '=', cast.room1)
      .executeTakeFirstOrThrow();
    expect(cached.summary_version).toBe(cached.presence_version);
  });

  it('does not count events again when the log delivers them again', async () => {
    const before = lectern.analytics.consumer!.stats.processed;
    // A retried append: the same events (same ids) land in the stream a second time.
    await lectern.engagement.log.append(ENGAGEMENT_STREAM, shuffled(events).reverse());
    await analyticsDrained(lectern);
    expect(lectern.analytics.consumer!.stats.processed - before).toBe(events.length);
    await expectExactMetrics();
  });

  it('does not count events again when they are processed again past the seen-ids store', async () => {
    // What a redelivery after the seen id expired, or a crash between commit and ack, amounts to.
    for (const event of events) expect(await lectern.analytics.apply(event)).toBe(false);
    await expectExactMetrics();
  });

  it('does not count events again after a restart', async () => {
    const config = lectern.config;
    await lectern.close();
    // The Redis seen-ids outlive the process; forget them, as their TTL would, so only the
    // Postgres record of processed events stands between a redelivery and a double count.
    if (env.REDIS_KEY_PREFIX) await deleteRedisKeys(`${env.REDIS_KEY_PREFIX}events:seen:`);
    lectern = await startLectern(config);
    api = new Api(lectern.url);
    for (const event of events) lectern.engagement.publish(event);
    await analyticsDrained(lectern);
    expect(lectern.analytics.consumer!.stats.processed).toBeGreaterThanOrEqual(events.length);
    await expectExactMetrics();
  });
});
