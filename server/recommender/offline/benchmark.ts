/**
 * Speed of the scoring model where it matters online: scoring 1,000 candidates for one viewer
 * (latency percentiles) and incremental training in small batches (examples per second).
 *
 *   npx tsx server/recommender/offline/benchmark.ts [--contents 5000] [--calls 300]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { type Candidate, createScoringModel, type TrainingExample, type UserContext } from '../model';
import { Random } from '../model/random';
import { simulateLog } from './simulate';

export interface BenchmarkResult {
  backend: string;
  contents: number;
  score1000: { p50: number; p99: number; mean: number };
  score1000IdsOnly: { p50: number; p99: number; mean: number };
  trainBatch64ExamplesPerSecond: number;
  fitExamplesPerSecond: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

function timings(calls: number, run: () => void) {
  for (let i = 0; i < 10; i++) run(); // warm up the JIT and tfjs kernels
  const ms: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    run();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p50: r(percentile(ms, 0.5)), p99: r(percentile(ms, 0.99)), mean: r(ms.reduce((a, b) => a + b, 0) / calls) };
}

export function runBenchmark(options: { contents: number; calls: number; seed: number }): BenchmarkResult {
  const rng = new Random(options.seed);
  const log = simulateLog({
    users: 3000,
    contents: options.contents,
    creators: 200,
    meanInteractions: 30,
    seed: options.seed,
  });
  const byId = new Map(log.contents.map((c) => [c.id, c]));
  const candidateOf = (id: string): Candidate => {
    const c = byId.get(id)!;
    return {
      contentId: c.id,
      tags: c.tags,
      creatorId: c.creatorId,
      price: c.price,
      kind: c.kind,
      purchases: rng.int(20),
      impressions: 100 + rng.int(900),
    };
  };
  const model = createScoringModel({ seed: options.seed });
  const fitStarted = performance.now();
  const fitted = model.fit(
    log.interactions.map((x) => ({ userId: x.user, contentId: x.item, at: x.timestamp })),
    { epochs: 1 },
  );
  const fitExamplesPerSecond = Math.round(fitted.examples / ((performance.now() - fitStarted) / 1000));

  // Online examples with every feature filled in, as the live loop will send them.
  const history = new Map<string, string[]>();
  const examples: TrainingExample[] = log.interactions.slice(0, 64 * 60).map((x) => {
    const h = history.get(x.user) ?? [];
    history.set(x.user, [...h, x.item].slice(-50));
    const c = byId.get(x.item)!;
    return {
      user: {
        userId: x.user,
        history: h,
        tags: c.tags.slice(0, 1),
        spend: rng.int(100_000),
        room: { tags: c.tags, creatorId: c.creatorId, secondsInRoom: rng.int(3600), likes: rng.int(20) },
      },
      candidate: candidateOf(x.item),
      label: rng.next() < 0.5 ? undefined : rng.next() < 0.1 ? 1 : 0,
    };
  });
  const trainStarted = performance.now();
  for (let b = 0; b < examples.length; b += 64) model.trainBatch(examples.slice(b, b + 64));
  const trainBatch64ExamplesPerSecond = Math.round(examples.length / ((performance.now() - trainStarted) / 1000));

  const ids = log.contents.map((c) => c.id);
  const candidates = Array.from({ length: 1000 }, (_, i) => candidateOf(ids[i % ids.length]));
  const idsOnly = candidates.map((c) => ({ contentId: c.contentId }));
  const viewer: UserContext = {
    userId: 'u1',
    history: ids.slice(0, 50),
    tags: ['t1-1', 't2-2'],
    spend: 25_000,
    purchases: 4,
    room: { tags: ['t1-1'], creatorId: 'creator3', secondsInRoom: 600, likes: 3, chats: 2 },
  };
  return {
    backend: tf.getBackend(),
    contents: options.contents,
    score1000: timings(options.calls, () => model.score(viewer, candidates)),
    score1000IdsOnly: timings(options.calls, () => model.score({ userId: 'u1', history: ids.slice(0, 50) }, idsOnly)),
    trainBatch64ExamplesPerSecond,
    fitExamplesPerSecond,
  };
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { contents: { type: 'string' }, calls: { type: 'string' }, seed: { type: 'string' } },
    strict: true,
  });
  tf.env().set('PROD', true);
  tf.ready().then(() => {
    const result = runBenchmark({
      contents: Number(values.contents ?? 5000),
      calls: Number(values.calls ?? 300),
      seed: Number(values.seed ?? 1),
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  });
}
