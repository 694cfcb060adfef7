import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation';

/**
 * Every migration, in order. Listed statically (not read from the directory) so they work the
 * same from TypeScript sources, compiled output and bundles.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
};
