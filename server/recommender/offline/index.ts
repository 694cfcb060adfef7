/**
 * Offline evaluation of the scoring model: CSV logs, the leave-last-out protocol, full-ranking
 * HR/NDCG, the popularity, item-kNN and BPR-MF baselines, and a synthetic log generator.
 */
export { BprModel, type BprOptions, DEFAULT_BPR_OPTIONS } from './bpr';
export { type InteractionLog, parseInteractionsCsv } from './csv';
export {
  DEFAULT_EVALUATION,
  type EvaluationOptions,
  type EvaluationReport,
  evaluateLog,
  type Metrics10,
} from './evaluate';
export { blendScorers, CosineSimilarity, itemKnnScorer, MAX_KNN_ITEMS, userSets } from './item-knn';
export { type CatalogScorer, evaluateFullRanking, expectedHitAndGain, type RankingMetrics } from './metrics';
export { fitOnSequences, interactionsOf, modelScorer } from './model-adapter';
export { popularityScorer } from './popularity';
export { type Progress, ProgressBar, silentProgress } from './progress';
export { DEFAULT_SIMULATION, type SimulatedLog, type SimulationOptions, simulateLog } from './simulate';
export { holdOutLast, type LeaveLastOutSplit, leaveLastOut, type UserSequences, userSequences } from './split';
