/**
 * "Live now for you": ranking the rooms that are live (or scheduled) for one viewer. The ranker
 * is given the candidates — only rooms that can be watched now, or upcoming ones — and what is
 * known of the viewer; it never adds a room of its own, so an ended room is never recommended.
 */
import type { LiveReasonCode } from '../../../protocol';

/** A room that can be recommended: live now, or scheduled (upcoming). */
export interface LiveCandidate {
  roomId: string;
  creatorId: string;
  status: 'live' | 'scheduled';
  tags: string[];
  /** Viewers in the room now (cluster-wide; 0 for scheduled rooms). */
  viewers: number;
  /** When it went live, or when it is scheduled to (ISO). */
  startedAt: string | null;
  scheduledAt: string | null;
}

/** What is known of the viewer (all empty for a guest or a new viewer: cold start). */
export interface ViewerContext {
  viewerId: string | null;
  /** The creators this viewer watched, most recent first, with how often and when last (epoch ms). */
  watched: { creatorId: string; count: number; lastAt: number }[];
  follows: string[];
  subscriptions: string[];
  /** Tags of what the viewer watched or bought, with weights. */
  tags: Record<string, number>;
  /** The page's context: the room or content being looked at, if any. */
  contextRoomId?: string;
}

/** The protocol's reason codes (`protocol/models.ts`): one list for the rankers and the API. */
export type LiveReason = LiveReasonCode;

export interface RankedRoom {
  roomId: string;
  score: number;
  /** Why it is suggested: a stable code (the page words it) and a short English text. */
  reason: { code: LiveReason; text: string };
}

export interface LiveRanker {
  rank(viewer: ViewerContext, candidates: LiveCandidate[], now: Date): Promise<RankedRoom[]>;
}
