import { type Kysely, sql } from 'kysely';
import type { SuggestionActivity } from '../../../protocol';
import type { DB } from '../../db';
import type { RoomAudience } from '../../gateway';
import type { CatalogCache } from './catalog';
import type { RoomDirectory } from './rooms';

const MAX_ITEMS = 20;

/**
 * Tells each room's owner what the recommender is suggesting in their room this session and how
 * it lands: per item, how many viewers it was shown to, clicked by and bought by. Counted in
 * Postgres (impressions since the session started), so it is right whichever node pushed or
 * took the purchase; sent when it changed, and again now and then for an owner who just arrived.
 */
export class ActivityReporter {
  private readonly touched = new Set<string>();
  private readonly lastSent = new Map<string, { body: string; at: number }>();

  constructor(
    private readonly db: Kysely<DB>,
    private readonly audience: RoomAudience,
    private readonly rooms: RoomDirectory,
    private readonly catalog: CatalogCache,
    private readonly version: () => string,
    /** Unchanged summaries are sent again this often, for an owner who connected since. */
    private readonly refreshMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Something happened in the room (a suggestion, a click): report it at the next round. */
  touch(roomId: string): void {
    this.touched.add(roomId);
  }

  /** One round: every room with viewers on this node or touched since the last round. */
  async report(): Promise<number> {
    const roomIds = new Set(this.touched);
    this.touched.clear();
    for (const m of this.audience.members()) roomIds.add(m.roomId);
    if (roomIds.size === 0) return 0;
    const infos = await this.rooms.get([...roomIds]);
    const live = [...infos.values()].filter((r) => r.live && r.startedAt !== null);
    if (live.length === 0) return 0;
    const { rows } = await sql<{
      room_id: string;
      item_id: string;
      shown: number;
      clicked: number;
      purchased: number;
    }>`
      SELECT i.room_id, coalesce(i.content_id, i.creator_id) AS item_id,
        count(DISTINCT i.user_id)::int AS shown,
        count(DISTINCT i.user_id) FILTER (WHERE i.clicked_at IS NOT NULL)::int AS clicked,
        count(DISTINCT i.user_id) FILTER (WHERE i.purchased_at IS NOT NULL)::int AS purchased
      FROM recommendation_impressions i JOIN rooms r ON r.id = i.room_id
      WHERE i.room_id = ANY(${sql.val(live.map((r) => r.id))}::uuid[]) AND i.shown_at >= r.started_at
      GROUP BY 1, 2
    `.execute(this.db);
    const byRoom = new Map<string, SuggestionActivity[]>();
    for (const r of rows) {
      const item = this.catalog.item(r.item_id);
      if (!item) continue; // archived since: nothing to show the owner
      const list = byRoom.get(r.room_id) ?? [];
      list.push({
        contentId: item.id,
        title: item.title,
        price: item.price,
        shown: r.shown,
        clicked: r.clicked,
        purchased: r.purchased,
      });
      byRoom.set(r.room_id, list);
    }
    let sent = 0;
    const modelVersion = this.version();
    for (const room of live) {
      const items = (byRoom.get(room.id) ?? [])
        .sort((a, b) => b.shown - a.shown || b.purchased - a.purchased || (a.contentId < b.contentId ? -1 : 1))
        .slice(0, MAX_ITEMS);
      if (items.length === 0) continue;
      const body = `${modelVersion}|${JSON.stringify(items)}`;
      const last = this.lastSent.get(room.id);
      if (last?.body === body && this.now() - last.at < this.refreshMs) continue;
      this.lastSent.set(room.id, { body, at: this.now() });
      this.audience.reportToOwner(room.ownerId, { roomId: room.id, items, modelVersion });
      sent++;
    }
    for (const roomId of this.lastSent.keys())
      if (!infos.get(roomId)?.live && !roomIds.has(roomId)) this.lastSent.delete(roomId);
    return sent;
  }
}
