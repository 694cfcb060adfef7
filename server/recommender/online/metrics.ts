import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** `lectern_recommender_*` on the instance's registry. */
export interface RecommenderMetrics {
  suggestions: Counter<'policy'>;
  items: Counter<'policy' | 'source'>;
  feedback: Counter<'action'>;
  examples: Counter<'kind'>;
  versions: Counter<'kind' | 'outcome'>;
  pending: Gauge;
  roundSeconds: Histogram;
}

export function recommenderMetrics(registry: Registry): RecommenderMetrics {
  return {
    suggestions: new Counter({
      name: 'lectern_recommender_suggestions_total',
      help: 'Suggestions pushed to viewers, by policy',
      labelNames: ['policy'],
      registers: [registry],
    }),
    items: new Counter({
      name: 'lectern_recommender_items_total',
      help: 'Items shown in suggestions, by policy and candidate source (room, tags, engaged)',
      labelNames: ['policy', 'source'],
      registers: [registry],
    }),
    feedback: new Counter({
      name: 'lectern_recommender_feedback_total',
      help: 'Clicks and dismissals of suggestions',
      labelNames: ['action'],
      registers: [registry],
    }),
    examples: new Counter({
      name: 'lectern_recommender_examples_total',
      help: 'Training examples: labelled positive / negative, held out, implicit (purchases)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    versions: new Counter({
      name: 'lectern_recommender_versions_total',
      help: 'Model versions offered, by kind (incremental, full) and outcome (promoted, rejected)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    pending: new Gauge({
      name: 'lectern_recommender_pending_impressions',
      help: 'Impressions waiting for their label',
      registers: [registry],
    }),
    roundSeconds: new Histogram({
      name: 'lectern_recommender_push_round_seconds',
      help: "Time of one pusher round (candidates, scoring, policy, impressions) over this node's audience",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

/** What the status gauges read (the recommender's `status()`), at scrape time. */
export interface RecommenderStatusSource {
  policy: string;
  serving: { version: string; since: string | null };
  trainer: { lastLoss: number | null; examplesTrained: number } | null;
  lastValidation: {
    version: string;
    promoted: boolean;
    validation: { examples: number; candidate: { logLoss: number }; serving: { logLoss: number } };
  } | null;
}

/**
 * `lectern_recommender_*` gauges of the model: which version serves (and since when), the
 * trainer's last training loss, and the held-out log-loss of the last version offered against
 * the one serving then. Read from `status()` when Prometheus scrapes.
 */
export function recommenderStatusMetrics(registry: Registry, status: () => RecommenderStatusSource): void {
  new Gauge({
    name: 'lectern_recommender_model_info',
    help: 'The model version serving suggestions on this node (value 1), with the policy',
    labelNames: ['version', 'policy'],
    registers: [registry],
    collect() {
      const s = status();
      this.reset();
      this.set({ version: s.serving.version, policy: s.policy }, 1);
    },
  });
  new Gauge({
    name: 'lectern_recommender_model_age_seconds',
    help: 'Seconds since the serving model version was swapped in (0 for the cold-start scorer)',
    registers: [registry],
    collect() {
      const { since } = status().serving;
      this.set(since ? Math.max(0, (Date.now() - Date.parse(since)) / 1000) : 0);
    },
  });
  new Gauge({
    name: 'lectern_recommender_training_loss',
    help: "The trainer's loss on its last training batch (NaN on a node without a trainer, or before it trained)",
    registers: [registry],
    collect() {
      this.set(status().trainer?.lastLoss ?? Number.NaN);
    },
  });
  new Gauge({
    name: 'lectern_recommender_validation_log_loss',
    help: 'Held-out log-loss of the last version offered (model="candidate") and of the version serving then (model="serving")',
    labelNames: ['model'],
    registers: [registry],
    collect() {
      const last = status().lastValidation;
      this.reset();
      if (!last) return;
      this.set({ model: 'candidate' }, last.validation.candidate.logLoss);
      this.set({ model: 'serving' }, last.validation.serving.logLoss);
    },
  });
}
