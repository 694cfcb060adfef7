// biome-ignore-all lint/suspicious/noExplicitAny: migrations run on any schema
import { type Kysely, type MigrationResultSet, Migrator, NO_MIGRATIONS } from 'kysely';
import { migrations } from '../../migrations';

function migrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

function check(result: MigrationResultSet): string[] {
  if (result.error) throw result.error;
  return (result.results ?? []).map((r) => `${r.direction} ${r.migrationName}: ${r.status}`);
}

export const migrateToLatest = async (db: Kysely<any>) => check(await migrator(db).migrateToLatest());
export const migrateDown = async (db: Kysely<any>) => check(await migrator(db).migrateDown());
export const migrateUp = async (db: Kysely<any>) => check(await migrator(db).migrateUp());
export const migrateToZero = async (db: Kysely<any>) => check(await migrator(db).migrateTo(NO_MIGRATIONS));
export async function migrationStatus(db: Kysely<any>) {
  return (await migrator(db).getMigrations()).map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }));
}
