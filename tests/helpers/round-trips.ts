import type pg from 'pg';

/**
 * How many queries `body` sends on `pool`'s clients: each is one round trip to Postgres (a
 * query of several statements too, which is the point of counting them).
 */
export async function roundTripsOf(pool: pg.Pool, body: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const originals = new Map<pg.PoolClient, pg.PoolClient['query']>();
  const onAcquire = (client: pg.PoolClient) => {
    if (originals.has(client)) return;
    const query = client.query;
    originals.set(client, query);
    client.query = ((...args: Parameters<typeof query>) => {
      count++;
      return (query as (...a: unknown[]) => unknown).apply(client, args);
    }) as typeof query;
  };
  pool.on('acquire', onAcquire);
  try {
    await body();
    return count;
  } finally {
    pool.off('acquire', onAcquire);
    for (const [client, query] of originals) client.query = query;
  }
}
