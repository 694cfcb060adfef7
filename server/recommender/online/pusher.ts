import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { SuggestionItem } from '../../../protocol';
import type { DB } from '../../db';
import { type EngagementEvent, newEvent } from '../../events';
import type { AudienceMember, RoomAudience } from '../../gateway';
import type { Logger } from '../../log';
import type { Random } from '../model/random';
import { generateCandidates, reasonFor } from './candidates';
import type { CatalogCache } from './catalog';
import { candidateOf, userContextOf } from './context';
import type { RecommenderMetrics } from './metrics';
import { type FairnessCap, type PolicyName, type PushLimiter, selectItems } from './policy';
import type { RoomDirectory, RoomSignals } from './rooms';
import type { Scorer, ServingModel } from './scorer';
import { type ImpressionContext, itemKindOf, type RoomInfo } from './types';
import type { ViewerProfiles } from './viewers';

export interface PusherSettings {
  policy: PolicyName;
  maxItems: number;
  maxCandidates: number;
  exploration: number;
  fairness: FairnessCap;
}

export interface PusherDeps {
  db: Kysely<DB>;
  audience: RoomAudience;
  serving: ServingModel;
  catalog: CatalogCache;
  profiles: ViewerProfiles;
  rooms: RoomDirectory;
  signals: RoomSignals;
  limiter: PushLimiter;
  publish: (event: EngagementEvent) => void;
  /** The local trainer, if any: it labels these impressions without reading their features back. */
  onShown?: (impressionId: string, context: ImpressionContext) => void;
  /** The room's owner should hear about it soon. */
  onActivity?: (roomId: string) => void;
  settings: PusherSettings;
  rng: Random;
  log: Logger;
  metrics: RecommenderMetrics;
  now?: () => number;
}

export interface PushRound {
  /** Viewers (with access) considered and those due a suggestion. */
  viewers: number;
  due: number;
  /** Suggestions sent, items in them, and the version that scored them. */
  suggestions: number;
  items: number;
  version: string;
  ms: number;
}

interface Due {
  userId: string;
  roomId: string;
  joinedAt: number;
  connections: string[];
}

interface Planned {
  due: Due;
  room: RoomInfo;
  items: SuggestionItem[];
  rows: ImpressionRow[];
  contexts: ImpressionContext[];
  sources: string[];
}

interface ImpressionRow {
  id: string;
  user_id: string;
  room_id: string;
  content_id: string | null;
  creator_id: string;
  item_kind: 'content' | 'subscription';
  model_version: string;
  score: number;
  reason: string;
  position: number;
  context: string;
  shown_at: Date;
}

// Viewers scored between two yields to the event loop: a round over a big audience must not
// hold the gateway for its whole length.
const VIEWERS_PER_SLICE = 25;

/**
 * The online loop's serving half: every tick it walks this node's audience (signed-in viewers
 * with access `full` or `preview`), picks the viewers the no-spam rules allow, and for each:
 * candidates → features → scores from the serving version (taken once for the whole round) →
 * policy → a `suggestion` of 1–3 items to each of their connections in that room. Every item
 * shown is a `recommendation_impressions` row (written before the viewer can react to it) and a
 * `suggestion.shown` event with the same id, which is what the trainer learns from.
 */
export class Pusher {
  private running: Promise<PushRound> | undefined;
  private readonly now: () => number;
  readonly totals = { rounds: 0, suggestions: 0, items: 0, lastRoundMs: 0 };

  constructor(private readonly deps: PusherDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** One round now (a round already running is joined, not doubled). */
  round(): Promise<PushRound> {
    this.running ??= this.roundOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private dueViewers(members: AudienceMember[]): Due[] {
    const byUser = new Map<string, Map<string, Due>>();
    for (const m of members) {
      if (m.access !== 'full' && m.access !== 'preview') continue;
      let rooms = byUser.get(m.userId);
      if (!rooms) {
        rooms = new Map();
        byUser.set(m.userId, rooms);
      }
      const d = rooms.get(m.roomId);
      if (d) {
        d.connections.push(m.connectionId);
        d.joinedAt = Math.min(d.joinedAt, m.joinedAt);
      } else
        rooms.set(m.roomId, {
          userId: m.userId,
          roomId: m.roomId,
          joinedAt: m.joinedAt,
          connections: [m.connectionId],
        });
    }
    const due: Due[] = [];
    for (const [userId, rooms] of byUser) {
      // One suggestion per viewer, in the room they have been in longest among those allowed.
      const candidates = [...rooms.values()]
        .filter((d) => this.deps.limiter.due(userId, d.joinedAt))
        .sort((a, b) => a.joinedAt - b.joinedAt);
      if (candidates[0]) due.push(candidates[0]);
    }
    return due;
  }

  private async roundOnce(): Promise<PushRound> {
    const started = performance.now();
    const { deps } = this;
    const scorer: Scorer = deps.serving.current();
    const version = deps.settings.policy === 'model' ? scorer.version : deps.settings.policy;
    const members = deps.audience.members();
    const due = this.dueViewers(members);
    const result: PushRound = { viewers: members.length, due: due.length, suggestions: 0, items: 0, version, ms: 0 };
    if (due.length === 0) return this.finish(result, started);

    const [rooms, profiles] = await Promise.all([
      deps.rooms.get(due.map((d) => d.roomId)),
      deps.profiles.get(due.map((d) => d.userId)),
      deps.catalog.refresh(),
    ]);
    const planned: Planned[] = [];
    const now = this.now();
    for (let i = 0; i < due.length; i++) {
      if (i > 0 && i % VIEWERS_PER_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
      const d = due[i];
      const room = rooms.get(d.roomId);
      const profile = profiles.get(d.userId);
      if (!room?.live || !profile) continue;
      const plan = this.plan(d, room, profile, scorer, version, now);
      if (plan) planned.push(plan);
      else deps.limiter.pushed(d.userId, []); // nothing to suggest: ask again after the interval
    }
    if (planned.length === 0) return this.finish(result, started);

    try {
      await deps.db
        .insertInto('recommendation_impressions')
        .values(planned.flatMap((p) => p.rows) as never)
        .execute();
    } catch (err) {
      deps.log.warn({ err }, 'recommender: impressions not recorded; suggestions skipped this round');
      for (const p of planned) deps.limiter.pushed(p.due.userId, []);
      return this.finish(result, started);
    }
    for (const p of planned) {
      const payload = { roomId: p.due.roomId, items: p.items, modelVersion: version };
      for (const connectionId of p.due.connections) deps.audience.suggest(connectionId, payload);
      deps.limiter.pushed(
        p.due.userId,
        p.items.map((item) => item.contentId),
      );
      p.rows.forEach((row, k) => {
        deps.settings.fairness.window.add(row.creator_id);
        deps.catalog.noteImpression(p.items[k].contentId);
        deps.onShown?.(row.id, p.contexts[k]);
        deps.metrics.items.inc({ policy: deps.settings.policy, source: p.sources[k] });
        deps.publish(
          // The impression row's id: the trainer joins the stream to the table by it.
          newEvent('suggestion.shown', {
            id: row.id,
            at: row.shown_at.getTime(),
            roomId: row.room_id,
            userId: row.user_id,
            contentId: p.items[k].contentId,
            creatorId: row.creator_id,
            data: { modelVersion: row.model_version, score: row.score, position: row.position },
          }),
        );
      });
      deps.onActivity?.(p.due.roomId);
      deps.metrics.suggestions.inc({ policy: deps.settings.policy });
      result.suggestions++;
      result.items += p.items.length;
    }
    return this.finish(result, started);
  }

  private plan(
    d: Due,
    room: RoomInfo,
    profile: Parameters<typeof generateCandidates>[1],
    scorer: Scorer,
    version: string,
    now: number,
  ): Planned | null {
    const { deps } = this;
    const { catalog, settings } = deps;
    const candidates = generateCandidates(catalog, profile, room, settings.maxCandidates);
    if (candidates.length === 0) return null;
    const user = userContextOf(
      profile,
      room,
      deps.signals.of(room.id, d.userId, room.startedAt),
      (now - d.joinedAt) / 1000,
    );
    const features = candidates.map((c) => candidateOf(c.item, catalog.statsOf(c.item.id)));
    const scores = settings.policy === 'model' ? scorer.score(user, features) : undefined;
    const blocked = deps.limiter.blocked(d.userId);
    const chosen = selectItems(candidates, scores, {
      policy: settings.policy,
      maxItems: settings.maxItems,
      exploration: settings.exploration,
      rng: deps.rng,
      fairness: settings.fairness,
      dismissed: blocked.dismissed,
      recentlyShown: blocked.recentlyShown,
      popularity: (id) => catalog.statsOf(id).purchases,
    });
    if (chosen.length === 0) return null;
    const plan: Planned = { due: d, room, items: [], rows: [], contexts: [], sources: [] };
    chosen.forEach(({ index, rankValue }, position) => {
      const { item } = candidates[index];
      const score = scores ? round(scores.probability[index], 6) : round(rankValue, 6);
      const reason = reasonFor(candidates[index], catalog.creatorName(item.creatorId), profile.tags);
      const context: ImpressionContext = { user, candidate: features[index] };
      plan.items.push({
        contentId: item.id,
        title: item.title,
        price: item.price,
        score,
        reason,
        kind: item.kind,
        creatorId: item.creatorId,
      });
      plan.rows.push({
        id: randomUUID(),
        user_id: d.userId,
        room_id: room.id,
        content_id: item.kind === 'subscription' ? null : item.id,
        creator_id: item.creatorId,
        item_kind: itemKindOf(item),
        model_version: version,
        score,
        reason,
        position,
        context: JSON.stringify(context),
        shown_at: new Date(now),
      });
      plan.contexts.push(context);
      plan.sources.push(candidates[index].source);
    });
    return plan;
  }

  private finish(result: PushRound, started: number): PushRound {
    result.ms = performance.now() - started;
    this.totals.rounds++;
    this.totals.suggestions += result.suggestions;
    this.totals.items += result.items;
    this.totals.lastRoundMs = result.ms;
    this.deps.metrics.roundSeconds.observe(result.ms / 1000);
    return result;
  }
}

const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
