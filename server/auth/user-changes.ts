import type { Kysely } from 'kysely';
import pg from 'pg';
import type { Role } from '../../protocol';
import type { DB } from '../db';
import type { Logger } from '../log';
import { id } from '../validation';

export const USER_CHANGED_CHANNEL = 'lectern_user_changed';

/** What a node needs to know of a user now; null: the account is gone. */
export type UserNow = { role: Role } | null;

/** One part of the node that keeps something about users: its open connections, a cache. */
export interface UserWatcher {
  /** The users it holds something about, read again each time listening starts. */
  users?: () => Iterable<string>;
  changed: (userId: string, now: UserNow) => void;
  /** Listening started (true) or stopped (false): while it is stopped, changes go unheard. */
  listening?: (on: boolean) => void;
}

/**
 * Hears of role changes and deleted accounts from Postgres (LISTEN on the channel the users
 * trigger notifies, migration 0014), so every node updates what it holds at once whoever made
 * the change. Notifications sent while the listening connection was down are lost, so each time
 * it is (re)established, every user a watcher holds is read again.
 */
export class UserChanges {
  private client?: pg.Client;
  private closed = false;
  private retry?: NodeJS.Timeout;
  private readonly watchers: UserWatcher[] = [];
  private on = false;

  constructor(
    private readonly o: {
      databaseUrl: string;
      db: Kysely<DB>;
      log: Logger;
    },
  ) {}

  /** Whether changes are heard now. */
  get listening(): boolean {
    return this.on;
  }

  watch(watcher: UserWatcher): void {
    this.watchers.push(watcher);
    if (this.on) watcher.listening?.(true);
  }

  start(): void {
    void this.listen(1000);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.setListening(false);
    await this.client?.end().catch(() => {});
  }

  private setListening(on: boolean): void {
    if (this.on === on) return;
    this.on = on;
    for (const w of this.watchers) w.listening?.(on);
  }

  private async listen(backoffMs: number): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.o.databaseUrl });
    this.client = client;
    const again = () => {
      if (this.closed || this.client !== client) return;
      this.client = undefined;
      this.setListening(false);
      client.end().catch(() => {});
      this.retry = setTimeout(() => void this.listen(Math.min(backoffMs * 2, 30_000)), backoffMs);
      this.retry.unref();
    };
    client.on('error', (err) => {
      this.o.log.warn({ err }, 'user changes: listening connection lost');
      again();
    });
    client.on('end', again);
    client.on('notification', (n) => {
      if (n.channel === USER_CHANGED_CHANNEL && id.safeParse(n.payload).success) void this.refresh([n.payload!]);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${USER_CHANGED_CHANNEL}`);
    } catch (err) {
      this.o.log.warn({ err }, 'user changes: cannot listen; retrying');
      again();
      return;
    }
    if (this.client !== client) return;
    backoffMs = 1000;
    this.setListening(true);
    // What changed while nobody listened.
    await this.refresh([...new Set(this.watchers.flatMap((w) => [...(w.users?.() ?? [])]))]);
  }

  private async refresh(userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    try {
      const rows = await this.o.db.selectFrom('users').select(['id', 'role']).where('id', 'in', userIds).execute();
      const found = new Map(rows.map((r) => [r.id, r]));
      for (const userId of userIds) {
        const row = found.get(userId);
        for (const w of this.watchers) w.changed(userId, row ? { role: row.role } : null);
      }
    } catch (err) {
      this.o.log.warn({ err, users: userIds.length }, 'user changes: could not read the users');
    }
  }
}
