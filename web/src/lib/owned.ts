import type { Purchase, Subscription } from '../../../protocol';
import { api } from './api';
import { loadSession } from './session';

/**
 * What the signed-in viewer has, as the server says it now (never remembered across pages, so
 * it is true after a reload): the contents they own (bought, or inside a course or bundle they
 * bought), the rooms they hold a ticket to, the creators they are subscribed to. A guest has
 * nothing. A failed look-up counts as nothing owned: the pages then offer to buy, and the
 * server refuses a second purchase (CONFLICT), which the pages take as "owned".
 */
export interface Owned {
  contents: Set<string>;
  tickets: Set<string>;
  subscribedTo: Set<string>;
}

export const nothingOwned = (): Owned => ({ contents: new Set(), tickets: new Set(), subscribedTo: new Set() });

/** The contents the viewer owns. */
export async function ownedContents(): Promise<Set<string>> {
  if (!loadSession()) return new Set();
  try {
    return new Set((await api<{ contentIds: string[] }>('GET', '/api/me/owned')).contentIds);
  } catch {
    return new Set();
  }
}

/** Contents, tickets and subscriptions (the home page's rooms and a creator's page need all three). */
export async function ownedAll(): Promise<Owned> {
  if (!loadSession()) return nothingOwned();
  const [contents, purchases, subscriptions] = await Promise.all([
    ownedContents(),
    api<{ purchases: Purchase[] }>('GET', '/api/purchases')
      .then((r) => r.purchases)
      .catch(() => [] as Purchase[]),
    api<{ subscriptions: Subscription[] }>('GET', '/api/subscriptions')
      .then((r) => r.subscriptions)
      .catch(() => [] as Subscription[]),
  ]);
  return {
    contents,
    tickets: new Set(
      purchases.filter((p) => p.kind === 'ticket' && p.status === 'completed' && p.roomId).map((p) => p.roomId!),
    ),
    subscribedTo: new Set(subscriptions.filter((s) => s.status === 'active').map((s) => s.creatorId)),
  };
}
