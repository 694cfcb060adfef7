/** What the model may know about a viewer when scoring. Every field is optional: offline logs give ids only. */
export interface UserContext {
  userId?: string;
  /** Declared or inferred interest tags. */
  tags?: readonly string[];
  /** Contents the viewer bought or watched, oldest first (only the most recent `historyLength` are used). */
  history?: readonly string[];
  /** Lifetime spend in minor units. */
  spend?: number;
  purchases?: number;
  /** The live room the viewer is in now, if any. */
  room?: RoomContext;
}

export interface RoomContext {
  /** Topic tags of the room. */
  tags?: readonly string[];
  /** The creator streaming in the room: their own contents are the natural suggestion. */
  creatorId?: string;
  /** How long this viewer has been in the room. */
  secondsInRoom?: number;
  /** This viewer's engagement in the room so far. */
  likes?: number;
  chats?: number;
  /** Tipped in the room so far, minor units. */
  tipped?: number;
}

export type ContentKind = 'lesson' | 'course' | 'bundle';

/** A content that could be shown. Fields left out fall back to what the model remembers of the id. */
export interface Candidate {
  contentId: string;
  tags?: readonly string[];
  /** Minor units; the score is purchase probability × price. */
  price?: number;
  kind?: ContentKind | string;
  creatorId?: string;
  /** Past conversion of this content: purchases out of impressions (smoothed by the model). */
  purchases?: number;
  impressions?: number;
}

/**
 * One training example. Without `label` it is an implicit positive (a purchase, a watch) and is
 * contrasted with sampled contents the model knows; with `label` it is an impression with its
 * outcome (1 bought, 0 shown and not bought) and trains the calibrated purchase probability.
 */
export interface TrainingExample {
  user: UserContext;
  candidate: Candidate;
  label?: 0 | 1;
  /** Importance of the example; 1 by default. */
  weight?: number;
}

/** A logged interaction: for a full retrain from history. */
export interface Interaction {
  userId: string;
  contentId: string;
  /** Any increasing time unit. */
  at: number;
}

/** Per-candidate outputs of `scoreDetailed`. */
export interface ScoreDetails {
  /** The ranking score; only comparable within one model version. */
  logit: Float32Array;
  /** Calibrated purchase probability (meaningful once labelled impressions have been trained on). */
  probability: Float32Array;
  /** probability × price (price 1 when unknown): what `score` returns. */
  value: Float32Array;
  /**
   * Standard deviation of the logit, large for ids with little data: draw
   * `logit + logitStd × N(0, 1)` for Thompson-style exploration.
   */
  logitStd: Float32Array;
}

export interface ModelConfig {
  /** Embedding width. */
  dim: number;
  /** Most recent history items pooled into the user vector (0: none, a plain two-tower factorisation). */
  historyLength: number;
  /**
   * Learn an embedding per user id. Without it a viewer is their history, tags and room: no
   * per-user parameters at all, and a new viewer is no colder than an old one.
   */
  userIds: boolean;
  /** Sampled contents each implicit positive is contrasted with (shared across a batch). */
  negatives: number;
  batchSize: number;
  learningRate: number;
  /** L2 on embedding rows touched by a batch. */
  l2: number;
  /** Chance of hiding a user's or content's id embedding in training, so features learn to stand alone (cold start). */
  idDropout: number;
  /** Prior standard deviation of a logit for an unseen id (see `ScoreDetails.logitStd`). */
  uncertaintyScale: number;
  /** Bounds on vocabulary growth; ids past them are treated as unknown. */
  maxUsers: number;
  maxContents: number;
  maxTags: number;
  maxCreators: number;
  seed: number;
}
