import { randomUUID } from 'node:crypto';
import type { Purchase, Tip } from '../../protocol';
import { engagementEventOf } from './domain-bridge';

/** Money domain events become the engagement events analytics reads: the room a sale counts for, its fee. */

const at = new Date('2026-03-01T10:00:00Z');
const creatorId = randomUUID();
const buyerId = randomUUID();

const purchase = (fields: Partial<Purchase>): Purchase => ({
  id: randomUUID(),
  buyerId,
  kind: 'content',
  contentId: randomUUID(),
  roomId: null,
  creatorId,
  amount: 900,
  fee: 90,
  currency: 'USD',
  status: 'completed',
  createdAt: at.toISOString(),
  refundedAt: null,
  fromRoomId: null,
  ...fields,
});

describe('the domain bridge', () => {
  it('gives a content sale the room it was bought from, and its fee', () => {
    const roomId = randomUUID();
    const p = purchase({ fromRoomId: roomId });
    const event = engagementEventOf({ id: randomUUID(), topic: 'purchase.completed', payload: { purchase: p }, at });
    expect(event).toMatchObject({
      type: 'purchase.completed',
      roomId,
      contentId: p.contentId,
      at: at.getTime(),
      data: { purchaseId: p.id, kind: 'content', amount: 900, fee: 90 },
    });
  });

  it('gives a sale made elsewhere no room', () => {
    const event = engagementEventOf({
      id: randomUUID(),
      topic: 'purchase.completed',
      payload: { purchase: purchase({}) },
      at,
    });
    expect(event).not.toHaveProperty('roomId');
  });

  it('records a refund with what its sale carried: the room, the amount and the fee', () => {
    const roomId = randomUUID();
    const p = purchase({ kind: 'ticket', contentId: null, roomId, status: 'refunded', refundedAt: at.toISOString() });
    const id = randomUUID();
    expect(engagementEventOf({ id, topic: 'purchase.refunded', payload: { purchase: p }, at })).toMatchObject({
      id,
      type: 'purchase.refunded',
      userId: buyerId,
      creatorId,
      roomId,
      data: { purchaseId: p.id, kind: 'ticket', amount: 900, fee: 90, currency: 'USD' },
    });
  });

  it('gives a subscription bought from a room that room, and its fee', () => {
    const roomId = randomUUID();
    const p = purchase({ kind: 'subscription', contentId: null, fromRoomId: roomId, amount: 1000, fee: 100 });
    const payload = { purchase: p, subscriberId: buyerId, creatorId, periodEnd: '2026-04-01T10:00:00.000Z' };
    expect(engagementEventOf({ id: randomUUID(), topic: 'subscription.started', payload, at })).toMatchObject({
      type: 'subscription.started',
      roomId,
      data: { purchaseId: p.id, amount: 1000, fee: 100 },
    });
    // Recorded once, as subscription.started.
    expect(
      engagementEventOf({ id: randomUUID(), topic: 'purchase.completed', payload: { purchase: p }, at }),
    ).toBeNull();
  });

  it("carries a tip's fee when its row has one (older rows have none)", () => {
    const tip: Tip = {
      id: randomUUID(),
      roomId: randomUUID(),
      user: { id: buyerId, username: 'amy' },
      amount: 200,
      currency: 'USD',
      message: null,
      pinnedUntil: null,
      createdAt: at.toISOString(),
    };
    const withFee = engagementEventOf({
      id: randomUUID(),
      topic: 'tip.created',
      payload: { tip, creatorId, fee: 20 },
      at,
    });
    expect(withFee).toMatchObject({
      type: 'tip.sent',
      roomId: tip.roomId,
      data: { tipId: tip.id, amount: 200, fee: 20 },
    });
    const older = engagementEventOf({ id: randomUUID(), topic: 'tip.created', payload: { tip, creatorId }, at });
    expect(older?.data).not.toHaveProperty('fee');
  });
});
