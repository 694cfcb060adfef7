/**
 * What a sale batch costs Postgres, split into its fixed part and its part per operation
 * (docs/money.md#throughput): `npx tsx scripts/bench/money-batch-cost.ts`, JSON on stdout.
 *
 * The storms measure latency on a machine shared by the server, the load and Postgres, and their
 * CPU figures move with everything else that runs. Here the batcher runs in this process against
 * a database of its own with nothing else on it: purchases are kept `inFlight` at a time (closed
 * loop; answered together, they are sent again together, so each batch carries all of them), and
 * every Postgres process's CPU is read before and after. A line through the points gives the
 * fixed cost of a batch and the cost of each purchase in it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import type { DB } from '../../server/db';
import { createPool } from '../../server/db/pool';
import { MONEY_CONNECTION_OPTIONS, MoneyBatcher } from '../../server/payments/batch';
import { Accounts } from '../../server/payments/ledger';
import { adminQuery, createMigratedDatabase, databaseUrl } from './harness';
import { postgresCpuSeconds, round } from './pinned';

const BUYERS = 200;
const IN_FLIGHT = (process.env.BENCH_BATCH_IN_FLIGHT ?? '2,20,100').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_BATCH_SECONDS) || 4;
const WARM_UP_SECONDS = 2;

export async function moneyBatchCost() {
  const name = `lectern_batchcost_${randomBytes(4).toString('hex')}`;
  await createMigratedDatabase(name);
  // As the money thread connects.
  const pool = createPool(databaseUrl(name), 2, MONEY_CONNECTION_OPTIONS);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  let batches = 0;
  let operations = 0;
  const batcher = new MoneyBatcher({
    db,
    pool,
    config: { currency: 'USD', platformFeeBps: 1000, idempotencyTtlHours: 24, payoutHoldHours: 72 },
    provider: { name: 'sandbox', charge: async () => ({ reference: randomUUID() }) },
    accounts: new Accounts(),
    committed: () => {},
    observe: (n) => {
      batches++;
      operations += n;
    },
  });
  try {
    const user = (username: string, role: 'viewer' | 'creator') => ({ username, password_hash: 'x', role });
    const { id: creator } = await db
      .insertInto('users')
      .values(user(`creator_${name}`, 'creator'))
      .returning('id')
      .executeTakeFirstOrThrow();
    const buyers = (
      await db
        .insertInto('users')
        .values(Array.from({ length: BUYERS }, (_, i) => user(`buyer${i}_${name}`, 'viewer')))
        .returning('id')
        .execute()
    ).map((u) => u.id);
    // Enough lessons that no buyer runs out (each buys them in order) up to 10,000 purchases a second.
    const lessonCount = Math.ceil(((IN_FLIGHT.length * (SECONDS + 1) + WARM_UP_SECONDS) * 10_000) / BUYERS);
    const lessons = (
      await db
        .insertInto('contents')
        .values(
          Array.from({ length: lessonCount }, (_, i) => ({
            creator_id: creator,
            title: `Lesson ${i}`,
            kind: 'lesson' as const,
            price: 100,
            currency: 'USD',
          })),
        )
        .returning('id')
        .execute()
    ).map((c) => c.id);
    await Promise.all(
      buyers.map((b) => batcher.submit(b, randomUUID(), { kind: 'topup', params: { amount: 1_000_000_000 } })),
    );

    const bought = buyers.map(() => 0);
    let next = 0;
    /** `inFlight` clients buying for `seconds`; every answer must be a purchase. */
    const run = async (inFlight: number, seconds: number) => {
      const until = performance.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (performance.now() < until) {
            const b = next++ % BUYERS;
            const contentId = lessons[bought[b]++];
            const outcome = await batcher.submit(buyers[b], randomUUID(), { kind: 'purchase', params: { contentId } });
            if (!outcome.ok) throw new Error(`purchase refused: ${JSON.stringify(outcome)}`);
          }
        }),
      );
    };
    const points = [];
    // Some history first, as a deployment has: the statement-level checks' plans are chosen for
    // the tables' sizes when first run on a connection (and again after each ANALYZE, as
    // autovacuum runs it), and a fresh database's would scan tables that then grow.
    await run(20, WARM_UP_SECONDS);
    for (const inFlight of IN_FLIGHT) {
      await pool.query('ANALYZE');
      await run(inFlight, 1);
      const [b0, o0, pg0, node0] = [batches, operations, postgresCpuSeconds(), process.cpuUsage()];
      const started = performance.now();
      await run(inFlight, SECONDS);
      const elapsed = (performance.now() - started) / 1000;
      const node = process.cpuUsage(node0);
      const [n, ops, pgMs] = [batches - b0, operations - o0, (postgresCpuSeconds() - pg0) * 1000];
      points.push({
        inFlight,
        operationsPerSecond: round(ops / elapsed),
        operationsPerBatch: round(ops / n, 1),
        postgresMsPerBatch: round(pgMs / n, 2),
        postgresMsPerOperation: round(pgMs / ops, 3),
        batcherMsPerOperation: round((node.user + node.system) / 1000 / ops, 3),
      });
    }
    return { buyers: BUYERS, seconds: SECONDS, points, fit: fitLine(points) };
  } finally {
    await db.destroy();
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** Least squares: Postgres ms per batch = fixed + perOperation × operations per batch. */
function fitLine(points: { operationsPerBatch: number; postgresMsPerBatch: number }[]) {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.operationsPerBatch, 0) / n;
  const my = points.reduce((a, p) => a + p.postgresMsPerBatch, 0) / n;
  const sxy = points.reduce((a, p) => a + (p.operationsPerBatch - mx) * (p.postgresMsPerBatch - my), 0);
  const sxx = points.reduce((a, p) => a + (p.operationsPerBatch - mx) ** 2, 0);
  const perOperation = sxx ? sxy / sxx : 0;
  return { postgresMsFixed: round(my - perOperation * mx, 2), postgresMsPerOperation: round(perOperation, 3) };
}

if (require.main === module) {
  moneyBatchCost().then(
    (result) => console.log(JSON.stringify({ moneyBatchCost: result })),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
