import { z } from 'zod';
import { Limits } from '../../protocol';
import { roomSettingsSchema } from '../rooms';
import { id, idempotencyKey } from '../validation';
import type { ClientEvent, PayloadOf } from './types';

/** Printable text: no control characters other than newline and tab; `min` 0 allows empty. */
const text = (max: number, min = 1) =>
  z
    .string()
    .trim()
    .min(min, 'must not be empty')
    .max(max, `at most ${max} characters`)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
    .refine((t) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(t), 'control characters are not allowed');

const roomRef = { roomId: id };
/** A price the buyer saw, in minor units (the server checks it against the one it would charge). */
const price = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
/** A mediasoup parameter object: checked in depth by mediasoup itself; here only its shape. */
const json = z.record(z.string(), z.unknown());
const target = { ...roomRef, userId: id, reason: text(Limits.moderationReasonMax, 0).optional() };

/**
 * A strict schema per client event: unknown fields, wrong types and oversized strings are
 * refused with INVALID_ARGUMENT before any handler runs.
 */
export const eventSchemas: { [E in ClientEvent]: z.ZodType<PayloadOf<E>> } = {
  'room:join': z.strictObject(roomRef),
  'room:leave': z.strictObject(roomRef),
  'chat:send': z.strictObject({ ...roomRef, text: text(Limits.chatTextMax) }),
  'poll:create': z.strictObject({
    ...roomRef,
    question: text(Limits.pollQuestionMax),
    options: z.array(text(Limits.pollOptionMax)).min(Limits.pollOptionsMin).max(Limits.pollOptionsMax),
    durationSeconds: z.number().int().min(Limits.pollDurationMin).max(Limits.pollDurationMax).optional(),
  }),
  'poll:vote': z.strictObject({
    ...roomRef,
    pollId: id,
    option: z
      .number()
      .int()
      .min(0)
      .max(Limits.pollOptionsMax - 1),
  }),
  'poll:close': z.strictObject({ ...roomRef, pollId: id }),
  'chat:delete': z.strictObject({ ...roomRef, messageId: id }),
  'like:send': z.strictObject({ ...roomRef, count: z.number().int().min(1).max(Limits.likesPerEventMax) }),
  'tip:send': z.strictObject({
    ...roomRef,
    amount: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    message: text(Limits.tipMessageMax, 0).optional(),
    idempotencyKey,
  }),
  'purchase:create': z.union([
    z.strictObject({ contentId: id, fromRoomId: id.optional(), expectedPrice: price.optional(), idempotencyKey }),
    z.strictObject({ roomId: id, expectedPrice: price.optional(), idempotencyKey }),
  ]),
  'subscription:create': z.strictObject({
    creatorId: id,
    fromRoomId: id.optional(),
    expectedPrice: price.optional(),
    idempotencyKey,
  }),
  'question:ask': z.strictObject({ ...roomRef, text: text(Limits.questionTextMax) }),
  'question:upvote': z.strictObject({ ...roomRef, questionId: id }),
  'question:answer': z.strictObject({ ...roomRef, questionId: id }),
  'moderation:mute': z.strictObject({
    ...target,
    seconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86400),
  }),
  'moderation:unmute': z.strictObject(target),
  'moderation:ban': z.strictObject(target),
  'moderation:unban': z.strictObject(target),
  'moderation:settings': z.strictObject({ ...roomRef, settings: roomSettingsSchema.partial() }),
  'moderation:moderator': z.strictObject({ ...roomRef, userId: id, grant: z.boolean() }),
  'moderation:list': z.strictObject(roomRef),

  'media:join': z.strictObject(roomRef),
  'media:transport:create': z.strictObject({ ...roomRef, direction: z.enum(['send', 'recv']) }),
  'media:transport:connect': z.strictObject({ ...roomRef, transportId: id, dtlsParameters: json }),
  'media:transport:restart-ice': z.strictObject({ ...roomRef, transportId: id }),
  'media:produce': z.strictObject({
    ...roomRef,
    transportId: id,
    kind: z.enum(['audio', 'video']),
    rtpParameters: json,
    source: z.enum(['camera', 'microphone', 'screen', 'screenAudio']),
  }),
  'media:producer:pause': z.strictObject({ ...roomRef, producerId: id }),
  'media:producer:resume': z.strictObject({ ...roomRef, producerId: id }),
  'media:producer:close': z.strictObject({ ...roomRef, producerId: id }),
  'media:consume': z.strictObject({ ...roomRef, transportId: id, producerId: id, rtpCapabilities: json }),
  'media:consumer:resume': z.strictObject({ ...roomRef, consumerId: id }),
  'media:consumer:pause': z.strictObject({ ...roomRef, consumerId: id }),
  'media:consumer:layers': z.strictObject({
    ...roomRef,
    consumerId: id,
    spatialLayer: z.number().int().min(0).max(3),
    temporalLayer: z.number().int().min(0).max(3).optional(),
  }),
  'media:leave': z.strictObject(roomRef),

  'suggestion:click': z.strictObject({ ...roomRef, contentId: id }),
  'suggestion:dismiss': z.strictObject({ ...roomRef, contentId: id }),
};
