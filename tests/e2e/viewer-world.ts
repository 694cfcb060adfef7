import { randomUUID } from 'node:crypto';
import type { Account, TestServer } from '../helpers/server';
import { connect, ok } from '../helpers/socket';

/**
 * A small world for the viewer's pages: a creator with a profile, a subscription price, two
 * lessons and a course of both, a live ticket room, a live free room, an upcoming room and an
 * ended one; a viewer who bought the first lesson, a ticket, a subscription and tipped, and
 * had one purchase refunded; a second viewer with an empty wallet.
 */
export interface World {
  creator: Account;
  viewer: Account;
  broke: Account;
  admin: Account;
  lessons: { first: Content; second: Content; third: Content };
  course: Content;
  rooms: { ticket: Room; free: Room; upcoming: Room; ended: Room };
}

interface Content {
  id: string;
  title: string;
  price: number;
}
interface Room {
  id: string;
  title: string;
}

export async function seedWorld(server: TestServer): Promise<World> {
  const { api } = server;
  const creator = await api.register('creator', `ada_${randomUUID().slice(0, 6)}`);
  await api.request('PATCH', '/api/creators/me', {
    token: creator.token,
    body: {
      displayName: 'Ada Lovelace',
      bio: 'Numerical analysis, by hand and by machine.',
      tags: ['math'],
      subscriptionPrice: 999,
      subscriptionPeriodDays: 30,
    },
  });
  const first = await api.content(creator.token, { title: 'Newton’s method', price: 500, tags: ['math'] });
  const second = await api.content(creator.token, { title: 'Fixed points', price: 900, tags: ['math'] });
  const third = await api.content(creator.token, { title: 'Floating point, honestly', price: 300 });
  const course = await api.content(creator.token, {
    title: 'Root finding, the course',
    kind: 'course',
    price: 1200,
    itemIds: [first.id, second.id],
    description: 'Two lessons on finding roots.',
  });

  const ticket = await api.room(creator.token, { title: 'Office hours: roots', access: 'ticket', ticketPrice: 500 });
  const free = await api.room(creator.token, { title: 'Open Q&A', access: 'free' });
  const upcoming = await api.room(creator.token, {
    title: 'Next week: splines',
    access: 'subscribers',
    scheduledAt: new Date(Date.now() + 3 * 86_400_000).toISOString(),
  });
  const ended = await api.room(creator.token, { title: 'Last week: bisection', access: 'free', record: false });
  for (const room of [ticket, free, ended]) await api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
  await api.post(`/api/rooms/${ended.id}/end`, {}, creator.token);

  const viewer = await api.register('viewer', `amy_${randomUUID().slice(0, 6)}`);
  await api.topUp(viewer.token, 5000);
  const buy = async (body: Record<string, string>) => {
    const res = await api.post('/api/purchases', body, viewer.token, randomUUID());
    if (res.status !== 201) throw new Error(`purchase failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.purchase as { id: string };
  };
  await buy({ contentId: first.id });
  await buy({ roomId: ticket.id });
  const refunded = await buy({ contentId: third.id });
  const sub = await api.post('/api/subscriptions', { creatorId: creator.user.id }, viewer.token, randomUUID());
  if (sub.status !== 201) throw new Error(`subscribe failed: ${sub.status}`);
  const socket = await connect(server.url, viewer.token);
  await ok(socket, 'room:join', { roomId: free.id });
  await ok(socket, 'tip:send', { roomId: free.id, amount: 200, message: 'Thank you!', idempotencyKey: randomUUID() });
  socket.close();
  const admin = await server.admin();
  const refund = await api.post(`/api/admin/purchases/${refunded.id}/refund`, {}, admin.token, randomUUID());
  if (refund.status !== 200) throw new Error(`refund failed: ${refund.status} ${JSON.stringify(refund.body)}`);

  const broke = await api.register('viewer', `ben_${randomUUID().slice(0, 6)}`);
  return {
    creator,
    viewer,
    broke,
    admin,
    lessons: { first, second, third },
    course,
    rooms: { ticket, free, upcoming, ended },
  };
}
