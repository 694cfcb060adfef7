import type { CandidateItem, CatalogItem, RoomInfo, ViewerProfile } from './types';

/** The part of the catalog candidate generation reads (CatalogCache implements it). */
export interface CatalogView {
  byCreator(creatorId: string): readonly CatalogItem[];
  creatorsWithTags(tags: Iterable<string>): Map<string, { overlap: number; firstTag: string }>;
  statsOf(id: string): { purchases: number };
}

/**
 * Candidates for a viewer in a live room, in order of how natural they are:
 * 1. the room creator's paid contents and subscription,
 * 2. contents (and subscriptions) of creators whose catalog shares tags with the room or with
 *    the viewer's interests, most shared tags first,
 * 3. contents of creators the viewer bought from, subscribed to, tipped or watched.
 * Never what the viewer already owns (nor a course or bundle whose items they all own), their own
 * contents, nor the subscription of a creator they already subscribe to. At most `max`, the most purchased first within each creator.
 */
export function generateCandidates(
  catalog: CatalogView,
  viewer: ViewerProfile,
  room: Pick<RoomInfo, 'ownerId' | 'tags'>,
  max: number,
): CandidateItem[] {
  const out: CandidateItem[] = [];
  const seen = new Set<string>();
  const eligible = (item: CatalogItem) => {
    if (seen.has(item.id) || item.creatorId === viewer.userId) return false;
    if (item.kind === 'subscription') return !viewer.subscribedTo.has(item.creatorId);
    if (viewer.owned.has(item.id)) return false;
    // A course or bundle whose every item the viewer owns would sell them nothing new.
    return !(item.contains?.length && item.contains.every((id) => viewer.owned.has(id)));
  };
  const addCreator = (creatorId: string, source: CandidateItem['source'], tag?: string) => {
    const items = [...catalog.byCreator(creatorId)].sort(
      (a, b) => catalog.statsOf(b.id).purchases - catalog.statsOf(a.id).purchases || (a.id < b.id ? -1 : 1),
    );
    for (const item of items) {
      if (out.length >= max) return;
      if (!eligible(item)) continue;
      seen.add(item.id);
      out.push(tag === undefined ? { item, source } : { item, source, tag });
    }
  };

  addCreator(room.ownerId, 'room');

  // Viewer interests before room topics when both match a creator: the reason should be personal.
  const interests = new Set(viewer.tags);
  const related = catalog.creatorsWithTags(new Set([...viewer.tags, ...room.tags]));
  related.delete(room.ownerId);
  const ranked = [...related].sort((a, b) => b[1].overlap - a[1].overlap || (a[0] < b[0] ? -1 : 1));
  for (const [creatorId, { firstTag }] of ranked) {
    if (out.length >= max) break;
    const tag = viewer.tags.find(
      (t) => interests.has(t) && catalog.byCreator(creatorId).some((i) => i.tags.includes(t)),
    );
    addCreator(creatorId, 'tags', tag ?? firstTag);
  }
  for (const creatorId of viewer.engagedCreators) {
    if (out.length >= max) break;
    if (creatorId !== room.ownerId && !related.has(creatorId)) addCreator(creatorId, 'engaged');
  }
  return out;
}

/** The line under a suggestion card: why the viewer is seeing it. */
export function reasonFor(candidate: CandidateItem, creatorName: string, viewerTags: readonly string[]): string {
  const { item, source, tag } = candidate;
  if (source === 'room') {
    return item.kind === 'subscription' ? `Subscribe to ${creatorName}, live now` : `From ${creatorName}, live now`;
  }
  if (source === 'tags' && tag) {
    return viewerTags.includes(tag) ? `Because you like #${tag}` : `Related to this stream: #${tag}`;
  }
  return `More from ${creatorName}`;
}
