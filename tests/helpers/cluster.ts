import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from './db';
import { TEST_REDIS_URL } from './env';
import { type ServerProcess, spawnServer } from './process';
import { TEST_JWT_SECRET } from './server';

export interface Cluster {
  nodes: ServerProcess[];
  /** Stops the nodes, drops the database and deletes the cluster's Redis keys. */
  close(): Promise<void>;
}

/**
 * Gateway processes over one Postgres database of their own and one Redis (a key prefix of
 * their own), the way several nodes run in production. `env` adds to the defaults.
 */
export async function startCluster(env: Record<string, string> = {}, count = 2): Promise<Cluster> {
  const database: TestDatabase = await createTestDatabase();
  const prefix = `lectern-test-${randomBytes(4).toString('hex')}:`;
  const settings = {
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    JWT_SECRET: TEST_JWT_SECRET,
    MIGRATE_ON_START: 'false',
    PORT: '0',
    MEDIA_ENABLED: 'false',
    ...env,
  };
  const nodes = await Promise.all(Array.from({ length: count }, () => spawnServer(settings)));
  return {
    nodes,
    async close() {
      if (process.env.SHOW_NODE_LOGS) for (const n of nodes) console.log(n.output().slice(-5000));
      await Promise.all(nodes.map((n) => n.stop()));
      await database.drop();
      const redis = new Redis(TEST_REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  };
}
