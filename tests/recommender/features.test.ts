import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { CatalogCache } from '../../server/recommender/online/catalog';
import { isHeldOut } from '../../server/recommender/online/labels';
import { loadTrainingData } from '../../server/recommender/online/training-data';
import { ViewerProfiles } from '../../server/recommender/online/viewers';
import { analyticsDrained } from '../analytics/drain';
import { type Account, startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, ok } from '../helpers/socket';

/**
 * Feature extraction from Postgres: viewer profiles (history, spend, interests, engagement,
 * ownership), the catalog view (paid contents and subscriptions, kept up to date), and the
 * training data a full retrain reads, with labels joined from impressions over the label window.
 */

let s: TestServer;
let creator: Account;
let other: Account;
let viewer: Account;
const contents: Record<string, { id: string }> = {};

beforeAll(async () => {
  s = await startTestServer();
  creator = await s.api.register('creator');
  other = await s.api.register('creator');
  viewer = await s.api.register('viewer');
  await s.api.request('PATCH', '/api/creators/me', {
    token: other.token,
    body: { displayName: 'Otto', subscriptionPrice: 999, subscriptionPeriodDays: 30, tags: ['stats'] },
  });
  contents.algebra = await s.api.content(creator.token, { title: 'Algebra', price: 400, tags: ['math', 'algebra'] });
  contents.course = await s.api.content(creator.token, {
    title: 'Course',
    kind: 'course',
    price: 2000,
    tags: ['math'],
  });
  contents.free = await s.api.content(creator.token, { title: 'Free', price: 0, tags: ['math'] });
  contents.stats = await s.api.content(other.token, { title: 'Stats', price: 700, tags: ['stats'] });
  await s.api.topUp(viewer.token, 10_000);
  const buy = async (body: unknown, path = '/api/purchases') =>
    expect((await s.api.post(path, body, viewer.token, randomUUID())).status).toBe(201);
  await buy({ contentId: contents.algebra.id });
  await buy({ contentId: contents.stats.id });
  await buy({ creatorId: other.user.id }, '/api/subscriptions');
  // A room watched: its creator is engaged with, its tags say something about the viewer.
  const room = await s.api.room(creator.token, { title: 'Live', tags: ['geometry'] });
  await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
  const sock = await connect(s.url, viewer.token);
  await ok(sock, 'room:join', { roomId: room.id });
  await analyticsDrained(s.lectern);
});
afterAll(async () => {
  closeAllSockets();
  await s.close();
});

describe('ViewerProfiles', () => {
  it('assembles history, spend, interests, engagement and ownership from Postgres', async () => {
    const profiles = new ViewerProfiles(s.lectern.database.db);
    const p = (await profiles.get([viewer.user.id])).get(viewer.user.id);
    expect(p).toBeDefined();
    expect(p?.history).toEqual([contents.algebra.id, contents.stats.id]); // oldest first, contents only
    expect(p?.spend).toBe(400 + 700 + 999);
    expect(p?.purchases).toBe(3);
    // Purchases weigh most (math, algebra, stats), the subscription adds to stats, the room to geometry.
    expect(p?.tags[0]).toBe('stats');
    expect(p?.tags).toEqual(expect.arrayContaining(['math', 'algebra', 'geometry']));
    expect([...(p?.engagedCreators ?? [])].sort()).toEqual([creator.user.id, other.user.id].sort());
    expect([...(p?.owned ?? [])].sort()).toEqual([contents.algebra.id, contents.stats.id].sort());
    expect([...(p?.subscribedTo ?? [])]).toEqual([other.user.id]);
  });

  it("counts a course's items as owned, items added after the purchase too", async () => {
    const buyer = await s.api.register();
    const lesson = await s.api.content(creator.token, { title: 'Lesson', price: 300, tags: ['math'] });
    const course = await s.api.content(creator.token, { title: 'Later course', kind: 'course', price: 900 });
    await s.api.topUp(buyer.token, 2000);
    const bought = await s.api.post('/api/purchases', { contentId: course.id }, buyer.token, randomUUID());
    expect(bought.status).toBe(201);
    const patched = await s.api.request('PATCH', `/api/contents/${course.id}`, {
      token: creator.token,
      body: { itemIds: [lesson.id] },
    });
    expect(patched.status).toBe(200);
    const p = (await new ViewerProfiles(s.lectern.database.db).get([buyer.user.id])).get(buyer.user.id);
    expect([...(p?.owned ?? [])].sort()).toEqual([course.id, lesson.id].sort());
  });

  it('gives an unknown viewer an empty profile, and reloads a profile marked stale', async () => {
    let t = 0;
    const profiles = new ViewerProfiles(s.lectern.database.db, { now: () => t, ttlMs: 1000 });
    const stranger = await s.api.register();
    const first = (await profiles.get([stranger.user.id])).get(stranger.user.id);
    expect(first).toMatchObject({ history: [], spend: 0, tags: [] });
    await s.api.topUp(stranger.token, 3000);
    expect(
      (await s.api.post('/api/purchases', { contentId: contents.course.id }, stranger.token, randomUUID())).status,
    ).toBe(201);
    expect((await profiles.get([stranger.user.id])).get(stranger.user.id)?.history).toEqual([]); // cached
    profiles.invalidate(stranger.user.id);
    expect((await profiles.get([stranger.user.id])).get(stranger.user.id)?.history).toEqual([contents.course.id]);
    profiles.noteOwned(stranger.user.id, contents.algebra.id);
    expect(profiles.cached(stranger.user.id)?.owned.has(contents.algebra.id)).toBe(true);
    t += 5000;
    expect((await profiles.get([stranger.user.id])).get(stranger.user.id)?.owned.has(contents.algebra.id)).toBe(false);
  });
});

describe('CatalogCache', () => {
  it('holds paid contents and subscriptions, indexed by creator and tag, with purchase counts', async () => {
    const catalog = new CatalogCache(s.lectern.database.db);
    await catalog.refresh(true);
    expect(catalog.item(contents.free.id)).toBeUndefined(); // nothing to sell
    expect(catalog.item(contents.algebra.id)).toMatchObject({ kind: 'lesson', price: 400, creatorId: creator.user.id });
    expect(catalog.item(other.user.id)).toMatchObject({
      kind: 'subscription',
      creatorId: other.user.id,
      price: 999,
      title: 'Subscribe to Otto',
      tags: ['stats'],
    });
    expect(catalog.item(creator.user.id)).toBeUndefined(); // sells no subscription
    expect(
      catalog
        .byCreator(other.user.id)
        .map((i) => i.id)
        .sort(),
    ).toEqual([contents.stats.id, other.user.id].sort());
    expect([...catalog.creatorsWithTags(['stats', 'math']).keys()].sort()).toEqual(
      [creator.user.id, other.user.id].sort(),
    );
    expect(catalog.statsOf(contents.algebra.id).purchases).toBe(1);
    expect(catalog.statsOf(other.user.id).purchases).toBe(1);
    expect(catalog.creatorName(other.user.id)).toBe('Otto');
  });

  it('notices new and archived contents', async () => {
    let t = 0;
    const catalog = new CatalogCache(s.lectern.database.db, { now: () => t, checkIntervalMs: 1000 });
    await catalog.refresh();
    const added = await s.api.content(creator.token, { title: 'New', price: 100, tags: ['math'] });
    await catalog.refresh();
    expect(catalog.item(added.id)).toBeUndefined(); // checked a moment ago
    t += 1000;
    await catalog.refresh();
    expect(catalog.item(added.id)).toBeDefined();
    await s.api.request('DELETE', `/api/contents/${added.id}`, { token: creator.token });
    t += 1000;
    await catalog.refresh();
    expect(catalog.item(added.id)).toBeUndefined();
  });
});

describe('training data from Postgres', () => {
  it('joins impressions with clicks and purchases within the window and keeps the held-out split', async () => {
    const db = s.lectern.database.db;
    const windowMs = 600_000;
    const ago = (ms: number) => new Date(Date.now() - ms);
    const context = (contentId: string) =>
      JSON.stringify({ user: { userId: viewer.user.id }, candidate: { contentId, price: 400 } });
    const rows = [
      // clicked within the window: positive
      { shown_at: ago(700_000), clicked_at: ago(650_000), purchased_at: null, dismissed_at: null, expect: 1 },
      // bought within the window: positive
      { shown_at: ago(700_000), clicked_at: null, purchased_at: ago(690_000), dismissed_at: null, expect: 1 },
      // clicked only after the window: negative
      { shown_at: ago(2_000_000), clicked_at: ago(1_000_000), purchased_at: null, dismissed_at: null, expect: 0 },
      // nothing, window over: negative
      { shown_at: ago(700_000), clicked_at: null, purchased_at: null, dismissed_at: null, expect: 0 },
      // dismissed, window still open: negative already
      { shown_at: ago(1000), clicked_at: null, purchased_at: null, dismissed_at: ago(500), expect: 0 },
      // nothing yet, window open: not labelled yet
      { shown_at: ago(1000), clicked_at: null, purchased_at: null, dismissed_at: null, expect: null },
    ];
    const ids: string[] = [];
    for (const r of rows) {
      const id = randomUUID();
      ids.push(id);
      await db
        .insertInto('recommendation_impressions')
        .values({
          id,
          user_id: viewer.user.id,
          content_id: contents.course.id,
          model_version: 'm1',
          score: 0.1,
          reason: 'test',
          shown_at: r.shown_at,
          clicked_at: r.clicked_at,
          purchased_at: r.purchased_at,
          dismissed_at: r.dismissed_at,
          context: context(id),
        })
        .execute();
    }
    const data = await loadTrainingData(db, {
      maxRows: 1000,
      labelWindowMs: windowMs,
      holdoutFraction: 0,
      heldOutSize: 10,
    });
    const labelled = data.examples.filter((e) => e.label !== undefined);
    const byId = new Map(labelled.map((e) => [e.candidate.contentId, e.label]));
    rows.forEach((r, i) => {
      expect(byId.get(ids[i]) ?? null).toBe(r.expect);
    });
    expect(data.counts.impressions).toBe(5);
    expect(data.counts.positives).toBe(2);

    // Purchases are implicit positives with the buyer as they were before each one.
    const implicit = data.examples.filter((e) => e.label === undefined && e.user.userId === viewer.user.id);
    expect(implicit.map((e) => e.candidate.contentId)).toEqual([contents.algebra.id, contents.stats.id, other.user.id]);
    expect(implicit.map((e) => e.user.history)).toEqual([
      [],
      [contents.algebra.id],
      [contents.algebra.id, contents.stats.id],
    ]);
    expect(implicit[2].candidate).toMatchObject({ kind: 'subscription', price: 999, creatorId: other.user.id });

    // The held-out split is the same fixed hash the online trainer uses.
    const split = await loadTrainingData(db, {
      maxRows: 1000,
      labelWindowMs: windowMs,
      holdoutFraction: 0.5,
      heldOutSize: 10,
    });
    const heldIds = split.heldOut.map((e) => e.candidate.contentId).sort();
    expect(heldIds).toEqual(ids.filter((id, i) => rows[i].expect !== null && isHeldOut(id, 0.5)).sort());
    await sql`DELETE FROM recommendation_impressions`.execute(db);
  });
});
