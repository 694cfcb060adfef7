import type { Kysely } from 'kysely';
import type { ChatMessage } from '../../protocol';
import { type DB, isUnavailable } from '../db';
import { ShortCache } from './short-cache';

/** How soon a write of messages kept while the database was away is tried again (it doubles). */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 5000;

/**
 * Persists chat messages by group commit: messages sent within a few milliseconds share one
 * multi-row INSERT, and each sender is answered only after its message is in the database, so
 * an acknowledged message is never lost and a busy room costs one write per batch, not per line.
 *
 * While the database is unreachable (a restart, a failover) the room keeps talking: messages
 * are kept in memory (up to `maxBacklog`) and written, in order, once it answers again. Those
 * are the only acknowledged messages a crash of this process can lose; a full backlog refuses
 * new ones with UNAVAILABLE.
 */
export class ChatWriter {
  private pending: { message: ChatMessage; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  private backlog: ChatMessage[] = [];
  private retry: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly maxDelayMs = 10,
    private readonly maxBatch = 200,
    private readonly maxBacklog = 10_000,
  ) {}

  write(message: ChatMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ message, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxDelayMs);
    });
  }

  /** Writes what is pending now; batches are written one after another, in order. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      try {
        await this.insert(batch.map((p) => p.message));
        for (const p of batch) p.resolve();
      } catch (err) {
        if (isUnavailable(err) && this.backlog.length + batch.length <= this.maxBacklog) {
          this.backlog.push(...batch.map((p) => p.message));
          for (const p of batch) p.resolve();
          this.scheduleRetry();
        } else {
          for (const p of batch) p.reject(err);
        }
      }
    });
    return this.flushing;
  }

  /** A retried write may follow one whose answer was lost: a row already there is skipped. */
  private async insert(messages: ChatMessage[]): Promise<void> {
    await this.db
      .insertInto('chat_messages')
      .values(
        messages.map((m) => ({ id: m.id, room_id: m.roomId, user_id: m.user.id, text: m.text, sent_at: m.sentAt })),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  private scheduleRetry(): void {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.writeBacklog();
    }, this.retryMs);
    this.retry.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  /** Writes the backlog, oldest first, a batch at a time; on failure, tries again later. */
  private async writeBacklog(): Promise<void> {
    while (this.backlog.length > 0) {
      const batch = this.backlog.slice(0, this.maxBatch);
      try {
        await this.insert(batch);
      } catch {
        this.scheduleRetry();
        return;
      }
      this.backlog.splice(0, batch.length);
    }
    this.retryMs = RETRY_MIN_MS;
  }

  async close(): Promise<void> {
    clearTimeout(this.retry);
    this.retry = undefined;
    await this.flush();
    await this.writeBacklog();
    clearTimeout(this.retry);
  }
}

/**
 * The last messages of a room for late joiners, read from the database but shared for a short
 * time: a thousand viewers joining at once cost one query, not a thousand.
 */
export class ChatHistory {
  private readonly cache: ShortCache<ChatMessage[]>;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly size: number,
    ttlMs = 1000,
    onLookup?: (hit: boolean) => void,
  ) {
    this.cache = new ShortCache(ttlMs, (roomId) => this.load(roomId), { onLookup });
  }

  recent(roomId: string): Promise<ChatMessage[]> {
    return this.size === 0 ? Promise.resolve([]) : this.cache.get(roomId);
  }

  invalidate(roomId: string): void {
    this.cache.invalidate(roomId);
  }

  private async load(roomId: string): Promise<ChatMessage[]> {
    const rows = await this.db
      .selectFrom('chat_messages as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.id', 'm.room_id', 'm.text', 'm.sent_at', 'u.id as user_id', 'u.username'])
      .where('m.room_id', '=', roomId)
      .where('m.deleted_at', 'is', null)
      .orderBy('m.sent_at', 'desc')
      .orderBy('m.id', 'desc')
      .limit(this.size)
      .execute();
    return rows.reverse().map((r) => ({
      id: r.id,
      roomId: r.room_id,
      user: { id: r.user_id, username: r.username },
      text: r.text,
      sentAt: r.sent_at.toISOString(),
    }));
  }
}
