import type { Candidate, ContentKind, UserContext } from '../model';
import type { CatalogItem, RoomEngagement, RoomInfo, ViewerProfile } from './types';

/** History items handed to the model (it pools the most recent `historyLength`, 20 by default). */
const HISTORY_ITEMS = 20;

/**
 * The viewer's side of the features: who they are, what they bought (most recent last), their
 * interest tags and spend, and this room: its topic tags, its creator, how long they have been
 * here and how much they liked, chatted and tipped so far.
 */
export function userContextOf(
  viewer: ViewerProfile,
  room: Pick<RoomInfo, 'ownerId' | 'tags'>,
  engagement: RoomEngagement,
  secondsInRoom: number,
): UserContext {
  return {
    userId: viewer.userId,
    tags: viewer.tags,
    history: viewer.history.slice(-HISTORY_ITEMS),
    spend: viewer.spend,
    purchases: viewer.purchases,
    room: {
      tags: [...room.tags],
      creatorId: room.ownerId,
      secondsInRoom: Math.max(0, Math.round(secondsInRoom)),
      likes: engagement.likes,
      chats: engagement.chats,
      tipped: engagement.tipped,
    },
  };
}

/**
 * The item's side: tags, creator, price, kind and its conversion so far (purchases out of
 * impressions, which the model smooths). A subscription has no content kind; the model reads it
 * as an unknown kind and scores it from its creator, tags and price.
 */
export function candidateOf(item: CatalogItem, stats: { purchases: number; impressions: number }): Candidate {
  return {
    contentId: item.id,
    tags: [...item.tags],
    price: item.price,
    kind: item.kind === 'subscription' ? 'subscription' : (item.kind as ContentKind),
    creatorId: item.creatorId,
    purchases: stats.purchases,
    impressions: Math.max(stats.impressions, stats.purchases),
  };
}

/** What a purchase teaches (an implicit positive): the viewer before it, and what they bought. */
export function purchaseContextOf(viewer: ViewerProfile | undefined, userId: string, item: CatalogItem): UserContext {
  if (!viewer) return { userId };
  return {
    userId,
    tags: viewer.tags,
    history: viewer.history.filter((id) => id !== item.id).slice(-HISTORY_ITEMS),
    spend: viewer.spend,
    purchases: viewer.purchases,
  };
}
