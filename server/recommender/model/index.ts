/**
 * The recommender's scoring model (tfjs): scores candidates for a viewer, trains online in small
 * batches or fully from logged interactions, and checkpoints to bytes for hot swapping.
 */
export { ContentCatalog, KINDS } from './catalog';
export { CONTENT_FEATURES, CONTEXT_FEATURES, PAIR_FEATURES } from './features';
export {
  DEFAULT_MODEL_CONFIG,
  type FitOptions,
  type FitResult,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  ScoringModel,
  type SerializedModel,
} from './scoring-model';
export { decodeModel, encodeModel } from './serialization';
export type {
  Candidate,
  ContentKind,
  Interaction,
  ModelConfig,
  RoomContext,
  ScoreDetails,
  TrainingExample,
  UserContext,
} from './types';

import { ScoringModel } from './scoring-model';
import type { ModelConfig } from './types';

/** A fresh, untrained model; ids and tags are learned as they arrive. */
export function createScoringModel(config: Partial<ModelConfig> = {}): ScoringModel {
  return new ScoringModel(config);
}
