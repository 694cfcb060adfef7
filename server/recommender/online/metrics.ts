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
