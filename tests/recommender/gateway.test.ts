import { randomUUID } from 'node:crypto';
import type { SuggestionItem } from '../../protocol';
import type { EngagementEvent } from '../../server/events';
import { startTestServer, type TestServer } from '../helpers/server';
import { closeAllSockets, connect, eventually, next, ok, record, refused, sleep } from '../helpers/socket';

/**
 * End to end through the real gateway: a viewer in a live room gets a personalised `suggestion`
 * once the join grace is over (never before), clicks and dismissals are recorded as events and on
 * the impression rows, a purchase of a suggested item marks it, and the room's owner follows it
 * all through `suggestion:activity`. Short intervals make it quick; the trainer runs in its worker.
 */

let s: TestServer;
const events: EngagementEvent[] = [];

beforeAll(async () => {
  s = await startTestServer({
    RECOMMENDER_ENABLED: 'true',
    RECOMMENDER_TICK_MS: '100',
    RECOMMENDER_JOIN_GRACE_SECONDS: '1',
    RECOMMENDER_PUSH_INTERVAL_SECONDS: '1',
    RECOMMENDER_DISMISS_COOLDOWN_SECONDS: '3600',
    RECOMMENDER_ACTIVITY_INTERVAL_SECONDS: '1',
    RECOMMENDER_LABEL_WINDOW_SECONDS: '60',
  });
  // Everything appended to the engagement stream, as a consumer of it would see it.
  const publish = s.lectern.engagement.publisher.publish.bind(s.lectern.engagement.publisher);
  s.lectern.engagement.publisher.publish = (event) => {
    events.push(event);
    return publish(event);
  };
});
afterAll(async () => {
  closeAllSockets();
  await s.close();
});

it('pushes suggestions after the grace, takes clicks and dismissals, and reports to the owner', async () => {
  const creator = await s.api.register('creator');
  const other = await s.api.register('creator');
  const owned = await s.api.content(creator.token, { title: 'Already mine', price: 300, tags: ['math'] });
  const algebra = await s.api.content(creator.token, { title: 'Algebra', price: 500, tags: ['math'] });
  const geometry = await s.api.content(creator.token, { title: 'Geometry', price: 700, tags: ['math'] });
  const related = await s.api.content(other.token, { title: 'Statistics', price: 900, tags: ['math', 'stats'] });
  await s.api.content(other.token, { title: 'Free intro', price: 0, tags: ['math'] });
  const room = await s.api.room(creator.token, { title: 'Live maths', tags: ['math'] });
  await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);

  const viewer = await s.api.register();
  await s.api.topUp(viewer.token, 5000);
  await s.api.post('/api/purchases', { contentId: owned.id }, viewer.token, randomUUID());

  const owner = await connect(s.url, creator.token);
  await ok(owner, 'room:join', { roomId: room.id });
  const activity = record(owner, 'suggestion:activity');
  const sock = await connect(s.url, viewer.token);
  const suggestions = record(sock, 'suggestion');
  const joinedAt = Date.now();
  await ok(sock, 'room:join', { roomId: room.id });

  const first = await next(sock, 'suggestion', () => true, 15_000);
  expect(Date.now() - joinedAt).toBeGreaterThanOrEqual(1000); // not within the join grace
  expect(first.roomId).toBe(room.id);
  expect(first.modelVersion).toBeTruthy();
  expect(first.items.length).toBeGreaterThanOrEqual(1);
  expect(first.items.length).toBeLessThanOrEqual(3);
  const ids = (items: SuggestionItem[]) => items.map((i) => i.contentId);
  const allowed = [algebra.id, geometry.id, related.id];
  for (const item of first.items) {
    expect(allowed).toContain(item.contentId); // never owned, never free
    expect(item.title).toBeTruthy();
    expect(item.reason).toBeTruthy();
    expect(item.price).toBeGreaterThan(0);
  }

  // Every item shown is an impression row and a suggestion.shown event with the same id.
  const rows = await s.lectern.database.db
    .selectFrom('recommendation_impressions')
    .selectAll()
    .where('user_id', '=', viewer.user.id)
    .execute();
  expect(rows.length).toBeGreaterThanOrEqual(first.items.length);
  const shown = events.filter((e) => e.type === 'suggestion.shown' && e.userId === viewer.user.id);
  expect(shown.map((e) => e.id).sort()).toEqual(expect.arrayContaining(rows.map((r) => r.id)));

  // A click is recorded once, as an event and on the row.
  const clicked = first.items[0].contentId;
  await ok(sock, 'suggestion:click', { roomId: room.id, contentId: clicked });
  await ok(sock, 'suggestion:click', { roomId: room.id, contentId: clicked });
  const clicks = events.filter((e) => e.type === 'suggestion.clicked' && e.contentId === clicked);
  expect(clicks).toHaveLength(1);
  expect(clicks[0]).toMatchObject({
    roomId: room.id,
    userId: viewer.user.id,
    data: { modelVersion: first.modelVersion },
  });

  // Buying it marks the impression purchased; the owner sees shown / clicked / purchased.
  await ok(sock, 'purchase:create', { contentId: clicked, idempotencyKey: randomUUID() });
  await eventually(
    () =>
      activity.some((a) => a.roomId === room.id && a.items.some((i) => i.contentId === clicked && i.purchased === 1)),
    15_000,
    'owner sees the purchase',
  );
  const report = activity.filter((a) => a.roomId === room.id).at(-1)!;
  const line = report.items.find((i) => i.contentId === clicked)!;
  expect(line).toMatchObject({ shown: 1, clicked: 1, purchased: 1 });
  expect(line.title).toBeTruthy();

  // The bought item is never suggested again.
  const before = suggestions.length;
  await eventually(() => suggestions.length > before, 15_000, 'another suggestion');
  expect(ids(suggestions.at(-1)!.items)).not.toContain(clicked);

  // A dismissal is recorded, and nothing more is pushed during the cooldown.
  const dismissed = suggestions.at(-1)!.items[0].contentId;
  await ok(sock, 'suggestion:dismiss', { roomId: room.id, contentId: dismissed });
  expect(events.some((e) => e.type === 'suggestion.dismissed' && e.contentId === dismissed)).toBe(true);
  const afterDismiss = suggestions.length;
  await sleep(2500); // more than two push intervals
  expect(suggestions.length).toBe(afterDismiss);

  // Feedback about something never suggested to this viewer is refused.
  expect(await refused(sock, 'suggestion:click', { roomId: room.id, contentId: randomUUID() })).toBe('NOT_FOUND');

  const status = s.lectern.recommender!.status();
  expect(status.pushes.suggestions).toBeGreaterThanOrEqual(2);
  expect(status.feedback).toEqual({ clicks: 1, dismissals: 1 });
});

it('suggests nothing to guests, to viewers without access, or to the owner', async () => {
  const creator = await s.api.register('creator');
  await s.api.content(creator.token, { price: 500, tags: ['art'] });
  const room = await s.api.room(creator.token, { access: 'ticket', ticketPrice: 300, tags: ['art'] });
  await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
  const owner = await connect(s.url, creator.token);
  await ok(owner, 'room:join', { roomId: room.id });
  const viewer = await s.api.register();
  const sock = await connect(s.url, viewer.token); // no ticket, no preview: access none
  const guest = await connect(s.url);
  const got = [record(sock, 'suggestion'), record(guest, 'suggestion'), record(owner, 'suggestion')];
  expect((await ok(sock, 'room:join', { roomId: room.id })).access).toBe('none');
  await ok(guest, 'room:join', { roomId: room.id });
  await sleep(2500);
  expect(got.map((list) => list.length)).toEqual([0, 0, 0]);
});
