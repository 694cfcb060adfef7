import type { Kysely } from 'kysely';
import pg from 'pg';
import type { Role } from '../../protocol';
import type { DB } from '../db';
import type { Logger } from '../log';
import { id } from '../validation';

export const USER_CHANGED_CHANNEL = 'lectern_user_changed';

/** What a connection needs to know of its user now; null: the account is gone. */
export type UserNow = { role: Role } | null;

/**
 * Hears of role changes and deleted accounts from Postgres (LISTEN on the channel the users
 * trigger notifies, migration 0014), so every node updates its open connections at once whoever
 * made the change. Notifications sent while the listening connection was down are lost, so each
 * time it is (re)established, every connected user is read again.
 */
export class UserChanges {
  private client?: pg.Client;
  private closed = false;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly o: {
      databaseUrl: string;
      db: Kysely<DB>;
      /** The signed-in users with a connection to this node. */
      connectedUsers: () => Iterable<string>;
      changed: (userId: string, now: UserNow) => void;
      log: Logger;
    },
  ) {}

  start(): void {
    void this.listen(1000);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => {});
  }

  private async listen(backoffMs: number): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.o.databaseUrl });
    this.client = client;
    const again = () => {
      if (this.closed || this.client !== client) return;
      this.client = undefined;
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
    backoffMs = 1000;
    // What changed while nobody listened.
    await this.refresh([...new Set(this.o.connectedUsers())]);
  }

  private async refresh(userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    try {
      const rows = await this.o.db.selectFrom('users').select(['id', 'role']).where('id', 'in', userIds).execute();
      const found = new Map(rows.map((r) => [r.id, r]));
      for (const userId of userIds) {
        const row = found.get(userId);
        this.o.changed(userId, row ? { role: row.role } : null);
      }
    } catch (err) {
      this.o.log.warn({ err, users: userIds.length }, 'user changes: could not read the users');
    }
  }
}
