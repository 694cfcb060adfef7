import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import { Limits, type Room, type RoomSettings } from '../../protocol';
import type { Principal } from '../auth';
import type { Config } from '../config';
import type { DB, RoomRow } from '../db';
import type { DomainEvents } from '../domain-events';
import { conflict, forbidden, invalidArgument, notFound } from '../errors';
import { id, parse, tags, title } from '../validation';

/** Live rooms: their lifecycle (scheduled → live → ended), access policy and settings. */
export interface RoomsService {
  create(owner: Principal, input: unknown): Promise<Room>;
  get(roomId: string): Promise<Room>;
  list(query: unknown): Promise<Room[]>;
  /** The owner changes the title, tags or whether the stream is recorded (from the next part on, when live). */
  update(actor: Principal, roomId: string, input: unknown): Promise<Room>;
  start(actor: Principal, roomId: string): Promise<Room>;
  end(actor: Principal, roomId: string): Promise<Room>;
  /**
   * Merges `patch` into the room's settings in one statement (concurrent changes of other fields
   * are kept); with `actorId`, the change is audited in `moderation_actions` in the same
   * transaction.
   */
  updateSettings(roomId: string, patch: Partial<RoomSettings>, actorId?: string): Promise<RoomSettings>;
  addLikes(roomId: string, count: number): Promise<number>;
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

export function toRoom(row: RoomRow): Room {
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
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    endedAt: row.ended_at?.toISOString() ?? null,
  };
}

const listSchema = z.strictObject({
  status: z.enum(['scheduled', 'live', 'ended']).optional(),
  ownerId: id.optional(),
  tag: z.string().trim().toLowerCase().max(Limits.tagMax).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

export function createRoomsService(deps: {
  db: Kysely<DB>;
  config: Pick<Config, 'currency' | 'maxPrice'>;
  events: DomainEvents;
}): RoomsService {
  const { db, config, events } = deps;
  const createSchema = z
    .strictObject({
      title,
      access: z.enum(['free', 'ticket', 'subscribers']),
      ticketPrice: z.number().int().min(1).max(config.maxPrice).optional(),
      previewSeconds: z.number().int().min(0).max(3600).default(0),
      tags: tags.default([]),
      settings: roomSettingsSchema.partial().optional(),
      record: z.boolean().default(true),
    })
    .refine((r) => (r.access === 'ticket') === (r.ticketPrice !== undefined), {
      message: 'ticketPrice is required for ticket rooms and only for them',
      path: ['ticketPrice'],
    });

  const updateSchema = z
    .strictObject({ title: title.optional(), tags: tags.optional(), record: z.boolean().optional() })
    .refine((p) => Object.keys(p).length > 0, { message: 'nothing to change' });

  async function get(roomId: string): Promise<Room> {
    const row = await db.selectFrom('rooms').selectAll().where('id', '=', parse(id, roomId)).executeTakeFirst();
    if (!row) throw notFound('room');
    return toRoom(row);
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
    return toRoom(row);
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
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const room = toRoom(row);
      events.emit('room.created', { room });
      return room;
    },

    get,

    async list(query) {
      const q = parse(listSchema, query);
      let select = db.selectFrom('rooms').selectAll();
      if (q.status) select = select.where('status', '=', q.status);
      if (q.ownerId) select = select.where('owner_id', '=', q.ownerId);
      if (q.tag) select = select.where(sql<boolean>`tags @> ARRAY[${q.tag}]::text[]`);
      const rows = await select
        .orderBy(sql`coalesce(started_at, created_at)`, 'desc')
        .orderBy('id')
        .limit(q.limit)
        .offset(q.offset)
        .execute();
      return rows.map(toRoom);
    },

    async update(actor, roomId, input) {
      const patch = parse(updateSchema, input);
      const room = await get(roomId);
      if (room.ownerId !== actor.id && actor.role !== 'admin') throw forbidden('only the room owner can do this');
      if (room.status === 'ended') throw conflict('the room has ended');
      const row = await db
        .updateTable('rooms')
        .set(patch)
        .where('id', '=', room.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const updated = toRoom(row);
      events.emit('room.updated', { room: updated });
      return updated;
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
  };
}
