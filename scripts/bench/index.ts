/**
 * `npm run bench [-- --only name,name]`: starts a real server (loopback, its own database) and
 * measures; prints one JSON object per benchmark and a final JSON line with all of them.
 * Speed claims in the docs come from here, never from tests.
 */
import { chatFanout, joinStorm, likeStorm } from './gateway';
import { startBenchServer } from './harness';
import { purchases } from './money';
import { moneyStorm } from './money-storm';
import { RECOMMENDER_BENCH_ENV, recommenderBench } from './recommender';
import { REPLAY_BENCH_ENV, recordingBench, replayBench } from './recording';

const suites: Record<string, (server: Awaited<ReturnType<typeof startBenchServer>>) => Promise<unknown>> = {
  joinStorm: (s) => joinStorm(s),
  chatFanout: (s) => chatFanout(s),
  likeStorm: (s) => likeStorm(s),
  purchases: (s) => purchases(s),
  // Its own server process (pinned to a core) and database, beside pgbench on the same Postgres.
  moneyStorm: () => moneyStorm(),
  recommender: (s) => recommenderBench(s),
  // The recorder's CPU per live room (a media plane of its own), and end of room → playable replay.
  recording: () => recordingBench(),
  replay: (s) => replayBench(s),
};

/** Server settings a suite needs beyond the defaults. */
const suiteEnv: Record<string, Record<string, string>> = {
  recommender: RECOMMENDER_BENCH_ENV,
  replay: REPLAY_BENCH_ENV,
};

async function main(): Promise<void> {
  const flag = process.argv.indexOf('--only');
  const only =
    process.argv.find((a) => a.startsWith('--only='))?.slice(7) ?? (flag > 0 ? process.argv[flag + 1] : undefined);
  const chosen = Object.keys(suites).filter((name) => !only || only.split(',').includes(name));
  const results: Record<string, unknown> = {};
  for (const name of chosen) {
    const server = await startBenchServer(suiteEnv[name]);
    try {
      results[name] = await suites[name](server);
      console.error(JSON.stringify({ [name]: results[name] }));
    } finally {
      await server.close();
    }
  }
  console.log(
    JSON.stringify({
      machine: { cpus: (await import('node:os')).availableParallelism(), node: process.version },
      ...results,
    }),
  );
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
