import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db';
import { type Consumer, type EngagementEvent, type Events, onceEach, seenOptionsFor } from '../../events';
import type { Logger } from '../../log';
import { PeriodicTasks } from '../../periodic';
import type { LiveLearnFrom, LiveLearnResult, LiveStep } from '../live/scorer';
import type { TrainingExample } from '../model';
import type { CatalogCache } from './catalog';
import { candidateOf, purchaseContextOf } from './context';
import { isHeldOut, LabelJoiner, type Resolution } from './labels';
import type { RecommenderMetrics } from './metrics';
import type { ModelStore } from './model-store';
import { ModelScorer, type ServingModel } from './scorer';
import type { Offer, TrainerCoreOptions, TrainerCoreStats } from './trainer-core';
import { createTrainerHost, type TrainerHost } from './trainer-host';
import { loadTrainingData } from './training-data';
import type { ImpressionContext } from './types';
import type { ValidationReport } from './validation';
import type { ViewerProfiles } from './viewers';

export const RECOMMENDER_GROUP = 'recommender';

export interface OnlineTrainerSettings {
  thread: 'worker' | 'inline';
  labelWindowMs: number;
  batchSize: number;
  maxDelayMs: number;
  publishIntervalMs: number;
  /** 0: only at start-up (when nothing serves). */
  retrainIntervalMs: number;
  retrainMaxSeconds: number;
  retrainEpochs: number;
  retrainMaxRows: number;
  holdoutFraction: number;
  validationSize: number;
  core: Partial<TrainerCoreOptions>;
  claimMinIdleMs: number;
  maxDeliveries: number;
}

export interface OnlineTrainerDeps {
  db: Kysely<DB>;
  events: Events;
  store: ModelStore;
  serving: ServingModel;
  catalog: CatalogCache;
  profiles: ViewerProfiles;
  settings: OnlineTrainerSettings;
  log: Logger;
  metrics: RecommenderMetrics;
  now?: () => number;
}

/** What happened to an offered version. */
export interface VersionOutcome {
  version: string;
  kind: Offer['kind'];
  promoted: boolean;
  validation: ValidationReport;
  at: string;
}

export interface TrainerStatus {
  thread: 'worker' | 'inline';
  examplesTrained: number;
  steps: number;
  lastLoss: number | null;
  heldOut: number;
  labelled: { positive: number; negative: number };
  implicit: number;
  pendingImpressions: number;
  /** Resolved impressions whose features could not be found (no row, no context): not trained on. */
  missingContext: number;
  versions: { promoted: number; rejected: number };
  retrains: number;
  lastRetrainAt: string | null;
  lastTrainedAt: string | null;
  failed: string | null;
}

/**
 * The online loop's learning half, on the node that trains: reads the engagement stream as the
 * `recommender` consumer group; joins impressions with clicks, purchases and dismissals into
 * labelled examples (`LabelJoiner`) and purchases into implicit positives; trains them in small
 * batches within a second or so (`TrainerHost`, a worker thread by default); every publish
 * interval offers what the learner has become as a new version, which is validated on held-out
 * impressions, checkpointed in Postgres and hot-swapped into serving when it passes; and retrains
 * from scratch on a schedule.
 */
export class OnlineTrainer {
  private host: TrainerHost | undefined;
  private consumer: Consumer | undefined;
  private readonly joiner: LabelJoiner;
  /** Features of impressions pushed by this node, so labelling them needs no database read. */
  private readonly contexts = new Map<string, { context: ImpressionContext; at: number }>();
  private resolved: Resolution[] = [];
  private implicit: TrainingExample[] = [];
  private flushing: Promise<void> | undefined;
  private exclusive: Promise<unknown> = Promise.resolve();
  private readonly tasks: PeriodicTasks;
  private closed = false;
  private restarting = false;
  private lastValidation: VersionOutcome | null = null;
  private readonly counts = {
    positive: 0,
    negative: 0,
    implicit: 0,
    missingContext: 0,
    promoted: 0,
    rejected: 0,
    lastRetrainAt: null as string | null,
    lastTrainedAt: null as string | null,
    failed: null as string | null,
  };
  private readonly now: () => number;

  constructor(private readonly deps: OnlineTrainerDeps) {
    this.now = deps.now ?? Date.now;
    this.joiner = new LabelJoiner({ windowMs: deps.settings.labelWindowMs });
    this.tasks = new PeriodicTasks(deps.log, 'recommender');
  }

  async start(): Promise<void> {
    const { settings, store, serving, events } = this.deps;
    const initial = await store.loadServing();
    if (initial) serving.swap(ModelScorer.fromCheckpoint(initial.version, initial.checkpoint));
    this.startHost(initial);
    await this.restorePending();
    if (this.closed) return;
    const seen = events.seenEvents(RECOMMENDER_GROUP, seenOptionsFor(settings.claimMinIdleMs));
    this.consumer = events.consume({
      group: RECOMMENDER_GROUP,
      handler: onceEach(seen, async (event) => this.handle(event)),
      claimMinIdleMs: settings.claimMinIdleMs,
      maxDeliveries: settings.maxDeliveries,
    });
    this.tasks.every(1000, 'label expiry', () => this.expire());
    this.tasks.every(settings.maxDelayMs, 'training', () => this.flush());
    this.tasks.every(settings.publishIntervalMs, 'publishing', () => this.publishNow());
    if (settings.retrainIntervalMs > 0)
      this.tasks.every(settings.retrainIntervalMs, 'retrain', () => this.retrainNow());
    // Nothing serves yet: learn from whatever Postgres already holds.
    if (!initial)
      void this.retrainNow().catch((err) => this.deps.log.warn({ err }, 'recommender: start-up retrain failed'));
  }

  private startHost(initial?: { version: string; checkpoint: Uint8Array }): void {
    const { settings } = this.deps;
    const host = createTrainerHost(
      settings.thread,
      { ...settings.core, validationSize: settings.validationSize },
      initial,
    );
    host.onFailure((err) => {
      this.counts.failed = err.message;
      this.deps.log.error({ err }, 'recommender: trainer died; restarting it from the serving version');
      void this.restartHost();
    });
    this.host = host;
  }

  /** A crashed worker is replaced, starting from the serving checkpoint; what it was learning is lost. */
  private async restartHost(): Promise<void> {
    if (this.closed || this.restarting) return;
    this.restarting = true;
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (this.closed) return;
      const initial = await this.deps.store.loadServing().catch(() => undefined);
      this.startHost(initial);
    } finally {
      this.restarting = false;
    }
  }

  /** Impressions still inside their window when this node (re)starts wait for their labels again. */
  private async restorePending(): Promise<void> {
    const windowSeconds = this.deps.settings.labelWindowMs / 1000;
    const rows = await sql<{
      id: string;
      user_id: string;
      room_id: string;
      item_id: string;
      shown_at: Date;
      model_version: string;
    }>`
      SELECT id, user_id, room_id, coalesce(content_id, creator_id) AS item_id, shown_at, model_version
      FROM recommendation_impressions
      WHERE shown_at > now() - make_interval(secs => ${windowSeconds})
        AND clicked_at IS NULL AND dismissed_at IS NULL AND purchased_at IS NULL AND room_id IS NOT NULL
      ORDER BY shown_at
    `.execute(this.deps.db);
    for (const r of rows.rows) {
      this.joiner.shown({
        id: r.id,
        userId: r.user_id,
        roomId: r.room_id,
        itemId: r.item_id,
        shownAt: r.shown_at.getTime(),
        modelVersion: r.model_version,
      });
    }
  }

  /** The pusher on this node hands over the features of what it just showed. */
  register(impressionId: string, context: ImpressionContext): void {
    this.contexts.set(impressionId, { context, at: this.now() });
  }

  /** One event from the stream (at most once per event id, see `onceEach`). */
  async handle(event: EngagementEvent): Promise<void> {
    const { catalog, profiles } = this.deps;
    switch (event.type) {
      case 'suggestion.shown':
        if (!event.userId) return;
        this.enqueue(
          this.joiner.shown({
            id: event.id,
            userId: event.userId,
            roomId: event.roomId,
            itemId: event.contentId,
            shownAt: event.at,
            modelVersion: event.data.modelVersion,
          }),
        );
        return;
      case 'suggestion.clicked':
        if (event.userId) this.enqueue(this.joiner.clicked(event.userId, event.contentId, event.at));
        return;
      case 'suggestion.dismissed':
        if (event.userId) this.enqueue(this.joiner.dismissed(event.userId, event.contentId, event.at));
        return;
      case 'purchase.completed':
      case 'subscription.started': {
        const itemId =
          event.type === 'subscription.started'
            ? event.creatorId
            : event.data.kind === 'content'
              ? event.contentId
              : null;
        if (!itemId) return;
        this.enqueue(this.joiner.purchased(event.userId, itemId, event.at));
        // On a node with nobody watching, the catalog may not have been read yet.
        if (!catalog.item(itemId)) await catalog.refresh();
        const item = catalog.item(itemId);
        if (item) {
          this.implicit.push({
            user: purchaseContextOf(profiles.cached(event.userId), event.userId, item),
            candidate: candidateOf(item, catalog.statsOf(item.id)),
          });
          this.counts.implicit++;
          this.deps.metrics.examples.inc({ kind: 'implicit' });
        }
        this.flushSoon();
        return;
      }
    }
  }

  private enqueue(resolutions: Resolution[]): void {
    if (resolutions.length === 0) return;
    for (const r of resolutions) this.resolved.push(r);
    this.flushSoon();
  }

  private flushSoon(): void {
    if (this.resolved.length + this.implicit.length >= this.deps.settings.batchSize) void this.flush();
  }

  private expire(): void {
    this.enqueue(this.joiner.expire(this.now()));
    this.deps.metrics.pending.set(this.joiner.size);
    // Contexts outlive their impression's window only by a margin.
    const cutoff = this.now() - this.deps.settings.labelWindowMs - 60_000;
    for (const [id, c] of this.contexts) {
      if (c.at >= cutoff) break;
      this.contexts.delete(id);
    }
  }

  /** Sends what is queued to the trainer now: labelled impressions (with their features) and purchases. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const host = this.host;
    if (!host || (this.resolved.length === 0 && this.implicit.length === 0)) return;
    const resolved = this.resolved;
    const implicit = this.implicit;
    this.resolved = [];
    this.implicit = [];
    const contexts = await this.contextsOf(resolved.map((r) => r.impression.id));
    const examples: TrainingExample[] = [...implicit];
    const heldOut: TrainingExample[] = [];
    for (const r of resolved) {
      const context = contexts.get(r.impression.id);
      if (!context) {
        this.counts.missingContext++;
        continue;
      }
      const example: TrainingExample = { user: context.user, candidate: context.candidate, label: r.label };
      if (r.label === 1) this.counts.positive++;
      else this.counts.negative++;
      const held = isHeldOut(r.impression.id, this.deps.settings.holdoutFraction);
      this.deps.metrics.examples.inc({ kind: held ? 'held_out' : r.label === 1 ? 'positive' : 'negative' });
      (held ? heldOut : examples).push(example);
    }
    if (examples.length === 0 && heldOut.length === 0) return;
    await host.train(examples, heldOut);
    this.counts.lastTrainedAt = new Date(this.now()).toISOString();
  }

  private async contextsOf(ids: string[]): Promise<Map<string, ImpressionContext>> {
    const out = new Map<string, ImpressionContext>();
    const missing: string[] = [];
    for (const id of ids) {
      const local = this.contexts.get(id);
      if (local) {
        out.set(id, local.context);
        this.contexts.delete(id);
      } else missing.push(id);
    }
    if (missing.length > 0) {
      const rows = await this.deps.db
        .selectFrom('recommendation_impressions')
        .select(['id', 'context'])
        .where('id', 'in', missing)
        .execute();
      for (const r of rows) if (r.context) out.set(r.id, r.context as ImpressionContext);
    }
    return out;
  }

  /** Offers, persists and (when validation passes) swaps in one version at a time. */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(fn, fn);
    this.exclusive = run.catch(() => undefined);
    return run;
  }

  /** Trains what is queued, then offers the learner as a new version if it learned anything. */
  publishNow(): Promise<VersionOutcome | null> {
    return this.serialized(async () => {
      this.expire();
      await this.flush();
      const host = this.host;
      if (!host || this.closed) return null;
      const offer = await host.offerIncremental();
      return offer ? this.decide(host, offer) : null;
    });
  }

  /** A full retrain from Postgres now; null when there is nothing to learn from yet. */
  retrainNow(): Promise<VersionOutcome | null> {
    return this.serialized(async () => {
      const host = this.host;
      if (!host || this.closed) return null;
      const { settings } = this.deps;
      const started = this.now();
      const data = await loadTrainingData(this.deps.db, {
        maxRows: settings.retrainMaxRows,
        labelWindowMs: settings.labelWindowMs,
        holdoutFraction: settings.holdoutFraction,
        heldOutSize: settings.validationSize,
      });
      if (data.examples.length === 0) return null;
      const offer = await host.retrain(
        { examples: data.examples, heldOut: data.heldOut },
        { epochs: settings.retrainEpochs, maxSeconds: settings.retrainMaxSeconds },
      );
      const outcome = offer ? await this.decide(host, offer) : null;
      // Set once the new version (if promoted) serves: "retrained" means the result is decided.
      this.counts.lastRetrainAt = new Date(this.now()).toISOString();
      this.deps.log.info(
        {
          ...data.counts,
          seconds: (this.now() - started) / 1000,
          version: outcome?.version,
          promoted: outcome?.promoted,
        },
        'recommender: full retrain finished',
      );
      return outcome;
    });
  }

  private async decide(host: TrainerHost, offer: Offer): Promise<VersionOutcome | null> {
    const { store, serving, log, metrics } = this.deps;
    const promote = offer.validation.promote;
    let version: string;
    try {
      version = await store.record(
        {
          kind: offer.kind,
          parentVersion: serving.current().version,
          trainedExamples: offer.trainedExamples,
          validation: offer.validation,
          checkpoint: offer.checkpoint,
        },
        promote,
      );
    } catch (err) {
      // Not persisted, not served: a version every node can load or none.
      log.warn({ err }, 'recommender: could not record a model version');
      await host.commit(offer.id, undefined);
      return null;
    }
    if (promote) serving.swap(ModelScorer.fromCheckpoint(version, offer.checkpoint));
    await host.commit(offer.id, promote ? version : undefined);
    if (promote) this.counts.promoted++;
    else this.counts.rejected++;
    metrics.versions.inc({ kind: offer.kind, outcome: promote ? 'promoted' : 'rejected' });
    const outcome: VersionOutcome = {
      version,
      kind: offer.kind,
      promoted: promote,
      validation: offer.validation,
      at: new Date(this.now()).toISOString(),
    };
    this.lastValidation = outcome;
    log.info(
      {
        version,
        kind: offer.kind,
        promoted: promote,
        reason: offer.validation.reason,
        heldOut: offer.validation.examples,
        logLoss: offer.validation.candidate.logLoss,
        servingLogLoss: offer.validation.serving.logLoss,
        auc: offer.validation.candidate.auc,
      },
      promote ? 'recommender: new model version serving' : 'recommender: model version rejected',
    );
    return outcome;
  }

  status(): TrainerStatus {
    const stats: TrainerCoreStats | undefined = this.host?.stats();
    return {
      thread: this.deps.settings.thread,
      examplesTrained: stats?.trainedExamples ?? 0,
      steps: stats?.steps ?? 0,
      lastLoss: stats?.lastLoss ?? null,
      heldOut: stats?.heldOut ?? 0,
      labelled: { positive: this.counts.positive, negative: this.counts.negative },
      implicit: this.counts.implicit,
      pendingImpressions: this.joiner.size,
      missingContext: this.counts.missingContext,
      versions: { promoted: this.counts.promoted, rejected: this.counts.rejected },
      retrains: stats?.retrains ?? 0,
      lastRetrainAt: this.counts.lastRetrainAt,
      lastTrainedAt: this.counts.lastTrainedAt,
      failed: this.counts.failed,
    };
  }

  /**
   * Live ranker steps in the trainer's host (its worker thread by default); null when there is no
   * host to take them (starting, restarting after a crash, closed): the caller learns inline.
   */
  learnLive(steps: LiveStep[], from?: LiveLearnFrom): Promise<LiveLearnResult> | null {
    const host = this.host;
    if (!host || this.closed) return null;
    return host.learnLive(steps, from);
  }

  get lastVersionOutcome(): VersionOutcome | null {
    return this.lastValidation;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.tasks.stop();
    await this.consumer?.close();
    // The host first: a retrain in flight is cut short rather than waited for.
    await this.host?.close();
    await this.flushing?.catch(() => undefined);
    await this.exclusive.catch(() => undefined);
  }
}
