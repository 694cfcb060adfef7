import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation';
import * as m0002 from './0002_room_previews';

/**
 * Every migration, in order. Listed statically (not read from the directory) so they work the
 * same from TypeScript sources, compiled output and bundles.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_room_previews': m0002,
};
