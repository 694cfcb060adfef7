import { type CatalogView, generateCandidates, reasonFor } from './candidates';
import { candidateOf, purchaseContextOf, userContextOf } from './context';
import type { CatalogItem, ViewerProfile } from './types';

function catalogOf(items: CatalogItem[], purchases: Record<string, number> = {}): CatalogView {
  return {
    byCreator: (creatorId) => items.filter((i) => i.creatorId === creatorId),
    creatorsWithTags(tags) {
      const out = new Map<string, { overlap: number; firstTag: string }>();
      for (const t of tags) {
        const creators = new Set(items.filter((i) => i.tags.includes(t)).map((i) => i.creatorId));
        for (const c of creators) {
          const e = out.get(c);
          if (e) e.overlap++;
          else out.set(c, { overlap: 1, firstTag: t });
        }
      }
      return out;
    },
    statsOf: (id) => ({ purchases: purchases[id] ?? 0 }),
  };
}

const item = (id: string, creatorId: string, tags: string[], kind: CatalogItem['kind'] = 'lesson'): CatalogItem => ({
  id,
  kind,
  creatorId,
  title: id,
  price: 500,
  tags,
});

const viewer = (fields: Partial<ViewerProfile> = {}): ViewerProfile => ({
  userId: 'viewer',
  history: [],
  spend: 0,
  purchases: 0,
  tags: [],
  engagedCreators: new Set(),
  owned: new Set(),
  subscribedTo: new Set(),
  ...fields,
});

const ITEMS = [
  item('host-lesson', 'host', ['math']),
  item('host-course', 'host', ['math'], 'course'),
  item('host', 'host', ['math'], 'subscription'),
  item('stats-lesson', 'stats-creator', ['math', 'stats']),
  item('cooking-lesson', 'cook', ['cooking']),
  item('history-lesson', 'historian', ['history']),
  item('viewer-own', 'viewer', ['math']),
];

describe('generateCandidates', () => {
  const room = { ownerId: 'host', tags: ['math'] };

  const SALES = { 'host-lesson': 5, 'host-course': 3, host: 1 };

  it("puts the room creator's contents and subscription first, then creators sharing tags", () => {
    const list = generateCandidates(catalogOf(ITEMS, SALES), viewer(), room, 100);
    expect(list.map((c) => [c.item.id, c.source])).toEqual([
      ['host-lesson', 'room'],
      ['host-course', 'room'],
      ['host', 'room'],
      ['stats-lesson', 'tags'],
    ]);
  });

  it('adds creators matching the viewer’s interests and creators they engaged with', () => {
    const list = generateCandidates(
      catalogOf(ITEMS),
      viewer({ tags: ['cooking'], engagedCreators: new Set(['historian']) }),
      room,
      100,
    );
    const sources = Object.fromEntries(list.map((c) => [c.item.id, c.source]));
    expect(sources).toMatchObject({ 'cooking-lesson': 'tags', 'history-lesson': 'engaged' });
    expect(list.find((c) => c.item.id === 'cooking-lesson')?.tag).toBe('cooking');
  });

  it('never includes what the viewer owns, their own contents, or a subscription they hold', () => {
    const list = generateCandidates(
      catalogOf(ITEMS),
      viewer({ owned: new Set(['host-lesson', 'stats-lesson']), subscribedTo: new Set(['host']) }),
      room,
      100,
    );
    const ids = list.map((c) => c.item.id);
    expect(ids).toEqual(['host-course']);
    expect(ids).not.toContain('viewer-own');
  });

  it('never offers a course or bundle whose items the viewer all owns', () => {
    const course = { ...item('algebra-course', 'host', ['math'], 'course'), contains: ['l1', 'l2'] };
    const bundle = {
      ...item('math-bundle', 'host', ['math'], 'bundle'),
      contains: ['algebra-course', 'l1', 'l2', 'l3'],
    };
    const catalog = catalogOf([course, bundle]);
    const some = generateCandidates(catalog, viewer({ owned: new Set(['l1']) }), room, 100);
    expect(some.map((c) => c.item.id)).toEqual(['algebra-course', 'math-bundle']);
    const all = generateCandidates(catalog, viewer({ owned: new Set(['l1', 'l2']) }), room, 100);
    expect(all.map((c) => c.item.id)).toEqual(['math-bundle']); // the bundle still has l3
    const everything = generateCandidates(
      catalog,
      viewer({ owned: new Set(['algebra-course', 'l1', 'l2', 'l3']) }),
      room,
      100,
    );
    expect(everything).toEqual([]);
  });

  it('stops at the maximum, most purchased first within a creator', () => {
    const list = generateCandidates(catalogOf(ITEMS, { 'host-course': 9, host: 3 }), viewer(), room, 2);
    expect(list.map((c) => c.item.id)).toEqual(['host-course', 'host']);
  });

  it('says why', () => {
    const [lesson, , sub] = generateCandidates(catalogOf(ITEMS, SALES), viewer(), room, 100);
    expect(reasonFor(lesson, 'Ada', [])).toBe('From Ada, live now');
    expect(reasonFor(sub, 'Ada', [])).toBe('Subscribe to Ada, live now');
    const tagged = { item: ITEMS[4], source: 'tags' as const, tag: 'cooking' };
    expect(reasonFor(tagged, 'Cook', ['cooking'])).toBe('Because you like #cooking');
    expect(reasonFor(tagged, 'Cook', [])).toBe('Related to this stream: #cooking');
    expect(reasonFor({ item: ITEMS[5], source: 'engaged' }, 'Herodotus', [])).toBe('More from Herodotus');
  });
});

describe('feature assembly', () => {
  it('builds the viewer context from profile, room and engagement', () => {
    const history = Array.from({ length: 30 }, (_, i) => `c${i}`);
    const context = userContextOf(
      viewer({ history, spend: 4200, purchases: 30, tags: ['math', 'stats'] }),
      { ownerId: 'host', tags: ['math'] },
      { likes: 7, chats: 2, tipped: 300 },
      95.6,
    );
    expect(context).toEqual({
      userId: 'viewer',
      tags: ['math', 'stats'],
      history: history.slice(-20), // most recent last
      spend: 4200,
      purchases: 30,
      room: { tags: ['math'], creatorId: 'host', secondsInRoom: 96, likes: 7, chats: 2, tipped: 300 },
    });
  });

  it('describes a content and a subscription with tags, creator, price, kind and conversion', () => {
    expect(candidateOf(ITEMS[1], { purchases: 3, impressions: 40 })).toEqual({
      contentId: 'host-course',
      tags: ['math'],
      price: 500,
      kind: 'course',
      creatorId: 'host',
      purchases: 3,
      impressions: 40,
    });
    // Purchases outside suggestions can outnumber impressions; conversion stays ≤ 1.
    expect(candidateOf(ITEMS[2], { purchases: 5, impressions: 2 })).toMatchObject({
      contentId: 'host',
      kind: 'subscription',
      purchases: 5,
      impressions: 5,
    });
  });

  it('describes the buyer as they were before a purchase', () => {
    const context = purchaseContextOf(
      viewer({ history: ['a', 'host-lesson', 'b'], tags: ['math'] }),
      'viewer',
      ITEMS[0],
    );
    expect(context.history).toEqual(['a', 'b']);
    expect(purchaseContextOf(undefined, 'someone', ITEMS[0])).toEqual({ userId: 'someone' });
  });
});
