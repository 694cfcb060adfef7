/**
 * Offline evaluation of the recommender against baselines, on one of two tasks.
 *
 * Content (the default): the scoring model against popularity, item-kNN and BPR-MF.
 *
 *   npx tsx scripts/recsys-eval.ts --data FILE.csv [--seed N] [--epochs N] [--max-seconds S]
 *     [--bpr-max-seconds S] [--dim N] [--history N] [--model-config '{"learningRate":0.005}']
 *
 * The last line of stdout is one JSON object:
 * {"model":{"hr10","ndcg10"},"popularity":{…},"itemKnn":{…},"bpr":{…},"users","items"}.
 *
 * Live ("which live room next", see server/recommender/live/protocol.ts): the live ranker against
 * pop-now, repeat and item-kNN.
 *
 *   npx tsx scripts/recsys-eval.ts --task live --data FILE.csv [--window SECONDS] [--seed N] [--epochs N]
 *
 * The last line of stdout is {"model":{"hr1","hr10","ndcg10"},"popNow":{…},"repeat":{…},"itemKnn":{…}}.
 *
 * FILE.csv has a header `user,item,timestamp[,value]`. Progress goes to stderr; the line before
 * the last is a JSON object with details (timings, epochs chosen, validation).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../server/errors';
import { DEFAULT_LIVE_EVALUATION, evaluateLive } from '../server/recommender/live/evaluate';
import { DEFAULT_EVALUATION, evaluateLog, ProgressBar, parseInteractionsCsv } from '../server/recommender/offline';

function numberOption(values: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      task: { type: 'string', default: 'content' },
      data: { type: 'string' },
      window: { type: 'string' },
      seed: { type: 'string' },
      epochs: { type: 'string' },
      'max-seconds': { type: 'string' },
      'bpr-max-seconds': { type: 'string' },
      dim: { type: 'string' },
      history: { type: 'string' },
      'model-config': { type: 'string' },
    },
    strict: true,
  });
  if (!values.data) {
    throw new Error(
      'usage: recsys-eval [--task content|live] --data FILE.csv [--seed N] [--epochs N] [--max-seconds S] [--window S]',
    );
  }
  if (values.task !== 'content' && values.task !== 'live') {
    throw new Error(`--task must be content or live, got "${values.task}"`);
  }
  if (values.task === 'live') {
    for (const name of ['max-seconds', 'bpr-max-seconds', 'dim', 'history', 'model-config'] as const) {
      if (values[name] !== undefined) throw new Error(`--${name} applies to --task content only`);
    }
    const log = parseInteractionsCsv(readFileSync(values.data, 'utf8'), values.data);
    const d = DEFAULT_LIVE_EVALUATION;
    const { details, ...result } = evaluateLive(log, {
      window: numberOption(values, 'window', d.window),
      seed: numberOption(values, 'seed', d.seed),
      epochs: Math.max(1, numberOption(values, 'epochs', d.epochs)),
      progress: new ProgressBar(process.stderr),
    });
    process.stdout.write(`${JSON.stringify(details)}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  if (values.window !== undefined) throw new Error('--window applies to --task live only');
  // tfjs prints a hint about tfjs-node on first use; keep stderr for the progress bar.
  tf.env().set('PROD', true);
  await tf.ready();

  const d = DEFAULT_EVALUATION;
  const model: Record<string, number> = values['model-config'] ? JSON.parse(values['model-config']) : {};
  if (values.dim !== undefined) model.dim = numberOption(values, 'dim', 64);
  if (values.history !== undefined) model.historyLength = numberOption(values, 'history', 50);
  const log = parseInteractionsCsv(readFileSync(values.data, 'utf8'), values.data);
  const report = evaluateLog(log, {
    seed: numberOption(values, 'seed', d.seed),
    epochs: numberOption(values, 'epochs', d.epochs),
    maxSeconds: numberOption(values, 'max-seconds', d.maxSeconds),
    bprMaxSeconds: numberOption(values, 'bpr-max-seconds', d.bprMaxSeconds),
    model,
    progress: new ProgressBar(process.stderr),
  });
  const { details, ...result } = report;
  process.stdout.write(`${JSON.stringify({ backend: tf.getBackend(), ...details })}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  const message = err instanceof AppError || err instanceof Error ? err.message : String(err);
  process.stderr.write(`recsys-eval: ${message}\n`);
  process.exit(1);
});
