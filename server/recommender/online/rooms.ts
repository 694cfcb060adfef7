import type { Kysely } from 'kysely';
import type { DB } from '../../db';
import type { EngagementEvent } from '../../events';
import type { RoomEngagement, RoomInfo } from './types';

/** Rooms by id (owner, tags, live or not, session start), cached for a short while. */
export class RoomDirectory {
  private readonly cache = new Map<string, { info: RoomInfo; at: number }>();

  constructor(
    private readonly db: Kysely<DB>,
    private readonly ttlMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(roomIds: readonly string[]): Promise<Map<string, RoomInfo>> {
    const now = this.now();
    const missing = [...new Set(roomIds)].filter((id) => {
      const c = this.cache.get(id);
      return !c || now - c.at >= this.ttlMs;
    });
    if (missing.length > 0) {
      const rows = await this.db
        .selectFrom('rooms')
        .select(['id', 'owner_id', 'tags', 'status', 'started_at'])
        .where('id', 'in', missing)
        .execute();
      for (const r of rows) {
        this.cache.set(r.id, {
          at: now,
          info: {
            id: r.id,
            ownerId: r.owner_id,
            tags: r.tags,
            live: r.status === 'live',
            startedAt: r.started_at ? r.started_at.getTime() : null,
          },
        });
      }
    }
    const out = new Map<string, RoomInfo>();
    for (const id of roomIds) {
      const c = this.cache.get(id);
      if (c) out.set(id, c.info);
    }
    return out;
  }

  sweep(): void {
    const now = this.now();
    for (const [id, c] of this.cache) if (now - c.at > this.ttlMs * 10) this.cache.delete(id);
  }
}

interface Signal extends RoomEngagement {
  updatedAt: number;
}

/**
 * Each viewer's likes, chat messages and tips in each room, counted from the engagement events
 * this node records (the viewer's connection is here, so their events are too). Entries older
 * than a room session can be are forgotten.
 */
export class RoomSignals {
  private readonly signals = new Map<string, Signal>();

  constructor(
    private readonly maxAgeMs = 12 * 3600_000,
    private readonly now: () => number = Date.now,
  ) {}

  observe(event: EngagementEvent): void {
    if (!event.roomId || !event.userId) return;
    switch (event.type) {
      case 'chat.sent':
        this.entry(event.roomId, event.userId).chats++;
        break;
      case 'likes.sent':
        this.entry(event.roomId, event.userId).likes += event.data.count;
        break;
      case 'tip.sent':
        this.entry(event.roomId, event.userId).tipped += event.data.amount;
        break;
    }
  }

  /** The viewer's engagement in the room since `since` (the session start); zeros if none. */
  of(roomId: string, userId: string, since: number | null): RoomEngagement {
    const s = this.signals.get(key(roomId, userId));
    if (!s || (since !== null && s.updatedAt < since)) return { likes: 0, chats: 0, tipped: 0 };
    return { likes: s.likes, chats: s.chats, tipped: s.tipped };
  }

  sweep(): void {
    const cutoff = this.now() - this.maxAgeMs;
    for (const [k, s] of this.signals) if (s.updatedAt < cutoff) this.signals.delete(k);
  }

  private entry(roomId: string, userId: string): Signal {
    const k = key(roomId, userId);
    let s = this.signals.get(k);
    if (!s) {
      s = { likes: 0, chats: 0, tipped: 0, updatedAt: this.now() };
      this.signals.set(k, s);
    }
    s.updatedAt = this.now();
    return s;
  }
}

const key = (roomId: string, userId: string) => `${roomId}:${userId}`;
