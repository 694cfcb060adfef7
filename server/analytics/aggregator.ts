import { type CompiledQuery, type Kysely, sql } from 'kysely';
import type pg from 'pg';
import type { DB } from '../db';
import { kyselyOn, onPooledClient, RoundTrip } from '../db/round-trip';
import type { EngagementEvent } from '../events';
import type { SaleKind } from './derive';

/** Counters of `analytics_rooms` that events add to. */
const ROOM_COUNTERS = [
  'joins',
  'guest_joins',
  'leaves',
  'watch_seconds',
  'guest_watch_seconds',
  'chat_messages',
  'likes',
  'questions_asked',
  'question_upvotes',
  'questions_answered',
  'presence_version',
] as const;
type RoomCounter = (typeof ROOM_COUNTERS)[number];

const MINUTE_MS = 60_000;
/** Room owners are immutable, so they are cached; the bound only caps memory. */
const OWNER_CACHE_MAX = 50_000;

interface SaleRow {
  id: string;
  kind: SaleKind;
  creatorId: string;
  roomId: string | null;
  buyerId: string;
  amount: number;
  /** The platform's part of `amount`. */
  fee: number;
  /** When it was sold; when it was refunded while only its refund is known (`sold` false). */
  at: Date;
  /** Whether the sale's own event is among those applied (a refund may come first). */
  sold: boolean;
  refundedAt: Date | null;
}

/** A map's values in the order of their keys: the order every batch locks rows in. */
const sorted = <T>(m: Map<string, T>): T[] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);

const earliest = (a: Date | null, b: Date | null): Date | null => (!a ? b : !b ? a : a <= b ? a : b);

/**
 * Two records of one sale: its sale event(s) and its refund, in any order, so every field is
 * chosen the same whichever comes first. The sale's time is the earliest sale event's (a
 * subscription may be recorded by two); a fee or a room one of them lacks (recorded before
 * events carried them) is taken from the other; the refund is kept once. `write` does the same
 * against the stored row.
 */
function mergeSale(a: SaleRow, b: SaleRow): SaleRow {
  const base = a.sold || !b.sold ? a : b;
  return {
    ...base,
    roomId: a.roomId ?? b.roomId,
    fee: Math.max(a.fee, b.fee),
    at: a.sold && b.sold ? earliest(a.at, b.at)! : base.at,
    sold: a.sold || b.sold,
    refundedAt: earliest(a.refundedAt, b.refundedAt),
  };
}

/**
 * What a batch of events adds to the aggregates, summed per row in memory so each table gets one
 * multi-row upsert (Postgres cannot update one row twice in a statement, and one statement per
 * table is what makes a batch cheap).
 */
class Deltas {
  readonly rooms = new Map<string, { creatorId: string; counters: Record<RoomCounter, number> }>();
  readonly presence = new Map<string, { roomId: string; at: Date; delta: number }>();
  readonly minutes = new Map<string, { roomId: string; minute: Date; chat: number; likes: number }>();
  readonly viewers = new Map<string, { roomId: string; userId: string; creatorId: string; firstJoinedAt: Date }>();
  readonly sales = new Map<string, SaleRow>();
  /** Watching after the fact, per lesson or replay: seconds watched, who watched, who finished. */
  readonly media = new Map<string, { kind: MediaItemKind; itemId: string; creatorId: string; seconds: number }>();
  readonly mediaViewers = new Map<
    string,
    { kind: MediaItemKind; itemId: string; userId: string; completed: boolean }
  >();

  room(roomId: string, creatorId: string, add: Partial<Record<RoomCounter, number>>): void {
    let row = this.rooms.get(roomId);
    if (!row) {
      row = {
        creatorId,
        counters: Object.fromEntries(ROOM_COUNTERS.map((c) => [c, 0])) as Record<RoomCounter, number>,
      };
      this.rooms.set(roomId, row);
    }
    for (const [counter, n] of Object.entries(add) as [RoomCounter, number][]) row.counters[counter] += n;
  }

  presenceChange(roomId: string, at: Date, delta: number): void {
    const key = `${roomId}|${at.getTime()}`;
    const row = this.presence.get(key) ?? { roomId, at, delta: 0 };
    row.delta += delta;
    this.presence.set(key, row);
  }

  minute(roomId: string, at: Date, add: { chat?: number; likes?: number }): void {
    const minute = new Date(Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS);
    const key = `${roomId}|${minute.getTime()}`;
    const row = this.minutes.get(key) ?? { roomId, minute, chat: 0, likes: 0 };
    row.chat += add.chat ?? 0;
    row.likes += add.likes ?? 0;
    this.minutes.set(key, row);
  }

  viewer(roomId: string, userId: string, creatorId: string, at: Date): void {
    const key = `${roomId}|${userId}`;
    const known = this.viewers.get(key);
    if (!known || at < known.firstJoinedAt) this.viewers.set(key, { roomId, userId, creatorId, firstJoinedAt: at });
  }

  sale(row: SaleRow): void {
    const known = this.sales.get(row.id);
    this.sales.set(row.id, known ? mergeSale(known, row) : row);
  }

  watched(kind: MediaItemKind, itemId: string, creatorId: string, userId: string, seconds: number, completed: boolean) {
    const key = `${kind}|${itemId}`;
    const item = this.media.get(key) ?? { kind, itemId, creatorId, seconds: 0 };
    item.seconds += seconds;
    this.media.set(key, item);
    const viewerKey = `${key}|${userId}`;
    const viewer = this.mediaViewers.get(viewerKey) ?? { kind, itemId, userId, completed: false };
    viewer.completed ||= completed;
    this.mediaViewers.set(viewerKey, viewer);
  }

  /**
   * Writes everything, table by table in a fixed order and rows sorted by key, so concurrent
   * batches (several consumers) lock rows in the same order and do not deadlock each other. The
   * media first, whose statements wait for each other's answers; then the rest and `COMMIT` in one
   * round trip.
   */
  async writeAndCommit(db: Kysely<DB>, client: pg.ClientBase): Promise<void> {
    await this.writeMedia(kyselyOn(client), sorted(this.mediaViewers), sorted(this.media));
    const trip = new RoundTrip();
    for (const statement of this.statements(db)) trip.add(statement);
    trip.add('COMMIT');
    await trip.send(client);
  }

  /** The upserts of rooms, presence, minutes, viewers and sales: none needs another's answer. */
  private statements(db: Kysely<DB>): CompiledQuery[] {
    const out: CompiledQuery[] = [];
    const rooms = [...this.rooms].sort(([a], [b]) => (a < b ? -1 : 1));
    if (rooms.length > 0) {
      const columns = sql.join(ROOM_COUNTERS.map((c) => sql.ref(c)));
      out.push(
        sql`
        INSERT INTO analytics_rooms (room_id, creator_id, ${columns})
        VALUES ${sql.join(
          rooms.map(
            ([roomId, r]) => sql`(${roomId}, ${r.creatorId}, ${sql.join(ROOM_COUNTERS.map((c) => r.counters[c]))})`,
          ),
        )}
        ON CONFLICT (room_id) DO UPDATE SET
          ${sql.join(ROOM_COUNTERS.map((c) => sql`${sql.ref(c)} = analytics_rooms.${sql.ref(c)} + excluded.${sql.ref(c)}`))},
          updated_at = now()
      `.compile(db),
      );
    }
    const presence = sorted(this.presence);
    if (presence.length > 0) {
      out.push(
        sql`
        INSERT INTO analytics_presence (room_id, at, delta)
        VALUES ${sql.join(presence.map((p) => sql`(${p.roomId}, ${p.at}, ${p.delta})`))}
        ON CONFLICT (room_id, at) DO UPDATE SET delta = analytics_presence.delta + excluded.delta
      `.compile(db),
      );
    }
    const minutes = sorted(this.minutes);
    if (minutes.length > 0) {
      out.push(
        sql`
        INSERT INTO analytics_room_minutes (room_id, minute, chat_messages, likes)
        VALUES ${sql.join(minutes.map((m) => sql`(${m.roomId}, ${m.minute}, ${m.chat}, ${m.likes})`))}
        ON CONFLICT (room_id, minute) DO UPDATE SET
          chat_messages = analytics_room_minutes.chat_messages + excluded.chat_messages,
          likes = analytics_room_minutes.likes + excluded.likes
      `.compile(db),
      );
    }
    const viewers = sorted(this.viewers);
    if (viewers.length > 0) {
      out.push(
        sql`
        INSERT INTO analytics_room_viewers (room_id, user_id, creator_id, first_joined_at)
        VALUES ${sql.join(viewers.map((v) => sql`(${v.roomId}, ${v.userId}, ${v.creatorId}, ${v.firstJoinedAt})`))}
        ON CONFLICT (room_id, user_id) DO UPDATE
          SET first_joined_at = least(analytics_room_viewers.first_joined_at, excluded.first_joined_at)
      `.compile(db),
      );
    }
    const sales = sorted(this.sales);
    if (sales.length > 0) {
      // As `mergeSale`, so the order the sale and its refund arrive in does not matter: the row
      // takes the earliest sale time once a sale event is known, and the earliest refund.
      // One array per column, not ten parameters per sale: a storm's pass writes hundreds of
      // sales, and building and sending thousands of parameters was the main thread's work.
      const column = <T>(f: (s: (typeof sales)[number]) => T) => sales.map(f);
      out.push(
        sql`
        INSERT INTO analytics_sales (id, kind, creator_id, room_id, buyer_id, amount, fee, at, sold, refunded_at)
        SELECT * FROM unnest(
          ${column((s) => s.id)}::uuid[], ${column((s) => s.kind)}::text[], ${column((s) => s.creatorId)}::uuid[],
          ${column((s) => s.roomId)}::uuid[], ${column((s) => s.buyerId)}::uuid[], ${column((s) => s.amount)}::int8[],
          ${column((s) => s.fee)}::int8[], ${column((s) => s.at)}::timestamptz[], ${column((s) => s.sold)}::bool[],
          ${column((s) => s.refundedAt)}::timestamptz[])
        ON CONFLICT (id) DO UPDATE SET
          at = CASE
            WHEN analytics_sales.sold AND excluded.sold THEN least(analytics_sales.at, excluded.at)
            WHEN excluded.sold THEN excluded.at
            ELSE analytics_sales.at END,
          sold = analytics_sales.sold OR excluded.sold,
          room_id = coalesce(analytics_sales.room_id, excluded.room_id),
          fee = greatest(analytics_sales.fee, excluded.fee),
          -- least() skips nulls: the first refund recorded stays.
          refunded_at = least(analytics_sales.refunded_at, excluded.refunded_at)
      `.compile(db),
      );
    }
    return out;
  }

  /**
   * A viewer counts once per item, when first seen, and a completion once, when first finished:
   * the insert and the update say which rows are new, so concurrent batches never count twice.
   */
  private async writeMedia(
    trx: Kysely<DB>,
    viewers: { kind: MediaItemKind; itemId: string; userId: string; completed: boolean }[],
    items: { kind: MediaItemKind; itemId: string; creatorId: string; seconds: number }[],
  ): Promise<void> {
    if (items.length === 0) return;
    const newViewers = await trx
      .insertInto('analytics_media_viewers')
      .values(viewers.map((v) => ({ item_kind: v.kind, item_id: v.itemId, user_id: v.userId })))
      .onConflict((oc) => oc.columns(['item_kind', 'item_id', 'user_id']).doNothing())
      .returning(['item_kind', 'item_id'])
      .execute();
    const finished = viewers.filter((v) => v.completed);
    const newCompletions = finished.length
      ? (
          await sql<{ item_kind: MediaItemKind; item_id: string }>`
            UPDATE analytics_media_viewers SET completed = true
            WHERE (item_kind, item_id, user_id) IN (${sql.join(finished.map((v) => sql`(${v.kind}, ${v.itemId}::uuid, ${v.userId}::uuid)`))})
              AND NOT completed
            RETURNING item_kind, item_id
          `.execute(trx)
        ).rows
      : [];
    const count = (rows: { item_kind: string; item_id: string }[], item: { kind: string; itemId: string }) =>
      rows.filter((r) => r.item_kind === item.kind && r.item_id === item.itemId).length;
    await sql`
      INSERT INTO analytics_media (item_kind, item_id, creator_id, viewers, completions, watch_seconds)
      VALUES ${sql.join(
        items.map(
          (m) =>
            sql`(${m.kind}, ${m.itemId}, ${m.creatorId}, ${count(newViewers, m)}, ${count(newCompletions, m)}, ${m.seconds})`,
        ),
      )}
      ON CONFLICT (item_kind, item_id) DO UPDATE SET
        viewers = analytics_media.viewers + excluded.viewers,
        completions = analytics_media.completions + excluded.completions,
        watch_seconds = analytics_media.watch_seconds + excluded.watch_seconds,
        updated_at = now()
    `.execute(trx);
  }
}

type MediaItemKind = 'content' | 'replay';

type MoneyEvent = Extract<
  EngagementEvent,
  { type: 'tip.sent' | 'purchase.completed' | 'purchase.refunded' | 'subscription.started' }
>;
const isMoneyEvent = (e: EngagementEvent): e is MoneyEvent =>
  e.type === 'tip.sent' ||
  e.type === 'purchase.completed' ||
  e.type === 'purchase.refunded' ||
  e.type === 'subscription.started';

/** An event's contribution, decided before the transaction (it may need lookups). */
interface Plan {
  eventId: string;
  add: (deltas: Deltas) => void;
}

/**
 * The write side of analytics: turns engagement events into updates of the aggregates. A batch
 * is applied in one Postgres transaction that also records the ids of its events; an event whose
 * id is already recorded (at-least-once delivery: a retried append, a reclaimed entry, a restart)
 * adds nothing, so the counts are exact however often the log delivers.
 *
 * Every update is a sum or a set insert, so the result does not depend on the order events
 * arrive in; anything order-dependent (concurrency over time) is computed when read.
 */
export class AnalyticsAggregator {
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly db: Kysely<DB>,
    /** The pool under `db`: a batch is one transaction of two round trips on one of its clients. */
    private readonly pool: pg.Pool,
  ) {}

  /** Applies the events not applied before, once each; resolves the ids it applied. */
  async applyAll(events: readonly EngagementEvent[]): Promise<string[]> {
    const [, fees] = await Promise.all([this.loadOwners(events), this.missingFees(events)]);
    const plans: Plan[] = [];
    for (const event of events) {
      const add = this.plan(event, fees);
      if (add) plans.push({ eventId: event.id, add });
    }
    if (plans.length === 0) return [];
    const ids = [...new Set(plans.map((p) => p.eventId))].sort();
    // Two round trips: `BEGIN` and the claim of the ids, then the writes and `COMMIT`. A storm's
    // pass runs ten times a second on the main thread; a round trip per statement was a write to
    // the socket and a turn of the event loop each.
    return onPooledClient(this.pool, async (client) => {
      const claim = new RoundTrip();
      claim.add('BEGIN');
      const claimed = claim.add<{ event_id: string }>(
        sql`
          INSERT INTO analytics_processed_events (event_id) SELECT unnest(${ids}::uuid[])
          ON CONFLICT (event_id) DO NOTHING RETURNING event_id
        `.compile(this.db),
      );
      await claim.send(client);
      const fresh = new Set(claimed().map((r) => r.event_id));
      const deltas = new Deltas();
      const applied: string[] = [];
      for (const p of plans) {
        // `delete`: an event appended twice into the same batch is applied once.
        if (!fresh.delete(p.eventId)) continue;
        p.add(deltas);
        applied.push(p.eventId);
      }
      await deltas.writeAndCommit(this.db, client);
      return applied;
    });
  }

  /** Applies one event unless already applied; resolves whether this call applied it. */
  async apply(event: EngagementEvent): Promise<boolean> {
    return (await this.applyAll([event])).length === 1;
  }

  /** What the event adds; null when it changes nothing. */
  private plan(event: EngagementEvent, fees: ReadonlyMap<string, number>): ((d: Deltas) => void) | null {
    const at = new Date(event.at);
    switch (event.type) {
      case 'room.joined':
      case 'room.left': {
        const owner = this.owners.get(event.roomId);
        // The creator in their own room is not a viewer.
        if (!owner || event.userId === owner) return null;
        const { roomId, userId } = event;
        if (event.type === 'room.left') {
          return (d) => {
            d.room(roomId, owner, { leaves: 1, presence_version: 1 });
            d.presenceChange(roomId, at, -1);
          };
        }
        return (d) => {
          d.room(roomId, owner, { joins: 1, guest_joins: userId ? 0 : 1, presence_version: 1 });
          d.presenceChange(roomId, at, 1);
          if (userId) d.viewer(roomId, userId, owner, at);
        };
      }
      case 'watch.heartbeat': {
        const owner = this.owners.get(event.roomId);
        if (!owner || event.userId === owner) return null;
        const seconds = event.data.seconds;
        return (d) =>
          d.room(event.roomId, owner, event.userId ? { watch_seconds: seconds } : { guest_watch_seconds: seconds });
      }
      case 'chat.sent':
        return this.activity(event.roomId, { chat_messages: 1 }, (d) => d.minute(event.roomId, at, { chat: 1 }));
      case 'likes.sent':
        return this.activity(event.roomId, { likes: event.data.count }, (d) =>
          d.minute(event.roomId, at, { likes: event.data.count }),
        );
      case 'question.asked':
        return this.activity(event.roomId, { questions_asked: 1 });
      case 'question.upvoted':
        return this.activity(event.roomId, { question_upvotes: 1 });
      case 'question.answered':
        return this.activity(event.roomId, { questions_answered: 1 });
      case 'tip.sent':
        if (!this.owners.has(event.roomId)) return null;
        return this.sale(event.data.tipId, 'tip', event, event.roomId, fees);
      case 'purchase.completed':
      case 'purchase.refunded': {
        const { kind, purchaseId } = event.data;
        if (kind === 'ticket') {
          if (!event.roomId || !this.owners.has(event.roomId)) return null;
          return this.sale(purchaseId, 'ticket', event, event.roomId, fees);
        }
        return this.sale(purchaseId, kind, event, this.roomSoldIn(event), fees);
      }
      case 'subscription.started':
        return this.sale(event.data.purchaseId, 'subscription', event, this.roomSoldIn(event), fees);
      case 'media.progress':
      case 'media.completed': {
        const { item, seconds } = event.data;
        const itemId = item === 'content' ? event.contentId : event.roomId;
        if (!itemId) return null;
        const completed = event.type === 'media.completed';
        // A completion repeats the last report's seconds: they count once, with the progress.
        return (d) => d.watched(item, itemId, event.creatorId, event.userId, completed ? 0 : seconds, completed);
      }
      default:
        return null; // suggestion.* are the recommender's
    }
  }

  private activity(
    roomId: string,
    counters: Partial<Record<RoomCounter, number>>,
    more?: (d: Deltas) => void,
  ): ((d: Deltas) => void) | null {
    const owner = this.owners.get(roomId);
    if (!owner) return null; // not a room of this deployment: nothing to count
    return (d) => {
      d.room(roomId, owner, counters);
      more?.(d);
    };
  }

  /**
   * A payment (or its refund), once per purchase or tip id, attributed to `roomId`'s session (or
   * to none). A refund carries what its sale did, so it can stand for the sale until that arrives.
   */
  private sale(
    id: string,
    kind: SaleKind,
    event: MoneyEvent,
    roomId: string | null,
    fees: ReadonlyMap<string, number>,
  ): (d: Deltas) => void {
    const at = new Date(event.at);
    const refund = event.type === 'purchase.refunded';
    const fee = Math.min(event.data.amount, event.data.fee ?? fees.get(id) ?? 0);
    return (d) =>
      d.sale({
        id,
        kind,
        creatorId: event.creatorId,
        roomId,
        buyerId: event.userId,
        amount: event.data.amount,
        fee,
        at,
        sold: !refund,
        refundedAt: refund ? at : null,
      });
  }

  /**
   * The session a content or subscription sale counts for: the room it was bought from
   * (`roomId`, which payments checked was a live room of the seller's), or none when it was bought
   * elsewhere. Never a guess from which room happened to be live: with two rooms live, or a lesson
   * bought on the catalog page, that credits the wrong session.
   */
  private roomSoldIn(event: MoneyEvent): string | null {
    const { roomId } = event;
    return roomId && this.owners.get(roomId) === event.creatorId ? roomId : null;
  }

  /**
   * Fees of the batch's sales whose events lack them (staged before events carried a fee), from
   * the sales themselves, in two queries; nothing to do for events that carry it.
   */
  private async missingFees(events: readonly EngagementEvent[]): Promise<Map<string, number>> {
    const fees = new Map<string, number>();
    const purchases: string[] = [];
    const tips: string[] = [];
    for (const e of events) {
      if (e.type === 'tip.sent' && e.data.fee === undefined) tips.push(e.data.tipId);
      else if (isMoneyEvent(e) && e.type !== 'tip.sent' && e.data.fee === undefined) purchases.push(e.data.purchaseId);
    }
    const [p, t] = await Promise.all([
      purchases.length
        ? this.db.selectFrom('purchases').select(['id', 'fee']).where('id', 'in', purchases).execute()
        : [],
      tips.length ? this.db.selectFrom('tips').select(['id', 'fee']).where('id', 'in', tips).execute() : [],
    ]);
    for (const row of [...p, ...t]) fees.set(row.id, Number(row.fee));
    return fees;
  }

  /** Looks up the owners of the batch's rooms not cached yet, in one query. */
  private async loadOwners(events: readonly EngagementEvent[]): Promise<void> {
    const missing = new Set<string>();
    for (const e of events) if (e.roomId && !this.owners.has(e.roomId)) missing.add(e.roomId);
    if (missing.size === 0) return;
    const rows = await this.db
      .selectFrom('rooms')
      .select(['id', 'owner_id'])
      .where('id', 'in', [...missing])
      .execute();
    for (const row of rows) {
      if (this.owners.size >= OWNER_CACHE_MAX) this.owners.delete(this.owners.keys().next().value!);
      this.owners.set(row.id, row.owner_id);
    }
  }
}
