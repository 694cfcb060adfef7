import type { Room, RoomRole } from '../../protocol';
import { AppError, forbidden } from '../errors';
import type { RoomsService } from '../rooms';
import { ShortCache } from './short-cache';
import type { SignedInUser } from './types';

export interface Restriction {
  kind: 'mute' | 'ban';
  /** null: until lifted. */
  until: Date | null;
}

/** What the hot path (every chat message) needs to know about a room, cached per node. */
export interface RoomState {
  room: Room;
  moderators: Set<string>;
  /** userId → active mute/ban. */
  restrictions: Map<string, Restriction[]>;
  /** A compiled matcher for the room's banned words, or null when it has none. */
  bannedWords: WordFilter | null;
}

export interface WordFilter {
  test(text: string): boolean;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The form text is compared in: compatibility forms folded (full-width "ｓｐａｍ", ligatures,
 * circled letters → plain letters) and invisible format characters (zero-width spaces and
 * joiners, direction marks) removed, so they cannot be used to slip a word past the filter.
 */
export const normaliseForFilter = (text: string) => text.normalize('NFKC').replace(/\p{Cf}/gu, '');

/** Whole-word, case-insensitive matcher: "class" is not caught by a filter on "ass". */
export function bannedWordsMatcher(words: string[]): WordFilter | null {
  if (words.length === 0) return null;
  const alternatives = words.map((w) => escapeRegExp(normaliseForFilter(w).toLowerCase())).join('|');
  const re = new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternatives})(?![\\p{L}\\p{N}])`, 'iu');
  return { test: (text) => re.test(normaliseForFilter(text)) };
}

export function roleIn(state: RoomState, user: SignedInUser | null): RoomRole {
  if (!user) return 'guest';
  if (user.id === state.room.ownerId) return 'owner';
  if (state.moderators.has(user.id) || user.role === 'admin') return 'moderator';
  return 'viewer';
}

export function activeRestriction(state: RoomState, userId: string, kind: Restriction['kind'], now = Date.now()) {
  return state.restrictions.get(userId)?.find((r) => r.kind === kind && (r.until === null || r.until.getTime() > now));
}

export function requireModerator(state: RoomState, user: SignedInUser | null): SignedInUser {
  const role = roleIn(state, user);
  if (role !== 'owner' && role !== 'moderator') throw forbidden('only the owner and moderators can do this');
  return user as SignedInUser;
}

/**
 * Room state cached per node for a short time. Changes made on this node invalidate it at once;
 * other nodes are told through the adapter (`room:invalidate`), and the TTL bounds staleness if
 * a message is lost.
 */
export class RoomStateCache {
  private readonly cache: ShortCache<RoomState>;

  constructor(
    private readonly rooms: RoomsService,
    ttlMs = 30_000,
    onLookup?: (hit: boolean) => void,
  ) {
    this.cache = new ShortCache(ttlMs, (roomId) => this.load(roomId), { onLookup });
  }

  get(roomId: string): Promise<RoomState> {
    return this.cache.get(roomId);
  }

  invalidate(roomId: string): void {
    this.cache.invalidate(roomId);
  }

  /** A room that exists and has not ended, or the reason it cannot be used. */
  async open(roomId: string): Promise<RoomState> {
    const state = await this.get(roomId);
    if (state.room.status === 'ended') throw new AppError('CONFLICT', 'this room has ended');
    return state;
  }

  private async load(roomId: string): Promise<RoomState> {
    const [room, { moderators, restrictions }] = await Promise.all([
      this.rooms.get(roomId),
      this.rooms.moderation.staff(roomId),
    ]);
    const byUser = new Map<string, Restriction[]>();
    for (const r of restrictions) {
      const list = byUser.get(r.userId) ?? [];
      list.push({ kind: r.kind, until: r.until });
      byUser.set(r.userId, list);
    }
    return {
      room,
      moderators: new Set(moderators),
      restrictions: byUser,
      bannedWords: bannedWordsMatcher(room.settings.bannedWords),
    };
  }
}
