import { createKysely } from '../../server/db/pool';
import { createLogger } from '../../server/log';
import {
  enqueueJob,
  type JobHandler,
  MediaJobs,
  type MediaJobsOptions,
  PermanentJobError,
} from '../../server/vod/jobs';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { TEST_LOG_LEVEL } from '../helpers/env';
import { eventually } from '../helpers/socket';

/**
 * The media job queue against a real Postgres: leases, retries, permanent failures and nodes that
 * stop mid-job. Handlers here stand in for ffmpeg work (tested with real ffmpeg in tests/vod).
 */
let database: TestDatabase;
let db: ReturnType<typeof createKysely>['db'];
const runners: MediaJobs[] = [];
const log = createLogger(TEST_LOG_LEVEL);

beforeAll(async () => {
  database = await createTestDatabase();
  db = createKysely(database.url, 5).db;
});
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await db.destroy();
  await database.drop();
});

async function newAsset(): Promise<string> {
  const user = await db
    .insertInto('users')
    .values({ username: `u${Math.random().toString(36).slice(2, 10)}`, password_hash: 'x', role: 'creator' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const asset = await db
    .insertInto('media_assets')
    .values({ owner_id: user.id, origin: 'upload', status: 'processing' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await enqueueJob(db, asset.id, 'package-upload');
  return asset.id;
}

const job = (assetId: string) =>
  db.selectFrom('media_jobs').selectAll().where('asset_id', '=', assetId).executeTakeFirstOrThrow();

function runner(nodeId: string, handler: JobHandler, options: Partial<MediaJobsOptions> = {}): MediaJobs {
  const r = new MediaJobs({
    db,
    log,
    nodeId,
    enabled: true,
    concurrency: 1,
    maxAttempts: 3,
    pollMs: 100,
    retryBaseMs: 50,
    ...options,
  }).handle('package-upload', handler);
  runners.push(r);
  r.start();
  return r;
}

/** A handler that records what the queue asked of it; `run` is given per test. */
function handler(run: JobHandler['run']) {
  const calls = { runs: [] as string[], failed: [] as { code: string; message: string }[], cleanedUp: 0 };
  const h: JobHandler = {
    run: async (ctx) => {
      calls.runs.push(ctx.job.lease_owner ?? '');
      return run(ctx);
    },
    fail: async (_job, code, message) => {
      calls.failed.push({ code, message });
    },
    cleanUp: async () => {
      calls.cleanedUp++;
    },
  };
  return { h, calls };
}

it('runs a job once and marks it done', async () => {
  const assetId = await newAsset();
  const { h, calls } = handler(async () => ({ done: true }));
  runner('a', h);
  runner('b', h);
  await eventually(async () => (await job(assetId)).status === 'done', 10_000, 'the job to be done');
  expect(calls.runs).toHaveLength(1);
  expect((await job(assetId)).attempts).toBe(1);
});

it('retries a passing failure with clean-up, then gives up with PROCESSING_FAILED', async () => {
  const assetId = await newAsset();
  const { h, calls } = handler(async () => {
    throw new Error('ffmpeg was killed');
  });
  runner('a', h);
  await eventually(async () => (await job(assetId)).status === 'failed', 10_000, 'the job to fail');
  expect(calls.runs).toHaveLength(3);
  expect(calls.cleanedUp).toBe(2);
  expect(calls.failed).toEqual([{ code: 'PROCESSING_FAILED', message: 'processing kept failing' }]);
});

it('fails a permanent error at once, with its code', async () => {
  const assetId = await newAsset();
  const { h, calls } = handler(async () => {
    throw new PermanentJobError('NOT_A_VIDEO', 'ffprobe cannot read it');
  });
  runner('a', h);
  await eventually(async () => (await job(assetId)).status === 'failed', 10_000, 'the job to fail');
  expect(calls.runs).toHaveLength(1);
  expect(calls.failed).toEqual([{ code: 'NOT_A_VIDEO', message: 'ffprobe cannot read it' }]);
});

it('waiting (a recording still being finished) is not an attempt', async () => {
  const assetId = await newAsset();
  let waits = 0;
  const { h, calls } = handler(async () =>
    ++waits < 5 ? { retryInMs: 20, why: 'a part is still recording' } : { done: true },
  );
  runner('a', h);
  await eventually(async () => (await job(assetId)).status === 'done', 10_000, 'the job to be done');
  expect(calls.runs).toHaveLength(5);
  expect((await job(assetId)).attempts).toBe(1);
});

it('a job whose node died is taken over by another once its lease runs out', async () => {
  const assetId = await newAsset();
  // Node "dead" claims the job and never finishes nor renews (its process is gone).
  const hang = handler(
    ({ signal }) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true })),
  );
  const dead = runner('dead', hang.h, { leaseMs: 400 });
  await eventually(async () => (await job(assetId)).lease_owner === 'dead', 5_000, 'the first node to claim it');
  // Its lease renewal stops as a dead process's would.
  (dead as unknown as { tasks: { stop(): void } }).tasks.stop();
  const { h, calls } = handler(async () => ({ done: true }));
  runner('alive', h, { leaseMs: 400 });
  await eventually(async () => (await job(assetId)).status === 'done', 10_000, 'the other node to finish it');
  expect(calls.runs).toEqual(['alive']);
  expect((await job(assetId)).attempts).toBe(2);
  // The dead node coming back to close changes nothing: it no longer holds the lease.
  await dead.close();
  expect((await job(assetId)).status).toBe('done');
});

it('a node that stops puts its running job back on the queue without using up an attempt', async () => {
  const assetId = await newAsset();
  const hang = handler(
    ({ signal }) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true })),
  );
  const stopping = runner('stopping', hang.h);
  await eventually(async () => (await job(assetId)).status === 'running', 5_000, 'the job to start');
  await stopping.close();
  const row = await job(assetId);
  expect(row.status).toBe('queued');
  expect(row.attempts).toBe(0);
  const { h } = handler(async () => ({ done: true }));
  runner('next', h);
  await eventually(async () => (await job(assetId)).status === 'done', 10_000, 'the next node to finish it');
});
