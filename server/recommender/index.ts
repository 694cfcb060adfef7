import * as tf from '@tensorflow/tfjs';
import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Config } from '../config';
import type { DB } from '../db';
import { AppError } from '../errors';
import { type EngagementEvent, type Events, newEvent } from '../events';
import type { RoomAudience, SuggestionFeedback } from '../gateway';
import type { Logger } from '../log';
import { PeriodicTasks } from '../periodic';
import type { LiveLearnFrom, LiveLearnResult, LiveStep } from './live/scorer';
import { Random } from './model/random';
import { ActivityReporter } from './online/activity';
import { CatalogCache } from './online/catalog';
import { recommenderMetrics, recommenderStatusMetrics } from './online/metrics';
import { ModelStore, type StoredVersion } from './online/model-store';
import { ExposureWindow, type PolicyName, PushLimiter } from './online/policy';
import { Pusher, type PushRound } from './online/pusher';
import { RoomDirectory, RoomSignals } from './online/rooms';
import { ModelScorer, ServingModel, TagScorer } from './online/scorer';
import { OnlineTrainer, type TrainerStatus, type VersionOutcome } from './online/trainer';
import { ONLINE_MODEL_CONFIG } from './online/trainer-core';
import { ViewerProfiles } from './online/viewers';

export type { StoredVersion } from './online/model-store';
export type { PushRound } from './online/pusher';
export type { TrainerStatus, VersionOutcome } from './online/trainer';
export type { ValidationReport } from './online/validation';

/**
 * The online recommender: pushes suggested paid content (lessons, courses, subscriptions) to
 * viewers of live rooms, learns from what they do with it, and serves each better version as soon
 * as it has proven itself on held-out impressions. See docs/recommender.md.
 */
export interface Recommender extends SuggestionFeedback {
  /**
   * Every engagement event this node records (the gateway's and the payments' ones), in
   * process: room engagement features, owned contents, purchased impressions.
   */
  observe(event: EngagementEvent): void;
  status(): RecommenderStatus;
  /** Resolves once the serving version is loaded and the trainer (if any) runs. */
  ready(): Promise<void>;
  /** One pusher round now (tests, benchmarks); the timer runs them anyway. */
  pushNow(): Promise<PushRound>;
  /** Trains what is queued and offers the result as a version now (null: trainer off or nothing new). */
  publishNow(): Promise<VersionOutcome | null>;
  /** A full retrain from Postgres now (null: trainer off or no data). */
  retrainNow(): Promise<VersionOutcome | null>;
  /** Recorded model versions, newest first. */
  versions(limit?: number): Promise<StoredVersion[]>;
  /**
   * Steps of the live ranker ("Live now for you") in the trainer's host — its worker thread with
   * `RECOMMENDER_TRAINER_THREAD=worker` — prepared by the caller (`OnlineLiveRanker.choice`); the
   * answer's weights are for `OnlineLiveRanker.setWeights`. Null when this node has no trainer
   * host now (training off, starting, restarting, closed): the caller learns inline. Rejects when
   * the host fails (the worker died); the steps' buffers are transferred either way.
   */
  learnLive(steps: LiveStep[], from?: LiveLearnFrom): Promise<LiveLearnResult> | null;
  /** Stops the timers, the consumer and the trainer. Safe to call twice. */
  close(): Promise<void>;
}

export interface RecommenderStatus {
  policy: PolicyName;
  serving: { version: string; since: string | null };
  /** Null on a node that does not train (it loads promoted versions from Postgres). */
  trainer: TrainerStatus | null;
  /** The last version offered, with its held-out validation against the one serving then. */
  lastValidation: VersionOutcome | null;
  pushes: { rounds: number; suggestions: number; items: number; lastRoundMs: number };
  feedback: { clicks: number; dismissals: number };
}

export type RecommenderConfig = Pick<
  Config,
  | 'recommenderTraining'
  | 'recommenderTrainerThread'
  | 'recommenderPolicy'
  | 'recommenderTickMs'
  | 'recommenderPushIntervalSeconds'
  | 'recommenderJoinGraceSeconds'
  | 'recommenderDismissCooldownSeconds'
  | 'recommenderRepeatCooldownSeconds'
  | 'recommenderMaxItems'
  | 'recommenderMaxCandidates'
  | 'recommenderCreatorShareCap'
  | 'recommenderFairnessWindowSeconds'
  | 'recommenderFairnessMinExposures'
  | 'recommenderExploration'
  | 'recommenderLabelWindowSeconds'
  | 'recommenderTrainBatchSize'
  | 'recommenderTrainMaxDelayMs'
  | 'recommenderPublishIntervalSeconds'
  | 'recommenderRetrainIntervalMinutes'
  | 'recommenderRetrainMaxSeconds'
  | 'recommenderRetrainMaxRows'
  | 'recommenderHoldoutFraction'
  | 'recommenderValidationSize'
  | 'recommenderValidationMinExamples'
  | 'recommenderValidationTolerance'
  | 'recommenderCheckpointsKept'
  | 'recommenderSyncIntervalSeconds'
  | 'recommenderActivityIntervalSeconds'
  | 'recommenderModelDim'
  | 'eventsClaimMinIdleMs'
  | 'eventsMaxDeliveries'
>;

export interface RecommenderDeps {
  db: Kysely<DB>;
  config: RecommenderConfig;
  log: Logger;
  registry: Registry;
  /** The engagement log: the trainer consumes it (group `recommender`); suggestion events go to it. */
  events: Events;
  /** The gateway's audience on this node: who watches what, and how to reach them. */
  audience: RoomAudience;
  /** Seed of the policy's sampling (Thompson draws, random baseline). */
  seed?: number;
  /** The clock (tests drive it to run many push intervals quickly). */
  now?: () => number;
}

/** A dismissed item stays out of that viewer's suggestions for a day. */
const DISMISSED_ITEM_MS = 24 * 3600_000;
/** Feedback may come for any suggestion still on the viewer's screen; this bounds the lookup. */
const FEEDBACK_LOOKBACK_MS = 24 * 3600_000;

export function createRecommender(deps: RecommenderDeps): Recommender {
  const { db, config, log, events, audience } = deps;
  tf.env().set('PROD', true); // no "install tfjs-node" banner in the server log
  const metrics = recommenderMetrics(deps.registry);
  const now = deps.now ?? Date.now;
  const labelWindowMs = config.recommenderLabelWindowSeconds * 1000;
  const serving = new ServingModel(new TagScorer());
  const catalog = new CatalogCache(db, { now });
  const profiles = new ViewerProfiles(db, { now });
  const rooms = new RoomDirectory(db, 10_000, now);
  const signals = new RoomSignals(12 * 3600_000, now);
  const limiter = new PushLimiter(
    {
      pushIntervalMs: config.recommenderPushIntervalSeconds * 1000,
      joinGraceMs: config.recommenderJoinGraceSeconds * 1000,
      dismissCooldownMs: config.recommenderDismissCooldownSeconds * 1000,
      repeatCooldownMs: config.recommenderRepeatCooldownSeconds * 1000,
      dismissedItemMs: DISMISSED_ITEM_MS,
    },
    now,
  );
  const exposure = new ExposureWindow(config.recommenderFairnessWindowSeconds * 1000, now);
  const store = new ModelStore(db, config.recommenderCheckpointsKept);
  const currentVersion = () =>
    config.recommenderPolicy === 'model' ? serving.current().version : config.recommenderPolicy;
  const activity = new ActivityReporter(db, audience, rooms, catalog, currentVersion, 30_000, now);
  const trainer = config.recommenderTraining
    ? new OnlineTrainer({
        db,
        events,
        store,
        serving,
        catalog,
        profiles,
        log,
        metrics,
        now,
        settings: {
          thread: config.recommenderTrainerThread,
          labelWindowMs,
          batchSize: config.recommenderTrainBatchSize,
          maxDelayMs: config.recommenderTrainMaxDelayMs,
          publishIntervalMs: config.recommenderPublishIntervalSeconds * 1000,
          retrainIntervalMs: config.recommenderRetrainIntervalMinutes * 60_000,
          retrainMaxSeconds: config.recommenderRetrainMaxSeconds,
          retrainEpochs: 5,
          retrainMaxRows: config.recommenderRetrainMaxRows,
          holdoutFraction: config.recommenderHoldoutFraction,
          validationSize: config.recommenderValidationSize,
          claimMinIdleMs: config.eventsClaimMinIdleMs,
          maxDeliveries: config.eventsMaxDeliveries,
          core: {
            modelConfig: { ...ONLINE_MODEL_CONFIG, dim: config.recommenderModelDim },
            batchSize: config.recommenderTrainBatchSize,
            rules: {
              minExamples: config.recommenderValidationMinExamples,
              tolerance: config.recommenderValidationTolerance,
            },
          },
        },
      })
    : undefined;
  const pusher = new Pusher({
    db,
    audience,
    serving,
    catalog,
    profiles,
    rooms,
    signals,
    limiter,
    publish: (event) => void events.publish(event),
    onShown: trainer ? (id, context) => trainer.register(id, context) : undefined,
    onActivity: (roomId) => activity.touch(roomId),
    settings: {
      policy: config.recommenderPolicy,
      maxItems: config.recommenderMaxItems,
      maxCandidates: config.recommenderMaxCandidates,
      exploration: config.recommenderExploration,
      fairness: {
        window: exposure,
        maxShare: config.recommenderCreatorShareCap,
        minExposures: config.recommenderFairnessMinExposures,
      },
    },
    rng: new Random(deps.seed ?? Date.now() & 0x7fffffff),
    log,
    metrics,
    now,
  });
  const feedbackCounts = { clicks: 0, dismissals: 0 };
  let closing: Promise<void> | undefined;

  // --- background work -----------------------------------------------------------------------
  let closed = false;
  const tasks = new PeriodicTasks(log, 'recommender');
  const every = tasks.every.bind(tasks);

  /** Nodes without a trainer serve whatever version was promoted last. */
  async function syncServing(): Promise<void> {
    const version = await store.servingVersion();
    if (!version || version === serving.current().version) return;
    const loaded = await store.loadServing();
    if (loaded) serving.swap(ModelScorer.fromCheckpoint(loaded.version, loaded.checkpoint));
  }

  const starting = (async () => {
    if (trainer) await trainer.start();
    else await syncServing();
    log.info(
      {
        policy: config.recommenderPolicy,
        trainer: trainer ? config.recommenderTrainerThread : 'off',
        serving: currentVersion(),
      },
      'recommender started',
    );
  })();
  // No suggestion before the serving version is loaded: a restart must not fall back to the
  // cold-start scorer for its first rounds.
  let started = false;
  starting
    .catch((err) => log.error({ err }, 'recommender: start-up failed; suggestions use the cold-start scorer'))
    .finally(() => {
      started = true;
    });
  every(config.recommenderTickMs, 'push round', () => (started ? pusher.round() : undefined));
  every(config.recommenderActivityIntervalSeconds * 1000, 'activity report', () => activity.report());
  every(60_000, 'sweep', () => {
    limiter.sweep();
    profiles.sweep();
    rooms.sweep();
    signals.sweep();
  });
  if (!trainer) every(config.recommenderSyncIntervalSeconds * 1000, 'model sync', syncServing);

  // --- purchases of suggested items ------------------------------------------------------------
  async function markPurchased(userId: string, itemId: string, kind: 'content' | 'subscription', at: number) {
    const shownAfter = new Date(at - labelWindowMs);
    const result = await db
      .updateTable('recommendation_impressions')
      .set({ purchased_at: new Date(at) })
      .where('user_id', '=', userId)
      .where(kind === 'content' ? 'content_id' : 'creator_id', '=', itemId)
      .where('item_kind', '=', kind)
      .where('purchased_at', 'is', null)
      .where('shown_at', '>', shownAfter)
      .where('shown_at', '<=', new Date(at))
      .returning('room_id')
      .execute();
    for (const r of result) if (r.room_id) activity.touch(r.room_id);
  }

  const recommender: Recommender = {
    observe(event) {
      if (closed) return;
      signals.observe(event);
      const background = (p: Promise<unknown>) =>
        void p.catch((err) => log.warn({ err, type: event.type }, 'recommender: observing an event failed'));
      switch (event.type) {
        case 'purchase.completed':
          if (event.data.kind === 'content' && event.contentId) {
            catalog.notePurchase(event.contentId);
            profiles.noteOwned(event.userId, event.contentId);
            background(markPurchased(event.userId, event.contentId, 'content', event.at));
          } else profiles.invalidate(event.userId);
          break;
        case 'subscription.started':
          catalog.notePurchase(event.creatorId);
          profiles.noteSubscribed(event.userId, event.creatorId);
          background(markPurchased(event.userId, event.creatorId, 'subscription', event.at));
          break;
        case 'tip.sent':
        case 'media.completed':
          profiles.invalidate(event.userId);
          break;
      }
    },

    async feedback({ userId, roomId, contentId, action }) {
      const row = await db
        .selectFrom('recommendation_impressions')
        .select(['id', 'model_version', 'score', 'position', 'clicked_at', 'dismissed_at', 'creator_id', 'item_kind'])
        .where('user_id', '=', userId)
        .where('room_id', '=', roomId)
        .where((eb) =>
          eb.or([
            eb('content_id', '=', contentId),
            eb.and([eb('item_kind', '=', 'subscription'), eb('creator_id', '=', contentId)]),
          ]),
        )
        .where('shown_at', '>', new Date(now() - FEEDBACK_LOOKBACK_MS))
        .orderBy('shown_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (!row) throw new AppError('NOT_FOUND', 'no such suggestion for you in this room');
      const column = action === 'click' ? 'clicked_at' : 'dismissed_at';
      if (action === 'dismiss') limiter.dismissed(userId, contentId);
      // A click says something about the viewer's interests: their tags are read again.
      else profiles.invalidate(userId);
      // A second click (or dismissal) of the same impression is acknowledged but counted once.
      const updated = await db
        .updateTable('recommendation_impressions')
        .set({ [column]: new Date(now()) } as never)
        .where('id', '=', row.id)
        .where(column, 'is', null)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return;
      const fields = {
        roomId,
        userId,
        contentId,
        ...(row.creator_id ? { creatorId: row.creator_id } : {}),
        data: { modelVersion: row.model_version, score: row.score, position: row.position },
      };
      events.publish(
        action === 'click'
          ? newEvent('suggestion.clicked', fields, now)
          : newEvent('suggestion.dismissed', fields, now),
      );
      if (action === 'click') feedbackCounts.clicks++;
      else feedbackCounts.dismissals++;
      metrics.feedback.inc({ action });
      activity.touch(roomId);
    },

    status() {
      return {
        policy: config.recommenderPolicy,
        serving: {
          version: currentVersion(),
          since: serving.since === null ? null : new Date(serving.since).toISOString(),
        },
        trainer: trainer?.status() ?? null,
        lastValidation: trainer?.lastVersionOutcome ?? null,
        pushes: { ...pusher.totals },
        feedback: { ...feedbackCounts },
      };
    },

    ready: () => starting.catch(() => undefined),
    pushNow: () => pusher.round(),
    publishNow: async () => (trainer ? trainer.publishNow() : null),
    retrainNow: async () => (trainer ? trainer.retrainNow() : null),
    versions: (limit) => store.versions(limit),
    learnLive: (steps, from) => (closed ? null : (trainer?.learnLive(steps, from) ?? null)),

    close() {
      closing ??= (async () => {
        closed = true;
        tasks.stop();
        await starting.catch(() => undefined);
        await trainer?.close();
      })();
      return closing;
    },
  };
  recommenderStatusMetrics(deps.registry, () => recommender.status());
  return recommender;
}
