import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { LiveReasonCode, RoomForYou, RoomsForYou } from '../../../protocol';
import type { Config } from '../../config';
import type { DB } from '../../db';
import type { Logger } from '../../log';
import { id, parse } from '../../validation';
import {
  type Candidate,
  type CandidateOptions,
  DEFAULT_CANDIDATE_OPTIONS,
  emptyContext,
  knowsViewer,
  loadCandidates,
  loadViewerContext,
} from './candidates';
import { heuristicLiveRanker, rankHeuristically } from './heuristic';
import { REASON_TEXT } from './ranker';
import type { LiveRanker, RankedRoom, ViewerContext } from './types';

/**
 * "Live now for you" (`GET /api/rooms/for-you`): the rooms live now ranked for one viewer, each
 * with its reason, and the scheduled rooms they may like. Guests and viewers without history get
 * the heuristic (popularity now, and the page's context); known viewers get the learned ranker
 * when there is one, the heuristic when there is not or when it fails.
 */
export interface LiveForYou {
  /** `query`: `{limit?, contextRoomId?}` as the route received it (validated here). */
  forViewer(viewerId: string | null, query: unknown): Promise<RoomsForYou>;
  /** Forgets what is cached of the viewer's history (they followed or unfollowed someone). */
  forget(viewerId: string): void;
}

export interface LiveForYouDeps {
  db: Kysely<DB>;
  config: Pick<Config, 'mediaPublicBaseUrl'>;
  log: Logger;
  /** Viewers of live rooms right now, from the gateway. */
  viewerCounts: (roomIds: string[]) => Promise<Map<string, number>>;
  /** The learned ranker, when one is plugged in (server/app.ts); otherwise the heuristic ranks everyone. */
  learned?: LiveRanker;
  /** How long a viewer's history is kept in memory (ms). */
  contextTtlMs?: number;
  candidates?: CandidateOptions;
  now?: () => Date;
}

/** At most this many upcoming rooms in an answer. */
export const UPCOMING_MAX = 8;
/** Viewers whose history is kept in memory at once. */
const CONTEXT_CACHE_MAX = 10_000;

/** The query `GET /api/rooms/for-you` takes (the OpenAPI document describes it from this too). */
export const querySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(50).default(20),
  /** The room (or page) the viewer is looking at: its tags count, and it is left out of the answer. */
  contextRoomId: id.optional(),
});

/** Every reason code (`REASON_TEXT` has one text per code, so the compiler keeps this complete). */
const REASONS = new Set(Object.keys(REASON_TEXT) as LiveReasonCode[]);

const round = (score: number) => Math.round(score * 10_000) / 10_000;

export function createLiveForYou(deps: LiveForYouDeps): LiveForYou {
  const { db, config, log, learned } = deps;
  const ttlMs = deps.contextTtlMs ?? 5_000;
  const now = deps.now ?? (() => new Date());
  const candidateOptions = deps.candidates ?? DEFAULT_CANDIDATE_OPTIONS;
  /** Viewer histories for a few seconds: a page polling (or reloaded) does not read them each time. */
  const contexts = new Map<string, { at: number; context: Promise<ViewerContext> }>();

  function viewerContext(viewerId: string): Promise<ViewerContext> {
    const at = Date.now();
    const cached = contexts.get(viewerId);
    if (cached && at - cached.at < ttlMs) return cached.context;
    contexts.delete(viewerId);
    if (contexts.size >= CONTEXT_CACHE_MAX) {
      for (const [key, entry] of contexts) if (at - entry.at >= ttlMs) contexts.delete(key);
      // All fresh: the oldest go (a Map keeps insertion order).
      for (const key of contexts.keys()) {
        if (contexts.size < CONTEXT_CACHE_MAX) break;
        contexts.delete(key);
      }
    }
    const context = loadViewerContext(db, viewerId);
    contexts.set(viewerId, { at, context });
    context.catch(() => contexts.delete(viewerId));
    return context;
  }

  /** The context room's tags count as an interest as strong as the viewer's strongest. */
  function withPageContext(
    context: ViewerContext,
    contextRoomId: string | undefined,
    contextTags: string[],
  ): ViewerContext {
    if (!contextRoomId) return context;
    const tags = { ...context.tags };
    const strongest = Math.max(1, ...Object.values(tags));
    for (const tag of contextTags) tags[tag] = Math.max(tags[tag] ?? 0, strongest);
    return { ...context, tags, contextRoomId };
  }

  async function contextRoomTags(contextRoomId: string | undefined, candidates: Candidate[]): Promise<string[]> {
    if (!contextRoomId) return [];
    const known = candidates.find((c) => c.candidate.roomId === contextRoomId);
    if (known) return known.candidate.tags;
    const row = await db.selectFrom('rooms').select('tags').where('id', '=', contextRoomId).executeTakeFirst();
    return row?.tags ?? [];
  }

  /**
   * The ranker's answer made safe: only live candidates, each once, with a known reason and a
   * finite score; live rooms the ranker left out follow in the heuristic's order, so every live
   * room is still listed. Upcoming rooms are the heuristic's: it lists only those the viewer's
   * creators or tags point at.
   */
  function sanitize(ranked: RankedRoom[], fallback: RankedRoom[], byId: Map<string, Candidate>): RankedRoom[] {
    const out: RankedRoom[] = [];
    const seen = new Set<string>();
    for (const r of ranked) {
      if (!r || byId.get(r.roomId)?.candidate.status !== 'live' || seen.has(r.roomId)) continue;
      if (!REASONS.has(r.reason?.code) || typeof r.reason.text !== 'string' || !Number.isFinite(r.score)) continue;
      seen.add(r.roomId);
      out.push(r);
    }
    for (const r of fallback) {
      if (seen.has(r.roomId)) continue;
      seen.add(r.roomId);
      out.push(r);
    }
    return out;
  }

  return {
    forget(viewerId) {
      contexts.delete(viewerId);
    },
    async forViewer(viewerId, query) {
      const q = parse(querySchema, query);
      const [candidates, known] = await Promise.all([
        loadCandidates(db, config, viewerId, candidateOptions),
        viewerId ? viewerContext(viewerId) : Promise.resolve(emptyContext(null)),
      ]);
      const live = candidates.filter((c) => c.candidate.status === 'live');
      const [counts, contextTags] = await Promise.all([
        live.length ? deps.viewerCounts(live.map((c) => c.candidate.roomId)) : new Map<string, number>(),
        contextRoomTags(q.contextRoomId, candidates),
      ]);
      for (const c of live) {
        const viewers = counts.get(c.candidate.roomId) ?? 0;
        c.candidate.viewers = viewers;
        c.item.viewerCount = viewers;
      }
      // The room the viewer is on is not suggested to them.
      const pool = candidates.filter((c) => c.candidate.roomId !== q.contextRoomId);
      const byId = new Map(pool.map((c) => [c.candidate.roomId, c]));
      const context = withPageContext(known, q.contextRoomId, contextTags);
      const at = now();
      const heuristic = rankHeuristically(
        context,
        pool.map((c) => c.candidate),
        at,
      );

      let ranked = heuristic;
      // The learned ranker, for viewers it can say something about (guests, cold starts: the heuristic).
      if (learned && learned !== heuristicLiveRanker && viewerId && knowsViewer(known)) {
        try {
          ranked = sanitize(
            await learned.rank(
              context,
              pool.map((c) => ({ ...c.candidate, tags: [...c.candidate.tags] })),
              at,
            ),
            heuristic,
            byId,
          );
        } catch (err) {
          log.warn({ err }, 'the learned live ranker failed: the heuristic ranks instead');
        }
      }

      const rooms: RoomForYou[] = [];
      const upcoming: RoomForYou[] = [];
      for (const r of ranked) {
        const c = byId.get(r.roomId);
        if (!c) continue;
        const entry: RoomForYou = {
          room: c.item,
          score: round(r.score),
          // Scheduled rooms are always `upcoming`, whatever else the ranker saw in them.
          reason: { code: c.candidate.status === 'live' ? r.reason.code : 'upcoming', text: r.reason.text },
        };
        if (c.candidate.status === 'live') {
          if (rooms.length < q.limit) rooms.push(entry);
        } else if (upcoming.length < Math.min(q.limit, UPCOMING_MAX)) {
          upcoming.push(entry);
        }
      }
      return { rooms, upcoming };
    },
  };
}
