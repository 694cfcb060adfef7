import type { Candidate, TrainingExample, UserContext } from '../model';

/**
 * Something the recommender can suggest: a paid content, or a creator's subscription. A
 * subscription is identified by its creator's id (`id === creatorId`, `kind: 'subscription'`): that
 * is the `contentId` it carries in `SuggestionItem`, in `suggestion.*` events and in the clicks and
 * dismissals that come back.
 */
export interface CatalogItem {
  id: string;
  kind: 'lesson' | 'course' | 'bundle' | 'subscription';
  creatorId: string;
  title: string;
  /** Minor units. */
  price: number;
  tags: readonly string[];
  /** A course's or bundle's contents, at every depth (a bundle's courses' lessons too). */
  contains?: readonly string[];
}

/** Why a candidate is in the list; it becomes the `reason` shown to the viewer. */
export type CandidateSource = 'room' | 'tags' | 'engaged';

export interface CandidateItem {
  item: CatalogItem;
  source: CandidateSource;
  /** The tag that made it a candidate (source `tags`). */
  tag?: string;
}

/** What is known about a viewer across rooms (Postgres, refreshed by events). */
export interface ViewerProfile {
  userId: string;
  /** Contents bought, oldest first. */
  history: string[];
  spend: number;
  purchases: number;
  /** Interest tags, strongest first (from purchases, subscriptions, lessons finished, clicks, rooms watched). */
  tags: string[];
  /** Creators bought from, subscribed to, tipped, watched live or after the fact. */
  engagedCreators: ReadonlySet<string>;
  /** Contents the viewer may already use (entitlements), never suggested. */
  owned: ReadonlySet<string>;
  /** Creators the viewer has a running subscription to: their subscription is never suggested. */
  subscribedTo: ReadonlySet<string>;
}

/** A live room as the recommender sees it. */
export interface RoomInfo {
  id: string;
  ownerId: string;
  tags: readonly string[];
  live: boolean;
  /** Epoch ms the current session started (null before the first start). */
  startedAt: number | null;
}

/** The viewer's engagement in a room this session, from the event stream. */
export interface RoomEngagement {
  likes: number;
  chats: number;
  tipped: number;
}

/** The features an item was scored with: stored with the impression, trained on when labelled. */
export interface ImpressionContext {
  user: UserContext;
  candidate: Candidate;
}

/** A labelled impression or an implicit positive, ready for the model. */
export type Example = TrainingExample;

export type ItemKind = 'content' | 'subscription';

export const itemKindOf = (item: Pick<CatalogItem, 'kind'>): ItemKind =>
  item.kind === 'subscription' ? 'subscription' : 'content';
