import { type Kysely, sql } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DB, MediaJobRow } from '../db';
import type { Logger } from '../log';
import { PeriodicTasks } from '../periodic';

export type MediaJobKind = MediaJobRow['kind'];

/** What a job handler answers: done, or try again later without counting an attempt (waiting on something). */
export type JobResult = { done: true } | { retryInMs: number; why: string };

/** Raised by a handler for a failure retrying cannot fix; the asset is marked failed at once. */
export class PermanentJobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

export interface JobContext {
  job: MediaJobRow;
  /** Aborted when the node stops or the lease was lost (another node took the job over). */
  signal: AbortSignal;
}

export interface JobHandler {
  run(ctx: JobContext): Promise<JobResult>;
  /** After the last attempt failed (or a permanent error): mark the asset failed and clean up. */
  fail(job: MediaJobRow, code: string, message: string): Promise<void>;
  /** Before a retry: remove what the failed attempt wrote. */
  cleanUp(job: MediaJobRow): Promise<void>;
}

export interface MediaJobsOptions {
  db: Kysely<DB>;
  log: Logger;
  nodeId: string;
  enabled: boolean;
  concurrency: number;
  maxAttempts: number;
  registry?: Registry;
  /** How long a claim lasts without a heartbeat (a node that died loses its jobs after this). */
  leaseMs?: number;
  pollMs?: number;
  /** The first retry's delay; doubles per attempt. */
  retryBaseMs?: number;
}

/** Puts a job on the queue in the caller's transaction: it exists if, and only if, that commits. */
export async function enqueueJob(trx: Kysely<DB>, assetId: string, kind: MediaJobKind): Promise<void> {
  await trx.insertInto('media_jobs').values({ asset_id: assetId, kind }).execute();
}

/**
 * The media job queue in Postgres, shared by every node that runs jobs. A node claims a due job
 * with `FOR UPDATE SKIP LOCKED` and holds a lease it renews while working; a job whose lease ran
 * out (its node died) is claimed again by another. Each claim counts an attempt, so a job that
 * kills its node every time ends failed instead of looping.
 */
export class MediaJobs {
  private readonly handlers = new Map<MediaJobKind, JobHandler>();
  private readonly running = new Map<string, AbortController>();
  private readonly tasks: PeriodicTasks;
  private readonly leaseMs: number;
  private readonly retryBaseMs: number;
  private readonly outcomes?: Counter<'kind' | 'outcome'>;
  private closed = false;
  private pumping = false;
  private again = false;

  constructor(private readonly o: MediaJobsOptions) {
    this.leaseMs = o.leaseMs ?? 60_000;
    this.retryBaseMs = o.retryBaseMs ?? 5_000;
    this.tasks = new PeriodicTasks(o.log, 'media jobs');
    if (o.registry) {
      this.outcomes = new Counter({
        name: 'lectern_media_jobs_total',
        help: 'Media jobs (packaging uploads, composing replays) finished, by kind and outcome',
        labelNames: ['kind', 'outcome'],
        registers: [o.registry],
      });
      const running = this.running;
      new Gauge({
        name: 'lectern_media_jobs_running',
        help: 'Media jobs this node is running',
        registers: [o.registry],
        collect() {
          this.set(running.size);
        },
      });
    }
  }

  handle(kind: MediaJobKind, handler: JobHandler): this {
    this.handlers.set(kind, handler);
    return this;
  }

  start(): void {
    if (!this.o.enabled) return;
    this.tasks.every(this.o.pollMs ?? 2_000, 'poll', () => this.pump());
    this.tasks.every(Math.max(1_000, this.leaseMs / 4), 'lease renewal', () => this.renewLeases());
    this.nudge();
  }

  /** Looks for work now (a job was just queued on this node). */
  nudge(): void {
    if (!this.o.enabled || this.closed) return;
    void this.pump().catch((err) => this.o.log.warn({ err }, 'media jobs: poll failed'));
  }

  /** Claims and starts jobs while there is room; one pump at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (!this.closed && this.running.size < this.o.concurrency) {
          const job = await this.claim();
          if (!job) break;
          this.runJob(job);
        }
      } while (this.again && !this.closed);
    } finally {
      this.pumping = false;
    }
  }

  private async claim(): Promise<MediaJobRow | undefined> {
    const { rows } = await sql<MediaJobRow>`
      UPDATE media_jobs SET status = 'running', attempts = attempts + 1, lease_owner = ${this.o.nodeId},
        lease_until = now() + ${`${this.leaseMs} milliseconds`}::interval, updated_at = now()
      WHERE id = (
        SELECT id FROM media_jobs
        WHERE (status = 'queued' AND run_after <= now()) OR (status = 'running' AND lease_until < now())
        ORDER BY run_after, created_at
        LIMIT 1 FOR UPDATE SKIP LOCKED
      )
      RETURNING *
    `.execute(this.o.db);
    return rows[0];
  }

  private async renewLeases(): Promise<void> {
    for (const [id, controller] of this.running) {
      const renewed = await this.o.db
        .updateTable('media_jobs')
        .set({ lease_until: sql<Date>`now() + ${`${this.leaseMs} milliseconds`}::interval` as never })
        .where('id', '=', id)
        .where('lease_owner', '=', this.o.nodeId)
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (Number(renewed.numUpdatedRows) === 0) {
        this.o.log.warn({ jobId: id }, 'media job lease lost: stopping it here');
        controller.abort(new Error('lease lost'));
      }
    }
  }

  private runJob(job: MediaJobRow): void {
    const controller = new AbortController();
    this.running.set(job.id, controller);
    const log = this.o.log.child({ jobId: job.id, assetId: job.asset_id, kind: job.kind, attempt: job.attempts });
    void this.execute(job, controller.signal, log)
      .catch((err) => log.error({ err }, 'media job bookkeeping failed'))
      .finally(() => {
        this.running.delete(job.id);
        this.nudge();
      });
  }

  private async execute(job: MediaJobRow, signal: AbortSignal, log: Logger): Promise<void> {
    const handler = this.handlers.get(job.kind);
    if (!handler) {
      await this.finish(job, 'failed', `no handler for ${job.kind}`);
      return;
    }
    if (job.attempts > this.o.maxAttempts) {
      // Claimed again after its node died on the last attempt.
      log.error('media job gave up: its attempts ran out while running');
      await handler.fail(job, 'PROCESSING_FAILED', 'processing kept failing');
      await this.finish(job, 'failed', 'attempts exhausted');
      return;
    }
    log.info('media job started');
    const started = Date.now();
    try {
      const result = await handler.run({ job, signal });
      if ('done' in result) {
        await this.finish(job, 'done', null);
        this.outcomes?.inc({ kind: job.kind, outcome: 'done' });
        log.info({ ms: Date.now() - started }, 'media job done');
      } else {
        // Waiting on something (a recording's last part): not an attempt.
        await this.reschedule(job, result.retryInMs, result.why, true);
        log.debug({ why: result.why }, 'media job waits');
      }
    } catch (err) {
      if (this.closed || (signal.aborted && String(signal.reason).includes('lease lost'))) {
        // Stopped on purpose: the next claim (here after a restart, or elsewhere) runs it again.
        log.info('media job interrupted');
        if (this.closed) await this.reschedule(job, 0, 'node stopped', true).catch(() => {});
        return;
      }
      const permanent = err instanceof PermanentJobError || (err as { permanent?: boolean })?.permanent === true;
      const code = (err as { code?: string })?.code ?? 'PROCESSING_FAILED';
      const message = (err as Error)?.message ?? String(err);
      if (permanent || job.attempts >= this.o.maxAttempts) {
        log.warn({ err, permanent }, 'media job failed');
        await handler.fail(
          job,
          permanent ? code : 'PROCESSING_FAILED',
          permanent ? message : 'processing kept failing',
        );
        await this.finish(job, 'failed', message);
        this.outcomes?.inc({ kind: job.kind, outcome: 'failed' });
      } else {
        const delay = this.retryBaseMs * 2 ** (job.attempts - 1);
        log.warn({ err, retryInMs: delay }, 'media job failed; it will be retried');
        await handler.cleanUp(job);
        await this.reschedule(job, delay, message, false);
        this.outcomes?.inc({ kind: job.kind, outcome: 'retried' });
      }
    }
  }

  /** Job updates apply only while this node holds the lease: a node that lost it changes nothing. */
  private async finish(job: MediaJobRow, status: 'done' | 'failed', error: string | null): Promise<void> {
    await this.o.db
      .updateTable('media_jobs')
      .set({ status, error, lease_owner: null, lease_until: null, updated_at: sql<Date>`now()` as never })
      .where('id', '=', job.id)
      .where('lease_owner', '=', this.o.nodeId)
      .execute();
  }

  /** Back on the queue; `refund` gives the attempt back (it was interrupted, not failed). */
  private async reschedule(job: MediaJobRow, delayMs: number, why: string, refund: boolean): Promise<void> {
    await this.o.db
      .updateTable('media_jobs')
      .set({
        status: 'queued',
        run_after: sql<Date>`now() + ${`${Math.max(0, Math.round(delayMs))} milliseconds`}::interval` as never,
        ...(refund ? { attempts: sql<number>`greatest(attempts - 1, 0)` as never } : {}),
        error: why,
        lease_owner: null,
        lease_until: null,
        updated_at: sql<Date>`now()` as never,
      })
      .where('id', '=', job.id)
      .where('lease_owner', '=', this.o.nodeId)
      .execute();
  }

  /** Stops claiming, interrupts running jobs (they go back on the queue) and waits for them. Safe twice. */
  async close(): Promise<void> {
    this.closed = true;
    this.tasks.stop();
    for (const controller of this.running.values()) controller.abort(new Error('node stopping'));
    const deadline = Date.now() + 10_000;
    while (this.running.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }
}
