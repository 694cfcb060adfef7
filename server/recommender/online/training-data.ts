import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db';
import type { Candidate, TrainingExample, UserContext } from '../model';
import { isHeldOut } from './labels';
import type { ImpressionContext } from './types';

export interface TrainingDataOptions {
  /** Most recent purchases, and most recent labelled impressions, to read. */
  maxRows: number;
  labelWindowMs: number;
  holdoutFraction: number;
  /** Held-out impressions kept (the most recent). */
  heldOutSize: number;
}

export interface TrainingData {
  /** Implicit positives (purchases) and labelled impressions, oldest first. */
  examples: TrainingExample[];
  heldOut: TrainingExample[];
  counts: { purchases: number; impressions: number; positives: number; heldOut: number };
}

const HISTORY_ITEMS = 20;
const MAX_TAGS = 10;

/**
 * Everything a full retrain learns from, read from Postgres, the durable record:
 * - every purchase of a content or a subscription is an implicit positive, with the buyer as they
 *   were just before it (earlier purchases as history, their tags as interests, spend so far);
 * - every resolved impression is a labelled example with the features it was scored with
 *   (`context`), positive when clicked or bought within the label window. Impressions whose id
 *   falls in the held-out split are set aside for validation, as the online trainer does.
 */
export async function loadTrainingData(db: Kysely<DB>, options: TrainingDataOptions): Promise<TrainingData> {
  const examples: TrainingExample[] = [];
  const purchases = await sql<{
    buyer_id: string;
    kind: 'content' | 'subscription';
    content_id: string | null;
    creator_id: string;
    amount: number;
    content_tags: string[] | null;
    content_kind: 'lesson' | 'course' | 'bundle' | null;
    creator_tags: string[] | null;
  }>`
    SELECT p.buyer_id, p.kind, p.content_id, p.creator_id, p.amount,
      c.tags AS content_tags, c.kind AS content_kind, cp.tags AS creator_tags
    FROM (
      SELECT * FROM purchases
      WHERE status = 'completed' AND kind IN ('content', 'subscription')
      ORDER BY created_at DESC LIMIT ${options.maxRows}
    ) p
    LEFT JOIN contents c ON c.id = p.content_id
    LEFT JOIN creator_profiles cp ON cp.user_id = p.creator_id
    ORDER BY p.buyer_id, p.created_at, p.id
  `.execute(db);

  let buyer = '';
  let history: string[] = [];
  let tagWeights = new Map<string, number>();
  let spend = 0;
  let count = 0;
  for (const p of purchases.rows) {
    if (p.buyer_id !== buyer) {
      buyer = p.buyer_id;
      history = [];
      tagWeights = new Map();
      spend = 0;
      count = 0;
    }
    const user: UserContext = {
      userId: p.buyer_id,
      tags: topTags(tagWeights),
      history: history.slice(-HISTORY_ITEMS),
      spend,
      purchases: count,
    };
    const candidate: Candidate =
      p.kind === 'content' && p.content_id
        ? {
            contentId: p.content_id,
            tags: p.content_tags ?? [],
            price: p.amount,
            kind: p.content_kind ?? undefined,
            creatorId: p.creator_id,
          }
        : {
            contentId: p.creator_id,
            tags: p.creator_tags ?? [],
            price: p.amount,
            kind: 'subscription',
            creatorId: p.creator_id,
          };
    examples.push({ user, candidate });
    if (p.content_id) history.push(p.content_id);
    for (const t of (p.kind === 'content' ? p.content_tags : p.creator_tags) ?? []) {
      tagWeights.set(t, (tagWeights.get(t) ?? 0) + 1);
    }
    spend += p.amount;
    count++;
  }

  const windowSeconds = options.labelWindowMs / 1000;
  const impressions = await sql<{
    id: string;
    context: ImpressionContext;
    positive: boolean;
  }>`
    SELECT id, context,
      (clicked_at IS NOT NULL AND clicked_at <= shown_at + make_interval(secs => ${windowSeconds}))
        OR (purchased_at IS NOT NULL AND purchased_at <= shown_at + make_interval(secs => ${windowSeconds}))
        AS positive
    FROM recommendation_impressions
    WHERE context IS NOT NULL
      AND (shown_at < now() - make_interval(secs => ${windowSeconds})
        OR clicked_at IS NOT NULL OR purchased_at IS NOT NULL OR dismissed_at IS NOT NULL)
    ORDER BY shown_at DESC, id
    LIMIT ${options.maxRows}
  `.execute(db);
  const heldOut: TrainingExample[] = [];
  let positives = 0;
  for (const row of impressions.rows.reverse()) {
    const example: TrainingExample = {
      user: row.context.user,
      candidate: row.context.candidate,
      label: row.positive ? 1 : 0,
    };
    if (row.positive) positives++;
    if (isHeldOut(row.id, options.holdoutFraction)) heldOut.push(example);
    else examples.push(example);
  }
  const kept = heldOut.slice(-options.heldOutSize);
  return {
    examples,
    heldOut: kept,
    counts: { purchases: purchases.rows.length, impressions: impressions.rows.length, positives, heldOut: kept.length },
  };
}

function topTags(weights: Map<string, number>): string[] {
  return [...weights]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, MAX_TAGS)
    .map(([t]) => t);
}
