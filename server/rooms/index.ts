import type { IncomingMessage } from 'node:http';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import { Limits, type Room, type RoomListItem, type RoomSettings } from '../../protocol';
import type { Principal } from '../auth';
import type { Config } from '../config';
import type { DB, RoomRow } from '../db';
import type { DomainEvents } from '../domain-events';
import { conflict, forbidden, invalidArgument, notFound } from '../errors';
import { MediaKeys, mediaUrl } from '../storage';
import { id, parse, tags, title } from '../validation';
import { IMAGE_BOXES, type PublicImages } from '../vod';
import { createModerationStore, type ModerationStore } from './moderation';
import { createQuestionStore, type QuestionStore } from './questions';

/** Live rooms: their lifecycle (scheduled → live → ended), access policy and settings. */
export interface RoomsService {
  create(owner: Principal, input: unknown): Promise<Room>;
  get(roomId: string): Promise<Room>;
  /**
   * Rooms with their creators. Scheduled rooms come soonest start first (those without a start
   * time last, past-due ones until started or ended); the others latest first.
   */
  list(query: unknown): Promise<RoomListItem[]>;
  /**
   * The owner changes the title, description, tags, start time (while scheduled) or whether the
   * stream is recorded (from the next part on, when live).
   */
  update(actor: Principal, roomId: string, input: unknown): Promise<Room>;
  /** A new cover from the request's image (re-encoded within 1280×720); the old one is deleted. */
  setCover(actor: Principal, roomId: string, req: IncomingMessage): Promise<Room>;
  start(actor: Principal, roomId: string): Promise<Room>;
  end(actor: Principal, roomId: string): Promise<Room>;
  /**
   * Merges `patch` into the room's settings in one statement (concurrent changes of other fields
   * are kept); with `actorId`, the change is audited in `moderation_actions` in the same
   * transaction.
   */
  updateSettings(roomId: string, patch: Partial<RoomSettings>, actorId?: string): Promise<RoomSettings>;
  addLikes(roomId: string, count: number): Promise<number>;
  /** The rooms' like totals (a room that does not exist is left out). */
  likesTotals(roomIds: string[]): Promise<Map<string, number>>;
  /** When this viewer's free preview of the room began: now, on their first visit. */
  previewStart(roomId: string, userId: string): Promise<Date>;
  readonly questions: QuestionStore;
  readonly moderation: ModerationStore;
}

export const DEFAULT_ROOM_SETTINGS: RoomSettings = { slowModeSeconds: 0, subscribersOnlyChat: false, bannedWords: [] };

export const roomSettingsSchema = z.strictObject({
  slowModeSeconds: z.number().int().min(0).max(Limits.slowModeSecondsMax),
  subscribersOnlyChat: z.boolean(),
  bannedWords: z
    .array(z.string().trim().toLowerCase().min(1).max(Limits.tagMax))
    .max(Limits.bannedWordsMax)
    .transform((w) => [...new Set(w)]),
});

/** How far ahead a room can be scheduled. */
const MAX_SCHEDULE_AHEAD_MS = 366 * 86_400_000;

/** A start time: ISO-8601 with a zone, in the future (and within a year). */
const startTime = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 date and time with a time zone' })
  .transform((text) => new Date(text))
  .refine((at) => at.getTime() > Date.now(), { message: 'must be in the future' })
  .refine((at) => at.getTime() <= Date.now() + MAX_SCHEDULE_AHEAD_MS, { message: 'must be within a year' });

const description = z.string().trim().max(Limits.descriptionMax);

export function toRoom(row: RoomRow, config: Pick<Config, 'mediaPublicBaseUrl'>): Room {
  return {
    id: row.id,
    ownerId: row.owner_id,
    title: row.title,
    tags: row.tags,
    status: row.status,
    access: row.access,
    ticketPrice: row.ticket_price,
    previewSeconds: row.preview_seconds,
    currency: row.currency,
    settings: { ...DEFAULT_ROOM_SETTINGS, ...(row.settings as Partial<RoomSettings>) },
    likesTotal: row.likes_total,
    record: row.record,
    hasReplay: row.replay_asset_id !== null,
    description: row.description,
    coverUrl: row.cover_key ? mediaUrl(config, row.cover_key) : null,
    scheduledAt: row.scheduled_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    endedAt: row.ended_at?.toISOString() ?? null,
  };
}

/** Rooms (`r`) with their creator's name and avatar: what a room list item is made of. */
export function selectRoomListRows(db: Kysely<DB>) {
  return db
    .selectFrom('rooms as r')
    .innerJoin('users as u', 'u.id', 'r.owner_id')
    .leftJoin('creator_profiles as p', 'p.user_id', 'r.owner_id')
    .selectAll('r')
    .select([sql<string>`coalesce(nullif(p.display_name, ''), u.username)`.as('creator_name'), 'p.avatar_key']);
}

/** A row of {@link selectRoomListRows} as `GET /api/rooms` lists it (without a viewer count). */
export function toRoomListItem(
  { creator_name, avatar_key, ...row }: RoomRow & { creator_name: string; avatar_key: string | null },
  config: Pick<Config, 'mediaPublicBaseUrl'>,
): RoomListItem {
  return {
    ...toRoom(row, config),
    creator: {
      userId: row.owner_id,
      displayName: creator_name,
      avatarUrl: avatar_key ? mediaUrl(config, avatar_key) : null,
    },
  };
}

export const listSchema = z.strictObject({
  status: z.enum(['scheduled', 'live', 'ended']).optional(),
  /** `true`: scheduled rooms that have a start time (what a page lists as upcoming). */
  upcoming: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  ownerId: id.optional(),
  tag: z.string().trim().toLowerCase().max(Limits.tagMax).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

/** The bodies the rooms service validates (also the API's OpenAPI description, server/http/openapi.ts). */
export function roomSchemas(config: Pick<Config, 'maxPrice'>) {
  const create = z
    .strictObject({
      title,
      access: z.enum(['free', 'ticket', 'subscribers']),
      ticketPrice: z.number().int().min(1).max(config.maxPrice).optional(),
      previewSeconds: z.number().int().min(0).max(3600).default(0),
      tags: tags.default([]),
      settings: roomSettingsSchema.partial().optional(),
      record: z.boolean().default(true),
      description: description.default(''),
      scheduledAt: startTime.optional(),
    })
    .refine((r) => (r.access === 'ticket') === (r.ticketPrice !== undefined), {
      message: 'ticketPrice is required for ticket rooms and only for them',
      path: ['ticketPrice'],
    });

  const update = z
    .strictObject({
      title: title.optional(),
      tags: tags.optional(),
      record: z.boolean().optional(),
      description: description.optional(),
      /** null: no planned start time any more. */
      scheduledAt: startTime.nullable().optional(),
    })
    .refine((p) => Object.keys(p).length > 0, { message: 'nothing to change' });
  return { create, update };
}

export function createRoomsService(deps: {
  db: Kysely<DB>;
  config: Pick<Config, 'currency' | 'maxPrice' | 'mediaPublicBaseUrl'>;
  events: DomainEvents;
  images: PublicImages;
}): RoomsService {
  const { db, config, events, images } = deps;
  const { create: createSchema, update: updateSchema } = roomSchemas(config);

  async function get(roomId: string): Promise<Room> {
    const row = await db.selectFrom('rooms').selectAll().where('id', '=', parse(id, roomId)).executeTakeFirst();
    if (!row) throw notFound('room');
    return toRoom(row, config);
  }

  /** The room, if the actor may change it and it has not ended. */
  async function ownOpenRoom(actor: Principal, roomId: string): Promise<Room> {
    const room = await get(roomId);
    if (room.ownerId !== actor.id && actor.role !== 'admin') throw forbidden('only the room owner can do this');
    if (room.status === 'ended') throw conflict('the room has ended');
    return room;
  }

  /** Moves a room to `to` if the actor may and the room is in one of `from`. */
  async function transition(actor: Principal, roomId: string, from: Room['status'][], to: 'live' | 'ended') {
    const room = await get(roomId);
    if (room.ownerId !== actor.id && actor.role !== 'admin') throw forbidden('only the room owner can do this');
    const stamp = to === 'live' ? 'started_at' : 'ended_at';
    const row = await db
      .updateTable('rooms')
      .set({ status: to, [stamp]: sql<Date>`now()` })
      .where('id', '=', room.id)
      .where('status', 'in', from)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw conflict(`the room is ${room.status}`);
    return toRoom(row, config);
  }

  return {
    async create(owner, input) {
      if (owner.role !== 'creator' && owner.role !== 'admin') throw forbidden('only creators can open rooms');
      const r = parse(createSchema, input);
      const row = await db
        .insertInto('rooms')
        .values({
          owner_id: owner.id,
          title: r.title,
          tags: r.tags,
          access: r.access,
          ticket_price: r.ticketPrice ?? null,
          preview_seconds: r.access === 'free' ? 0 : r.previewSeconds,
          currency: config.currency,
          settings: JSON.stringify({ ...DEFAULT_ROOM_SETTINGS, ...r.settings }),
          record: r.record,
          description: r.description,
          scheduled_at: r.scheduledAt ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const room = toRoom(row, config);
      events.emit('room.created', { room });
      return room;
    },

    get,

    async list(query) {
      const q = parse(listSchema, query);
      if (q.upcoming && q.status && q.status !== 'scheduled') {
        throw invalidArgument('upcoming rooms are scheduled ones: leave status out or make it scheduled');
      }
      const status = q.upcoming ? 'scheduled' : q.status;
      let select = selectRoomListRows(db);
      if (status) select = select.where('r.status', '=', status);
      if (q.upcoming) select = select.where('r.scheduled_at', 'is not', null);
      if (q.ownerId) select = select.where('r.owner_id', '=', q.ownerId);
      if (q.tag) select = select.where(sql<boolean>`r.tags @> ARRAY[${q.tag}]::text[]`);
      select =
        status === 'scheduled'
          ? select.orderBy(sql`r.scheduled_at ASC NULLS LAST`).orderBy('r.created_at', 'desc')
          : select.orderBy(sql`coalesce(r.started_at, r.created_at)`, 'desc');
      const rows = await select.orderBy('r.id').limit(q.limit).offset(q.offset).execute();
      return rows.map((row) => toRoomListItem(row, config));
    },

    async update(actor, roomId, input) {
      const { scheduledAt, ...patch } = parse(updateSchema, input);
      const room = await ownOpenRoom(actor, roomId);
      if (scheduledAt !== undefined && room.status !== 'scheduled') {
        throw conflict('the room is already live: its start time cannot change');
      }
      const row = await db
        .updateTable('rooms')
        .set({ ...patch, ...(scheduledAt === undefined ? {} : { scheduled_at: scheduledAt }) })
        .where('id', '=', room.id)
        .where('status', '<>', 'ended')
        .returningAll()
        .executeTakeFirst();
      if (!row) throw conflict('the room has ended');
      const updated = toRoom(row, config);
      events.emit('room.updated', { room: updated });
      return updated;
    },

    async setCover(actor, roomId, req) {
      const room = await ownOpenRoom(actor, roomId);
      const key = MediaKeys.roomCover(room.id, Date.now().toString(36));
      await images.save(req, key, IMAGE_BOXES.cover, 'a cover');
      const replaced = await db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('rooms')
          .select('cover_key')
          .where('id', '=', room.id)
          .forUpdate()
          .executeTakeFirstOrThrow();
        const row = await trx
          .updateTable('rooms')
          .set({ cover_key: key })
          .where('id', '=', room.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return { old: before.cover_key, room: toRoom(row, config) };
      });
      await images.discard(replaced.old);
      events.emit('room.updated', { room: replaced.room });
      return replaced.room;
    },

    async start(actor, roomId) {
      const room = await transition(actor, roomId, ['scheduled'], 'live');
      events.emit('room.started', { room });
      return room;
    },

    async end(actor, roomId) {
      const room = await transition(actor, roomId, ['scheduled', 'live'], 'ended');
      events.emit('room.ended', { room });
      return room;
    },

    async updateSettings(roomId, patch, actorId) {
      const room = parse(id, roomId);
      // Each field is valid on its own, so any merge of valid fields is valid.
      const valid = parse(roomSettingsSchema.partial(), patch);
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('rooms')
          .set({ settings: sql`settings || ${JSON.stringify(valid)}::jsonb` })
          .where('id', '=', room)
          .returning('settings')
          .executeTakeFirst();
        if (!row) throw notFound('room');
        if (actorId) {
          await trx
            .insertInto('moderation_actions')
            .values({ room_id: room, actor_id: actorId, action: 'settings', detail: JSON.stringify(valid) })
            .execute();
        }
        return { ...DEFAULT_ROOM_SETTINGS, ...(row.settings as Partial<RoomSettings>) };
      });
    },

    async addLikes(roomId, count) {
      if (!Number.isSafeInteger(count) || count < 0) throw invalidArgument('bad like count');
      const row = await db
        .updateTable('rooms')
        .set((eb) => ({ likes_total: eb('likes_total', '+', count) }))
        .where('id', '=', roomId)
        .returning('likes_total')
        .executeTakeFirst();
      if (!row) throw notFound('room');
      return row.likes_total;
    },

    async likesTotals(roomIds) {
      if (roomIds.length === 0) return new Map();
      const rows = await db.selectFrom('rooms').select(['id', 'likes_total']).where('id', 'in', roomIds).execute();
      return new Map(rows.map((r) => [r.id, r.likes_total]));
    },

    async previewStart(roomId, userId) {
      const row = await db
        .insertInto('room_previews')
        .values({ room_id: roomId, user_id: userId })
        .onConflict((oc) =>
          oc.columns(['room_id', 'user_id']).doUpdateSet({ user_id: (eb) => eb.ref('room_previews.user_id') }),
        )
        .returning('started_at')
        .executeTakeFirstOrThrow();
      return row.started_at;
    },

    questions: createQuestionStore(db),
    moderation: createModerationStore(db),
  };
}
