/**
 * Offline evaluation of the recommender's scoring model against popularity and BPR-MF.
 *
 *   npx tsx scripts/recsys-eval.ts --data FILE.csv [--seed N] [--epochs N] [--max-seconds S]
 *     [--bpr-max-seconds S] [--dim N] [--history N] [--model-config '{"learningRate":0.005}']
 *
 * FILE.csv has a header `user,item,timestamp[,value]`. Progress goes to stderr; the last line of
 * stdout is one JSON object: {"model":{"hr10","ndcg10"},"popularity":{…},"bpr":{…},"users","items"}.
 * The line before it is a JSON object with timings and the epochs chosen.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../server/errors';
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
      data: { type: 'string' },
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
  if (!values.data) throw new Error('usage: recsys-eval --data FILE.csv [--seed N] [--epochs N] [--max-seconds S]');
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
