/**
 * Recommender benchmarks: training throughput (in process and through the worker thread),
 * scoring latency for 1,000 candidates, and how long an event takes to reach a viewer's next
 * suggestion (a purchase: the item is gone; a click: a model version trained on it serves).
 */
import { randomUUID } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { io, type Socket } from 'socket.io-client';
import type { ServerToClientEvents } from '../../protocol';
import type { Candidate, TrainingExample, UserContext } from '../../server/recommender/model';
import { Random } from '../../server/recommender/model/random';
import { ExposureWindow, selectItems } from '../../server/recommender/online/policy';
import { ModelScorer } from '../../server/recommender/online/scorer';
import { ONLINE_MODEL_CONFIG, TrainerCore } from '../../server/recommender/online/trainer-core';
import { createTrainerHost } from '../../server/recommender/online/trainer-host';
import type { CandidateItem } from '../../server/recommender/online/types';
import { type BenchServer, call, json, percentiles, post as postTo } from './harness';

/** The server for the latency benchmark: every interval short, so the pipeline is what is measured. */
export const RECOMMENDER_BENCH_ENV: Record<string, string> = {
  RECOMMENDER_ENABLED: 'true',
  RECOMMENDER_TICK_MS: '50',
  RECOMMENDER_PUSH_INTERVAL_SECONDS: '1',
  RECOMMENDER_JOIN_GRACE_SECONDS: '0',
  RECOMMENDER_DISMISS_COOLDOWN_SECONDS: '0',
  RECOMMENDER_REPEAT_COOLDOWN_SECONDS: '0',
  RECOMMENDER_PUBLISH_INTERVAL_SECONDS: '1',
  RECOMMENDER_TRAIN_MAX_DELAY_MS: '50',
  RECOMMENDER_LABEL_WINDOW_SECONDS: '600',
  RECOMMENDER_RETRAIN_INTERVAL_MINUTES: '0',
};

const CATALOG = 5000;
const TAGS = 200;
const CREATORS = 300;

/** A synthetic platform: contents with tags, creators and prices; viewers with history and a room. */
function synthetic(seed: number) {
  const rng = new Random(seed);
  const contents: Candidate[] = Array.from({ length: CATALOG }, (_, i) => ({
    contentId: `c${i}`,
    tags: [`t${rng.int(TAGS)}`, `t${rng.int(TAGS)}`],
    creatorId: `k${rng.int(CREATORS)}`,
    price: 300 + rng.int(5000),
    kind: ['lesson', 'course', 'bundle'][rng.int(3)],
    purchases: rng.int(50),
    impressions: 50 + rng.int(2000),
  }));
  const user = (): UserContext => ({
    userId: `u${rng.int(20_000)}`,
    tags: [`t${rng.int(TAGS)}`, `t${rng.int(TAGS)}`, `t${rng.int(TAGS)}`],
    history: Array.from({ length: 20 }, () => `c${rng.int(CATALOG)}`),
    spend: rng.int(50_000),
    purchases: rng.int(30),
    room: {
      tags: [`t${rng.int(TAGS)}`],
      creatorId: `k${rng.int(CREATORS)}`,
      secondsInRoom: rng.int(3600),
      likes: rng.int(20),
      chats: rng.int(5),
      tipped: 0,
    },
  });
  const example = (labelled: boolean): TrainingExample => ({
    user: user(),
    candidate: contents[rng.int(CATALOG)],
    ...(labelled ? { label: (rng.next() < 0.05 ? 1 : 0) as 0 | 1 } : {}),
  });
  return { rng, contents, user, example };
}

async function trainingThroughput(examples: number) {
  const world = synthetic(1);
  // Every content known, as on a running platform.
  const warm = new TrainerCore({ modelConfig: ONLINE_MODEL_CONFIG, minExamplesToServe: 0 });
  warm.train(world.contents.map((candidate) => ({ user: world.user(), candidate })));
  const measure = (labelled: boolean) => {
    const data = Array.from({ length: examples }, () => world.example(labelled));
    const t = performance.now();
    warm.train(data);
    return Math.round(examples / ((performance.now() - t) / 1000));
  };
  const inlineLabelled = measure(true);
  const inlineImplicit = measure(false);

  // Through the worker, in the online trainer's batches: messaging and cloning included.
  const host = createTrainerHost('worker', { modelConfig: ONLINE_MODEL_CONFIG });
  try {
    await host.train(
      world.contents.map((candidate) => ({ user: world.user(), candidate })),
      [],
    );
    const batches = Array.from({ length: Math.ceil(examples / 64) }, () =>
      Array.from({ length: 64 }, () => world.example(true)),
    );
    const t = performance.now();
    await Promise.all(batches.map((b) => host.train(b, [])));
    const workerLabelled = Math.round((batches.length * 64) / ((performance.now() - t) / 1000));
    return {
      examplesPerSecond: { inlineLabelled, inlineImplicit, workerLabelled },
      note: 'labelled steps replay as many recent examples as they bring (replay 1): counted once',
    };
  } finally {
    await host.close();
  }
}

function scoringLatency(calls: number) {
  const world = synthetic(2);
  const core = new TrainerCore({ modelConfig: ONLINE_MODEL_CONFIG, minExamplesToServe: 0 });
  core.train(world.contents.map((candidate) => ({ user: world.user(), candidate })));
  core.train(Array.from({ length: 5000 }, () => world.example(true)));
  const offer = core.offerIncremental();
  if (!offer) throw new Error('no model to score with');
  // The hot swap's cost on the serving thread: decoding and deserializing the checkpoint.
  const loads: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    ModelScorer.fromCheckpoint('bench', offer.checkpoint);
    loads.push(performance.now() - t);
  }
  const scorer = ModelScorer.fromCheckpoint('bench', offer.checkpoint);
  const candidates = world.contents.slice(0, 1000);
  const items: CandidateItem[] = candidates.map((c) => ({
    item: {
      id: c.contentId,
      kind: 'lesson',
      creatorId: c.creatorId ?? '',
      title: '',
      price: c.price ?? 0,
      tags: c.tags ?? [],
    },
    source: 'tags',
  }));
  const window = new ExposureWindow(600_000);
  const score: number[] = [];
  const scoreAndPick: number[] = [];
  for (let i = 0; i < calls + 20; i++) {
    const user = world.user();
    const t0 = performance.now();
    const scores = scorer.score(user, candidates);
    const t1 = performance.now();
    selectItems(items, scores, {
      policy: 'model',
      maxItems: 3,
      exploration: 1,
      rng: world.rng,
      fairness: { window, maxShare: 0.35, minExposures: 30 },
      dismissed: new Set(),
      recentlyShown: new Set(),
    });
    const t2 = performance.now();
    if (i < 20) continue; // warm-up
    score.push(t1 - t0);
    scoreAndPick.push(t2 - t0);
  }
  return {
    candidates: 1000,
    calls,
    scoreMs: percentiles(score),
    scoreAndPolicyMs: percentiles(scoreAndPick),
    hotSwap: { checkpointBytes: offer.checkpoint.byteLength, loadMs: percentiles(loads) },
  };
}

// --- event → updated suggestion, through the running server ---------------------------------------

type Client = Socket<ServerToClientEvents>;

const post = async <T>(url: string, body: unknown, token?: string, key?: string) =>
  json<T>(await postTo(url, body, token, key));

async function eventToSuggestion(server: BenchServer, rounds: number) {
  const url = server.lectern.url;
  const recommender = server.lectern.recommender;
  if (!recommender) throw new Error('the recommender is disabled');
  const register = (role: string) =>
    post<{ token: string; user: { id: string } }>(`${url}/api/auth/register`, {
      username: `b_${randomUUID().slice(0, 12)}`,
      password: 'bench-password',
      role,
    });
  const creator = await register('creator');
  const contents: string[] = [];
  for (let i = 0; i < 60; i++) {
    const { content } = await post<{ content: { id: string } }>(
      `${url}/api/contents`,
      { title: `c${i}`, kind: 'lesson', price: 100 + i, tags: [`t${i % 6}`] },
      creator.token,
    );
    contents.push(content.id);
  }
  const { room } = await post<{ room: { id: string } }>(
    `${url}/api/rooms`,
    { title: 'bench', access: 'free', tags: ['t1'] },
    creator.token,
  );
  await post(`${url}/api/rooms/${room.id}/start`, {}, creator.token);
  // Some history so that a trained version serves (instead of the cold-start scorer).
  const viewers = await Promise.all(Array.from({ length: 20 }, () => register('viewer')));
  for (const [i, v] of viewers.entries()) {
    await post(`${url}/api/wallet/topup`, { amount: 100_000 }, v.token, randomUUID());
    for (let k = 0; k < 3; k++)
      await post(`${url}/api/purchases`, { contentId: contents[(i * 3 + k) % 60] }, v.token, randomUUID());
  }
  await recommender.ready();
  await recommender.retrainNow();

  const viewer = viewers[0];
  const socket: Client = io(url, {
    auth: { token: viewer.token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const inbox: { at: number; items: string[]; modelVersion: string }[] = [];
  socket.on('suggestion', (p) =>
    inbox.push({ at: performance.now(), items: p.items.map((i) => i.contentId), modelVersion: p.modelVersion }),
  );
  await call(socket, 'room:join', { roomId: room.id });
  const nextSuggestion = async (after: number, accept: (s: (typeof inbox)[number]) => boolean, timeoutMs = 30_000) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = inbox.find((s) => s.at >= after && accept(s));
      if (found) return found;
      if (performance.now() > deadline) throw new Error('no such suggestion in time');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const waitFor = async (check: () => boolean, timeoutMs = 30_000) => {
    const deadline = performance.now() + timeoutMs;
    while (!check()) {
      if (performance.now() > deadline) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };

  const purchaseToGone: number[] = [];
  const clickToTrained: number[] = [];
  const clickToServing: number[] = [];
  const clickToSuggestion: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // A purchase: the next suggestion no longer offers the item.
    const shown = await nextSuggestion(performance.now(), () => true);
    const bought = shown.items[0];
    const t0 = performance.now();
    await call(socket, 'purchase:create', { contentId: bought, idempotencyKey: randomUUID() });
    await nextSuggestion(t0, (s) => !s.items.includes(bought));
    purchaseToGone.push(performance.now() - t0);

    // A click: trained on, a version including it serves, and the viewer's next suggestion uses it.
    const current = await nextSuggestion(performance.now(), () => true);
    const positives = recommender.status().trainer?.labelled.positive ?? 0;
    const promoted = recommender.status().trainer?.versions.promoted ?? 0;
    const t1 = performance.now();
    await call(socket, 'suggestion:click', { roomId: room.id, contentId: current.items[0] });
    await waitFor(() => (recommender.status().trainer?.labelled.positive ?? 0) > positives);
    clickToTrained.push(performance.now() - t1);
    await waitFor(() => (recommender.status().trainer?.versions.promoted ?? 0) > promoted);
    clickToServing.push(performance.now() - t1);
    const version = recommender.status().serving.version;
    await nextSuggestion(t1, (s) => s.modelVersion === version);
    clickToSuggestion.push(performance.now() - t1);
  }
  socket.close();
  return {
    rounds,
    settings: 'push interval 1 s, publish interval 1 s, train delay ≤ 50 ms, tick 50 ms',
    purchaseToSuggestionWithoutItMs: percentiles(purchaseToGone),
    clickToTrainedMs: percentiles(clickToTrained),
    clickToServingVersionMs: percentiles(clickToServing),
    clickToSuggestionFromThatVersionMs: percentiles(clickToSuggestion),
  };
}

export async function recommenderBench(server: BenchServer) {
  tf.env().set('PROD', true);
  await tf.ready();
  const training = await trainingThroughput(20_000);
  const scoring = scoringLatency(300);
  const loop = await eventToSuggestion(server, 10);
  return { backend: tf.getBackend(), training, scoring, loop };
}
