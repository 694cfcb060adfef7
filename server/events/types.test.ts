import { randomUUID } from 'node:crypto';
import {
  decodeEvent,
  ENGAGEMENT_EVENT_TYPES,
  type EngagementEvent,
  EVENT_SCHEMA_VERSION,
  InvalidEventError,
  newEvent,
  validateEvent,
} from './types';

const roomId = randomUUID();
const userId = randomUUID();
const creatorId = randomUUID();
const contentId = randomUUID();
const suggestion = { modelVersion: 'm-2024-01', score: 0.82, position: 0 };

/** One valid event of every type. */
const samples: EngagementEvent[] = [
  newEvent('room.joined', { roomId, userId, data: { access: 'preview' } }),
  newEvent('room.joined', { roomId, data: { access: 'full' } }), // a guest
  newEvent('room.left', { roomId, userId, data: { reason: 'disconnected' } }),
  newEvent('watch.heartbeat', { roomId, userId, data: { seconds: 30, access: 'full' } }),
  newEvent('chat.sent', { roomId, userId, data: { messageId: randomUUID(), length: 12 } }),
  newEvent('likes.sent', { roomId, userId, data: { count: 40 } }),
  newEvent('tip.sent', { roomId, userId, creatorId, data: { tipId: randomUUID(), amount: 500, currency: 'USD' } }),
  newEvent('purchase.completed', {
    userId,
    creatorId,
    contentId,
    data: { purchaseId: randomUUID(), kind: 'content', amount: 1999, currency: 'USD' },
  }),
  newEvent('subscription.started', {
    userId,
    creatorId,
    data: { purchaseId: randomUUID(), amount: 900, currency: 'EUR', periodEnd: Date.now() + 30 * 86_400_000 },
  }),
  newEvent('purchase.refunded', {
    userId,
    creatorId,
    roomId,
    data: { purchaseId: randomUUID(), kind: 'ticket', amount: 500, fee: 50, currency: 'USD' },
  }),
  newEvent('question.asked', { roomId, userId, data: { questionId: randomUUID() } }),
  newEvent('question.upvoted', { roomId, userId, data: { questionId: randomUUID() } }),
  newEvent('question.answered', { roomId, creatorId, data: { questionId: randomUUID() } }),
  newEvent('suggestion.shown', { roomId, userId, contentId, data: suggestion }),
  newEvent('suggestion.clicked', { roomId, userId, contentId, data: suggestion }),
  newEvent('suggestion.dismissed', { roomId, userId, contentId, data: { modelVersion: 'm1', score: -1.5 } }),
  newEvent('poll.voted', { roomId, userId, data: { pollId: randomUUID(), option: 2 } }),
  newEvent('media.progress', {
    userId,
    creatorId,
    contentId,
    data: { item: 'content', seconds: 15, positionSeconds: 120, durationSeconds: 600 },
  }),
  newEvent('media.completed', {
    userId,
    creatorId,
    roomId,
    data: { item: 'replay', seconds: 0, positionSeconds: 590, durationSeconds: 600 },
  }),
  newEvent('creator.followed', { userId, creatorId, data: {} }),
  newEvent('creator.unfollowed', { userId, creatorId, data: {} }),
];

describe('engagement events', () => {
  it('builds a valid, frozen event of every type with a fresh id, the version and the time', () => {
    expect(new Set(samples.map((e) => e.type))).toEqual(new Set(ENGAGEMENT_EVENT_TYPES));
    for (const event of samples) {
      expect(event.v).toBe(EVENT_SCHEMA_VERSION);
      expect(Object.isFrozen(event) && Object.isFrozen(event.data)).toBe(true);
      expect(validateEvent(event)).toBe(event); // already checked: not copied again
      expect(validateEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
    }
    expect(new Set(samples.map((e) => e.id)).size).toBe(samples.length);
    expect(newEvent('likes.sent', { roomId, at: 1234, data: { count: 1 } }).at).toBe(1234);
  });

  it.each([
    ['an unknown type', { type: 'room.exploded' }],
    ['a missing required id', { userId: undefined }],
    ['a malformed id', { roomId: 'room-1' }],
    ['an unknown envelope field', { text: 'hello' }],
    ['an unknown data field', { data: { messageId: randomUUID(), length: 1, text: 'hello' } }],
    ['another schema version', { v: 2 }],
    ['a fractional time', { at: 1.5 }],
  ])('refuses %s', (_what, change) => {
    const base = JSON.parse(JSON.stringify(samples[4])); // chat.sent
    expect(() => validateEvent({ ...base, ...change })).toThrow(InvalidEventError);
  });

  it('names the offending fields', () => {
    try {
      validateEvent({ ...samples[6], data: { tipId: randomUUID(), amount: 0, currency: 'usd' } });
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidEventError);
      expect((err as InvalidEventError).message).toMatch(/^invalid engagement event \(tip.sent\): /);
      expect((err as InvalidEventError).issues.map((i) => i.path).sort()).toEqual(['data.amount', 'data.currency']);
    }
  });

  it('takes the fee of money events when given, and refuses a negative one', () => {
    const tip = JSON.parse(JSON.stringify(samples[6])); // tip.sent, recorded before fees: none
    expect(validateEvent(tip).data).not.toHaveProperty('fee');
    expect(validateEvent({ ...tip, data: { ...tip.data, fee: 0 } }).data).toMatchObject({ fee: 0 });
    expect(() => validateEvent({ ...tip, data: { ...tip.data, fee: -1 } })).toThrow(InvalidEventError);
    expect(() => validateEvent({ ...tip, data: { ...tip.data, fee: 1.5 } })).toThrow(InvalidEventError);
  });

  it('decodes stored events and explains what it cannot decode', () => {
    expect(decodeEvent(JSON.stringify(samples[0]))).toEqual({ event: samples[0] });
    expect(decodeEvent('{not json')).toEqual({ error: 'payload is not JSON' });
    expect(decodeEvent('{"type":"x"}')).toEqual({ error: expect.stringMatching(/^invalid engagement event/) });
  });
});
