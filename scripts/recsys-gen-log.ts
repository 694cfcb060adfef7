/**
 * Writes a synthetic consumption log (user,item,timestamp,value CSV) for developing the
 * recommender; see server/recommender/offline/simulate.ts for what it models.
 *
 *   npx tsx scripts/recsys-gen-log.ts --users 6000 --contents 3700 --mean-interactions 165 --out /tmp/big.csv
 *   [--creators N] [--topics N] [--repeat-rate R] [--series-rate R] [--seed N] [--contents-out FILE]
 */
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_SIMULATION, simulateLog } from '../server/recommender/offline';

const { values } = parseArgs({
  options: {
    users: { type: 'string' },
    contents: { type: 'string' },
    creators: { type: 'string' },
    topics: { type: 'string' },
    'mean-interactions': { type: 'string' },
    'repeat-rate': { type: 'string' },
    'series-rate': { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'contents-out': { type: 'string' },
  },
  strict: true,
});

const number = (name: keyof typeof values, fallback: number) => {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
  return n;
};

async function write(path: string | undefined, lines: Iterable<string>): Promise<void> {
  const out: NodeJS.WritableStream = path ? createWriteStream(path) : process.stdout;
  for (const line of lines) {
    if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  if (path) await new Promise<void>((resolve) => out.end(() => resolve()));
}

async function main(): Promise<void> {
  const d = DEFAULT_SIMULATION;
  const log = simulateLog({
    users: number('users', d.users),
    contents: number('contents', d.contents),
    creators: number('creators', d.creators),
    topics: number('topics', d.topics),
    meanInteractions: number('mean-interactions', d.meanInteractions),
    repeatRate: number('repeat-rate', d.repeatRate),
    seriesRate: number('series-rate', d.seriesRate),
    seed: number('seed', d.seed),
  });
  await write(
    values.out,
    (function* () {
      yield 'user,item,timestamp,value';
      for (const x of log.interactions) yield `${x.user},${x.item},${x.timestamp},${x.value}`;
    })(),
  );
  if (values['contents-out']) {
    await write(
      values['contents-out'],
      (function* () {
        yield 'content,creator,kind,price,tags';
        for (const c of log.contents) yield `${c.id},${c.creatorId},${c.kind},${c.price},"${c.tags.join(' ')}"`;
      })(),
    );
  }
  const users = new Set(log.interactions.map((x) => x.user)).size;
  const items = new Set(log.interactions.map((x) => x.item)).size;
  process.stderr.write(`wrote ${log.interactions.length} interactions, ${users} users, ${items} contents\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
