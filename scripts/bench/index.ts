/**
 * `npm run bench [-- --only name,name | --all]`: measures real servers (loopback, their own
 * databases); prints one JSON object per benchmark on stderr and a final JSON line with all of
 * them on stdout. Speed claims in the docs come from here, never from tests (docs/benchmarks.md).
 *
 * Suites in `OWN_SERVER` spawn their server as its own process pinned to CPU 0 with the load on
 * CPU 1; the others get a server in this process. The default run leaves out the long media and
 * recommender suites (`--all` or `--only` runs them).
 */
import { fanout } from './fanout';
import { chatFanout, joinStorm, likeStorm } from './gateway';
import { startBenchServer } from './harness';
import { purchases } from './money';
import { moneyBatchCost } from './money-batch-cost';
import { moneyStorm } from './money-storm';
import { events, likes, memory } from './platform';
import { RECOMMENDER_BENCH_ENV, recommenderBench } from './recommender';
import { REPLAY_BENCH_ENV, recordingBench, replayBench } from './recording';

const suites: Record<string, (server: Awaited<ReturnType<typeof startBenchServer>>) => Promise<unknown>> = {
  // Lectern's chat fan-out against a bare Socket.IO and a plain ws broadcast server.
  fanout: () => fanout(),
  likes: () => likes(),
  events: () => events(),
  memory: () => memory(),
  joinStorm: (s) => joinStorm(s),
  chatFanout: (s) => chatFanout(s),
  likeStorm: (s) => likeStorm(s),
  purchases: (s) => purchases(s),
  // Its own server process and database, beside pgbench on the same Postgres (placed by the scheduler, as pgbench is).
  moneyStorm: () => moneyStorm(),
  // A sale batch's Postgres CPU, fixed and per operation: the batcher alone (no server) on a database of its own.
  moneyBatchCost: () => moneyBatchCost(),
  recommender: (s) => recommenderBench(s),
  // The recorder's CPU per live room (a media plane of its own), and end of room → playable replay.
  recording: () => recordingBench(),
  replay: (s) => replayBench(s),
};

/** Suites that start their own server process, or need none: no in-process server for them. */
const OWN_SERVER = new Set(['fanout', 'likes', 'events', 'memory', 'moneyStorm', 'moneyBatchCost', 'recording']);
/** Left out of the default run (minutes each): `--only` or `--all` runs them. */
const ON_REQUEST = new Set(['recommender', 'recording', 'replay']);

/** Server settings a suite needs beyond the defaults. */
const suiteEnv: Record<string, Record<string, string>> = {
  recommender: RECOMMENDER_BENCH_ENV,
  replay: REPLAY_BENCH_ENV,
};

async function main(): Promise<void> {
  // Before any suite pins this process to one CPU.
  const cpus = (await import('node:os')).availableParallelism();
  const flag = process.argv.indexOf('--only');
  const only =
    process.argv.find((a) => a.startsWith('--only='))?.slice(7) ?? (flag > 0 ? process.argv[flag + 1] : undefined);
  const all = process.argv.includes('--all');
  const unknown = only?.split(',').filter((name) => !(name in suites)) ?? [];
  if (unknown.length > 0) throw new Error(`no such suite: ${unknown.join(', ')} (suites: ${Object.keys(suites)})`);
  const chosen = Object.keys(suites).filter((name) =>
    only ? only.split(',').includes(name) : all || !ON_REQUEST.has(name),
  );
  const results: Record<string, unknown> = {};
  for (const name of chosen) {
    const server = OWN_SERVER.has(name) ? undefined : await startBenchServer(suiteEnv[name]);
    try {
      results[name] = await suites[name](server!);
      console.error(JSON.stringify({ [name]: results[name] }));
    } finally {
      await server?.close();
    }
  }
  console.log(
    JSON.stringify({
      machine: { cpus, node: process.version },
      ...results,
    }),
  );
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
