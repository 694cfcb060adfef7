import { type Kysely, sql } from 'kysely';

/**
 * Open connections follow their user's role (issue 14): whoever changes a role or deletes an
 * account — the CLI, an API, plain SQL — every server node hears of it on the
 * `lectern_user_changed` channel (the user's id) and updates that user's connections.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION users_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('lectern_user_changed', coalesce(NEW.id, OLD.id)::text);
      RETURN NULL;
    END $$;
    CREATE TRIGGER users_role_changed AFTER UPDATE OF role ON users
      FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role) EXECUTE FUNCTION users_notify_change();
    CREATE TRIGGER users_deleted AFTER DELETE ON users
      FOR EACH ROW EXECUTE FUNCTION users_notify_change();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER users_deleted ON users;
    DROP TRIGGER users_role_changed ON users;
    DROP FUNCTION users_notify_change();
  `.execute(db);
}
