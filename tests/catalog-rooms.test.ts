import { randomUUID } from 'node:crypto';
import { type Account, startTestServer, type TestServer } from './helpers/server';

let s: TestServer;
let creator: Account;
let other: Account;
beforeAll(async () => {
  s = await startTestServer();
  creator = await s.api.register('creator');
  other = await s.api.register('creator');
});
afterAll(() => s.close());

describe('contents', () => {
  it('are created, listed by creator / tag / kind, updated and archived by their creator only', async () => {
    const lesson = await s.api.content(creator.token, {
      title: 'Derivatives',
      price: 900,
      tags: ['Calculus', 'calculus', 'math'],
    });
    expect(lesson).toMatchObject({
      title: 'Derivatives',
      kind: 'lesson',
      price: 900,
      currency: 'USD',
      tags: ['calculus', 'math'],
      itemIds: [],
    });
    const course = await s.api.content(creator.token, {
      title: 'Calculus I',
      kind: 'course',
      price: 4900,
      itemIds: [lesson.id],
      tags: ['calculus'],
    });

    const byTag = await s.api.get('/api/contents?tag=calculus');
    expect(byTag.body.contents.map((c: { id: string }) => c.id).sort()).toEqual([lesson.id, course.id].sort());
    const byKind = await s.api.get(`/api/contents?creatorId=${creator.user.id}&kind=course`);
    expect(byKind.body.contents.map((c: { id: string }) => c.id)).toEqual([course.id]);

    const patch = await s.api.request('PATCH', `/api/contents/${lesson.id}`, {
      token: creator.token,
      body: { price: 1200, title: 'Derivatives, done right' },
    });
    expect(patch.body.content).toMatchObject({ price: 1200, title: 'Derivatives, done right' });
    const stolen = await s.api.request('PATCH', `/api/contents/${lesson.id}`, {
      token: other.token,
      body: { price: 1 },
    });
    expect(stolen.body.error.code).toBe('FORBIDDEN');
    expect((await s.api.request('DELETE', `/api/contents/${lesson.id}`, { token: other.token })).status).toBe(403);

    expect((await s.api.request('DELETE', `/api/contents/${lesson.id}`, { token: creator.token })).status).toBe(204);
    const after = await s.api.get('/api/contents?tag=calculus');
    expect(after.body.contents.map((c: { id: string }) => c.id)).toEqual([course.id]);
  });

  it('a course holds only its creator’s lessons; a bundle no bundles', async () => {
    const mine = await s.api.content(creator.token);
    const theirs = await s.api.content(other.token);
    const course = await s.api.content(creator.token, { kind: 'course', itemIds: [mine.id] });
    const bundle = await s.api.content(creator.token, { kind: 'bundle', itemIds: [course.id] });
    const attempts = [
      { kind: 'course', itemIds: [theirs.id] },
      { kind: 'course', itemIds: [course.id] },
      { kind: 'bundle', itemIds: [bundle.id] },
      { kind: 'bundle', itemIds: [mine.id, mine.id] },
      { kind: 'lesson', itemIds: [mine.id] },
      { kind: 'course', itemIds: [randomUUID()] },
    ];
    for (const fields of attempts) {
      const res = await s.api.post('/api/contents', { title: 't', price: 10, ...fields }, creator.token);
      expect([JSON.stringify(fields), res.status]).toEqual([JSON.stringify(fields), 400]);
    }
  });
});

describe('rooms', () => {
  it('go scheduled → live → ended, by their owner', async () => {
    const room = await s.api.room(creator.token, {
      title: 'Office hours',
      access: 'ticket',
      ticketPrice: 500,
      previewSeconds: 120,
      tags: ['math'],
    });
    expect(room).toMatchObject({
      status: 'scheduled',
      access: 'ticket',
      ticketPrice: 500,
      previewSeconds: 120,
      tags: ['math'],
    });
    expect(room.settings).toEqual({ slowModeSeconds: 0, subscribersOnlyChat: false, bannedWords: [] });

    expect((await s.api.post(`/api/rooms/${room.id}/start`, {}, other.token)).body.error.code).toBe('FORBIDDEN');
    const started = await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    expect(started.body.room.status).toBe('live');
    expect(started.body.room.startedAt).toEqual(expect.any(String));
    expect((await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token)).body.error.code).toBe('CONFLICT');

    const live = await s.api.get('/api/rooms?status=live');
    expect(live.body.rooms.map((r: { id: string }) => r.id)).toContain(room.id);

    expect((await s.api.post(`/api/rooms/${room.id}/end`, {}, other.token)).status).toBe(403);
    const ended = await s.api.post(`/api/rooms/${room.id}/end`, {}, creator.token);
    expect(ended.body.room).toMatchObject({ status: 'ended', endedAt: expect.any(String) });
    expect((await s.api.post(`/api/rooms/${room.id}/end`, {}, creator.token)).status).toBe(409);
    expect((await s.api.get('/api/rooms?status=live')).body.rooms.map((r: { id: string }) => r.id)).not.toContain(
      room.id,
    );
  });

  it.each([
    [{ title: 'x', access: 'ticket' }],
    [{ title: 'x', access: 'free', ticketPrice: 100 }],
    [{ title: 'x', access: 'vip' }],
    [{ title: '', access: 'free' }],
    [{ title: 'x', access: 'ticket', ticketPrice: 0 }],
    [{ title: 'x', access: 'subscribers', previewSeconds: 99999 }],
  ])('refuses a bad room %j', async (body) => {
    const res = await s.api.post('/api/rooms', body, creator.token);
    expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
  });

  it('announces lifecycle changes as domain events', async () => {
    const seen: string[] = [];
    const off1 = s.lectern.domain.on('room.started', ({ room }) => void seen.push(`started ${room.id}`));
    const off2 = s.lectern.domain.on('room.ended', ({ room }) => void seen.push(`ended ${room.id}`));
    const room = await s.api.room(creator.token);
    await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    await s.api.post(`/api/rooms/${room.id}/end`, {}, creator.token);
    off1();
    off2();
    expect(seen).toEqual([`started ${room.id}`, `ended ${room.id}`]);
  });
});
