import { Registry } from 'prom-client';
import type { SuggestionItem } from '../../protocol';
import { loadConfig } from '../../server/config';
import type { EngagementEvent } from '../../server/events';
import type { AudienceMember, RoomAudience } from '../../server/gateway';
import { createLogger } from '../../server/log';
import { createRecommender } from '../../server/recommender';
import { Random } from '../../server/recommender/model/random';
import { CatalogCache } from '../../server/recommender/online/catalog';
import { recommenderMetrics } from '../../server/recommender/online/metrics';
import { ModelStore } from '../../server/recommender/online/model-store';
import { ExposureWindow, PushLimiter } from '../../server/recommender/online/policy';
import { Pusher } from '../../server/recommender/online/pusher';
import { RoomDirectory, RoomSignals } from '../../server/recommender/online/rooms';
import { ModelScorer, type Scorer, ServingModel } from '../../server/recommender/online/scorer';
import { TrainerCore } from '../../server/recommender/online/trainer-core';
import { createTrainerHost } from '../../server/recommender/online/trainer-host';
import type { ValidationReport } from '../../server/recommender/online/validation';
import { ViewerProfiles } from '../../server/recommender/online/viewers';
import { startTestServer, type TestServer } from '../helpers/server';
import { eventually } from '../helpers/socket';

/**
 * Versions and checkpoints: a version trained in the worker thread, written to Postgres, loaded
 * back scores exactly the same; promotion keeps one serving version; and a hot swap in the middle
 * of a round of suggestions neither drops the round nor mixes versions in it.
 */

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

const SMALL = { modelConfig: { dim: 8, historyLength: 4, negatives: 16 }, minExamplesToServe: 10, seed: 3 };

const validation = (promote: boolean): ValidationReport => ({
  examples: 0,
  positives: 0,
  candidate: { logLoss: 0.1, auc: null },
  serving: { logLoss: 0.2, auc: null, version: 'cold-tags' },
  promote,
  reason: 'test',
});

function examples(n: number, seed: number) {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => {
    const camp = rng.int(2) ? 'a' : 'b';
    return {
      user: { userId: `u-${camp}-${rng.int(5)}`, tags: [camp] },
      candidate: { contentId: `c-${camp}-${rng.int(5)}`, tags: [camp], creatorId: 'k', price: 500, kind: 'lesson' },
      label: (rng.next() < 0.5 ? 1 : 0) as 0 | 1,
    };
  });
}

describe('model versions in Postgres', () => {
  it('trains in a worker thread and round-trips the checkpoint through Postgres bit for bit', async () => {
    const host = createTrainerHost('worker', SMALL);
    try {
      await host.train(examples(200, 1), examples(20, 2));
      const offer = await host.offerIncremental();
      if (!offer) throw new Error('expected an offer from the worker');
      expect(offer.kind).toBe('incremental');
      expect(host.stats()?.trainedExamples).toBe(200);
      expect(host.stats()?.heldOut).toBe(20);

      const store = new ModelStore(s.lectern.database.db, 2);
      const version = await store.record(
        {
          kind: offer.kind,
          parentVersion: null,
          trainedExamples: offer.trainedExamples,
          validation: offer.validation,
          checkpoint: offer.checkpoint,
        },
        true,
      );
      await host.commit(offer.id, version);
      expect(host.stats()?.championVersion).toBe(version);

      const loaded = await store.loadServing();
      expect(loaded?.version).toBe(version);
      expect(Buffer.from(loaded!.checkpoint).equals(Buffer.from(offer.checkpoint))).toBe(true);
      const a = ModelScorer.fromCheckpoint(version, offer.checkpoint);
      const b = ModelScorer.fromCheckpoint(version, loaded!.checkpoint);
      const probe = examples(30, 9);
      for (const e of probe) {
        expect(Array.from(b.score(e.user, [e.candidate]).probability)).toEqual(
          Array.from(a.score(e.user, [e.candidate]).probability),
        );
      }
    } finally {
      await host.close();
    }
  });

  it('keeps exactly one serving version and prunes old checkpoints, never the serving one', async () => {
    const db = s.lectern.database.db;
    await db.deleteFrom('recommender_models').execute();
    const store = new ModelStore(db, 2);
    const checkpoint = new Uint8Array([1, 2, 3, 4]);
    const record = (promote: boolean) =>
      store.record(
        { kind: 'incremental', parentVersion: null, trainedExamples: 1, validation: validation(promote), checkpoint },
        promote,
      );
    const names: string[] = [];
    for (const promote of [true, false, true, true, true, false]) names.push(await record(promote));
    const versions = await store.versions();
    expect(versions.map((v) => v.version)).toEqual([...names].reverse());
    expect(versions.filter((v) => v.status === 'serving').map((v) => v.version)).toEqual([names[4]]);
    expect(
      versions
        .filter((v) => v.status === 'rejected')
        .map((v) => v.version)
        .sort(),
    ).toEqual([names[1], names[5]].sort());
    expect(await store.servingVersion()).toBe(names[4]);
    const withCheckpoint = await db
      .selectFrom('recommender_models')
      .select('version')
      .where('checkpoint', 'is not', null)
      .orderBy('id')
      .execute();
    // The serving one and the two most recent others that were promoted.
    expect(withCheckpoint.map((r) => r.version)).toEqual([names[2], names[3], names[4]]);
    expect(versions[0].validation).toMatchObject({ promote: false, reason: 'test' });
  });
});

describe('a node without the trainer', () => {
  it('serves the promoted version from Postgres and follows new promotions', async () => {
    const db = s.lectern.database.db;
    const core = new TrainerCore({ ...SMALL, minExamplesToServe: 0 });
    core.train(examples(100, 4));
    const store = new ModelStore(db, 2);
    const save = async () => {
      core.train(examples(20, 5));
      const offer = core.offerIncremental();
      if (!offer) throw new Error('expected an offer');
      const version = await store.record(
        {
          kind: 'incremental',
          parentVersion: null,
          trainedExamples: offer.trainedExamples,
          validation: validation(true),
          checkpoint: offer.checkpoint,
        },
        true,
      );
      core.commit(offer.id, version);
      return version;
    };
    const first = await save();
    const audience: RoomAudience = { members: () => [], suggest: () => {}, reportToOwner: () => {} };
    const recommender = createRecommender({
      db,
      config: loadConfig({ RECOMMENDER_TRAINING: 'false', RECOMMENDER_SYNC_INTERVAL_SECONDS: '1' }),
      log: createLogger('silent'),
      registry: new Registry(),
      events: s.lectern.engagement,
      audience,
    });
    try {
      await recommender.ready();
      expect(recommender.status()).toMatchObject({ serving: { version: first }, trainer: null });
      const second = await save();
      await eventually(() => recommender.status().serving.version === second, 10_000, 'the new version to serve');
    } finally {
      await recommender.close();
    }
  });
});

describe('hot swap', () => {
  it('finishes a round in flight on the version it started with, and the next round uses the new one', async () => {
    const creator = await s.api.register('creator');
    await s.api.content(creator.token, { title: 'One', price: 500, tags: ['x'] });
    await s.api.content(creator.token, { title: 'Two', price: 800, tags: ['x'] });
    const room = await s.api.room(creator.token, { title: 'Live', tags: ['x'] });
    await s.api.post(`/api/rooms/${room.id}/start`, {}, creator.token);
    const viewers = await Promise.all(Array.from({ length: 5 }, () => s.api.register()));

    let t = Date.now();
    const now = () => t;
    const members: AudienceMember[] = viewers.map((v, i) => ({
      roomId: room.id,
      userId: v.user.id,
      connectionId: `conn-${i}`,
      joinedAt: t - 3600_000,
      access: 'full',
    }));
    const delivered: { connectionId: string; modelVersion: string; items: SuggestionItem[] }[] = [];
    const audience: RoomAudience = {
      members: () => members,
      suggest: (connectionId, p) => delivered.push({ connectionId, ...p }),
      reportToOwner: () => {},
    };
    const calls: Record<string, number> = { old: 0, new: 0 };
    const stub = (version: string): Scorer => ({
      version,
      score: (_u, candidates) => {
        calls[version]++;
        const p = Float32Array.from(candidates, () => 0.1);
        return { probability: p, value: p, oddsStd: new Float32Array(candidates.length) };
      },
    });
    const serving = new ServingModel(stub('old'));
    const db = s.lectern.database.db;
    const published: EngagementEvent[] = [];
    const pusher = new Pusher({
      db,
      audience,
      serving,
      catalog: new CatalogCache(db, { now }),
      profiles: new ViewerProfiles(db, { now }),
      rooms: new RoomDirectory(db, 10_000, now),
      signals: new RoomSignals(),
      limiter: new PushLimiter(
        { pushIntervalMs: 1000, joinGraceMs: 0, dismissCooldownMs: 0, repeatCooldownMs: 0, dismissedItemMs: 0 },
        now,
      ),
      publish: (e) => published.push(e),
      settings: {
        policy: 'model',
        maxItems: 2,
        maxCandidates: 50,
        exploration: 1,
        fairness: { window: new ExposureWindow(60_000, now), maxShare: 1, minExposures: 0 },
      },
      rng: new Random(1),
      log: createLogger('silent'),
      metrics: recommenderMetrics(new Registry()),
      now,
    });

    const inFlight = pusher.round(); // takes its scorer now, then reads Postgres
    serving.swap(stub('new')); // a new version is promoted meanwhile
    const first = await inFlight;
    expect(first).toMatchObject({ due: 5, suggestions: 5, version: 'old' });
    expect(calls).toEqual({ old: 5, new: 0 });
    expect(delivered).toHaveLength(5);
    expect(new Set(delivered.map((d) => d.modelVersion))).toEqual(new Set(['old']));
    expect(published.every((e) => e.type === 'suggestion.shown' && e.data.modelVersion === 'old')).toBe(true);

    t += 1000;
    const second = await pusher.round();
    expect(second).toMatchObject({ due: 5, suggestions: 5, version: 'new' });
    expect(calls).toEqual({ old: 5, new: 5 });
    const rows = await db
      .selectFrom('recommendation_impressions')
      .select(['model_version'])
      .where('room_id', '=', room.id)
      .execute();
    expect(rows.filter((r) => r.model_version === 'old')).toHaveLength(10);
    expect(rows.filter((r) => r.model_version === 'new')).toHaveLength(10);
  });
});
