import type { LiveCandidate, LiveRanker, LiveReason, RankedRoom, ViewerContext } from './types';

/**
 * The heuristic "Live now for you" ranker: a weighted sum of what the viewer's history says about
 * a room's creator and topic, plus how popular the room is right now. It serves guests and new
 * viewers (then it is popularity alone: cold start), and stands in whenever the learned ranker is
 * absent or fails. It ranks only the candidates it is given: an ended room can never come out.
 *
 * A live room scores
 *
 *   watched · log2(1 + times watched) · ½^(days since last / half-life)   the creator, repeats included
 * + following (if followed) + subscribed (if subscribed)
 * + tags · min(1.5, Σ over the room's tags of weight / the viewer's top weight)
 * + popularity · ln(1 + viewers now)
 *
 * and its reason is the largest of those parts. Upcoming (scheduled) rooms come after every live
 * one, with reason `upcoming`, and only when something of the viewer points at them (a creator
 * they watched, follow or subscribe to, a tag): their score is that affinity plus a little for
 * starting soon.
 */
export const HEURISTIC_WEIGHTS = {
  /** One watch of the creator, just now. */
  watched: 4,
  /** Days after which an old watch counts half. */
  watchedHalfLifeDays: 21,
  following: 3,
  subscribed: 3.5,
  /** A room whose tags are the viewer's strongest interest. */
  tags: 2,
  /** Per ln(1 + viewers): 20 viewers ≈ 1.8, 1,000 ≈ 4.1. */
  popularity: 0.6,
  /** An upcoming room starting now; it halves about every 17 hours. */
  soon: 0.5,
} as const;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Below this a personal part does not make the reason (a faint trace of an old interest). */
const PERSONAL_MIN = 0.05;

type Part = Exclude<LiveReason, 'similar_viewers' | 'upcoming'>;

interface Scored {
  candidate: LiveCandidate;
  score: number;
  /** How much each part contributed. */
  parts: Record<Part, number>;
  /** The room's tag that matched best (for the reason's text). */
  topTag: string | undefined;
  watchCount: number;
}

/** The viewer's affinity parts for one candidate (popularity aside). */
function affinity(
  viewer: ViewerContext,
  watched: Map<string, { count: number; lastAt: number }>,
  follows: Set<string>,
  subscriptions: Set<string>,
  topWeight: number,
  c: LiveCandidate,
  now: number,
): Omit<Scored, 'candidate' | 'score'> {
  const w = HEURISTIC_WEIGHTS;
  const seen = c.creatorId === viewer.viewerId ? undefined : watched.get(c.creatorId);
  const ageDays = seen ? Math.max(0, now - seen.lastAt) / DAY_MS : 0;
  const watchedPart = seen ? w.watched * Math.log2(1 + seen.count) * 0.5 ** (ageDays / w.watchedHalfLifeDays) : 0;
  let tagSum = 0;
  let topTag: string | undefined;
  let topTagWeight = 0;
  if (topWeight > 0) {
    for (const tag of new Set(c.tags)) {
      const weight = viewer.tags[tag] ?? 0;
      if (!(weight > 0)) continue;
      tagSum += weight / topWeight;
      if (weight > topTagWeight) {
        topTagWeight = weight;
        topTag = tag;
      }
    }
  }
  return {
    parts: {
      watched_before: watchedPart,
      following: follows.has(c.creatorId) ? w.following : 0,
      subscribed: subscriptions.has(c.creatorId) ? w.subscribed : 0,
      tags: w.tags * Math.min(1.5, tagSum),
      popular_now: 0,
    },
    topTag,
    watchCount: seen?.count ?? 0,
  };
}

const PERSONAL: Part[] = ['watched_before', 'subscribed', 'following', 'tags'];

function strongestPersonal(parts: Record<Part, number>): Part | undefined {
  let best: Part | undefined;
  for (const part of PERSONAL) if (parts[part] >= PERSONAL_MIN && (!best || parts[part] > parts[best])) best = part;
  return best;
}

function liveReason(s: Scored): RankedRoom['reason'] {
  const personal = strongestPersonal(s.parts);
  const code: Part = personal && s.parts[personal] >= s.parts.popular_now ? personal : 'popular_now';
  switch (code) {
    case 'watched_before':
      return {
        code,
        text: s.watchCount > 1 ? `You watched this creator ${s.watchCount} times` : 'You watched this creator before',
      };
    case 'subscribed':
      return { code, text: 'You subscribe to this creator' };
    case 'following':
      return { code, text: 'You follow this creator' };
    case 'tags':
      return { code, text: s.topTag ? `Matches your interest in #${s.topTag}` : 'Matches your interests' };
    default: {
      const n = s.candidate.viewers;
      return {
        code: 'popular_now',
        text: n > 0 ? `Popular now: ${n} watching` : 'Be one of the first to watch',
      };
    }
  }
}

function upcomingReason(s: Scored): RankedRoom['reason'] {
  const personal = strongestPersonal(s.parts);
  const text =
    personal === 'watched_before'
      ? 'Coming up from a creator you watched'
      : personal === 'subscribed'
        ? 'Coming up from a creator you subscribe to'
        : personal === 'following'
          ? 'Coming up from a creator you follow'
          : s.topTag
            ? `Coming up: matches your interest in #${s.topTag}`
            : 'Coming up';
  return { code: 'upcoming', text };
}

const byTime = (iso: string | null) => (iso ? Date.parse(iso) || 0 : 0);

/** The heuristic ranking, synchronous (for tests and for the service's fallback). */
export function rankHeuristically(viewer: ViewerContext, candidates: LiveCandidate[], now: Date): RankedRoom[] {
  const at = now.getTime();
  const watched = new Map<string, { count: number; lastAt: number }>();
  for (const w of viewer.watched) {
    if (!(w.count > 0)) continue;
    const known = watched.get(w.creatorId);
    watched.set(
      w.creatorId,
      known ? { count: known.count + w.count, lastAt: Math.max(known.lastAt, w.lastAt) } : { ...w },
    );
  }
  const follows = new Set(viewer.follows);
  const subscriptions = new Set(viewer.subscriptions);
  const topWeight = Math.max(0, ...Object.values(viewer.tags).filter((v) => Number.isFinite(v)));

  const live: Scored[] = [];
  const upcoming: Scored[] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c.roomId) || (c.status !== 'live' && c.status !== 'scheduled')) continue;
    seen.add(c.roomId);
    const a = affinity(viewer, watched, follows, subscriptions, topWeight, c, at);
    const personal = PERSONAL.reduce((sum, part) => sum + a.parts[part], 0);
    if (c.status === 'live') {
      a.parts.popular_now = HEURISTIC_WEIGHTS.popularity * Math.log(1 + Math.max(0, c.viewers || 0));
      live.push({ candidate: c, score: personal + a.parts.popular_now, ...a });
    } else if (personal >= PERSONAL_MIN) {
      const hoursAway = Math.max(0, byTime(c.scheduledAt) - at) / HOUR_MS;
      const soon = c.scheduledAt ? HEURISTIC_WEIGHTS.soon * Math.exp(-hoursAway / 24) : 0;
      upcoming.push({ candidate: c, score: personal + soon, ...a });
    }
  }
  // Ties: the busier room, then the one that started last (a newcomer before the old hands).
  live.sort(
    (x, y) =>
      y.score - x.score ||
      y.candidate.viewers - x.candidate.viewers ||
      byTime(y.candidate.startedAt) - byTime(x.candidate.startedAt) ||
      (x.candidate.roomId < y.candidate.roomId ? -1 : 1),
  );
  // Ties: the sooner start.
  upcoming.sort(
    (x, y) =>
      y.score - x.score ||
      (byTime(x.candidate.scheduledAt) || Number.MAX_SAFE_INTEGER) -
        (byTime(y.candidate.scheduledAt) || Number.MAX_SAFE_INTEGER) ||
      (x.candidate.roomId < y.candidate.roomId ? -1 : 1),
  );
  return [
    ...live.map((s) => ({ roomId: s.candidate.roomId, score: s.score, reason: liveReason(s) })),
    ...upcoming.map((s) => ({ roomId: s.candidate.roomId, score: s.score, reason: upcomingReason(s) })),
  ];
}

/** The heuristic as a LiveRanker. */
export const heuristicLiveRanker: LiveRanker = {
  async rank(viewer, candidates, now) {
    return rankHeuristically(viewer, candidates, now);
  },
};
