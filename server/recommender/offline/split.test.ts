import { parseInteractionsCsv } from './csv';
import { holdOutLast, leaveLastOut, userSequences } from './split';

const log = parseInteractionsCsv(
  [
    'user,item,timestamp',
    'ann,a,30',
    'ann,b,10',
    'bob,a,5',
    'ann,c,20',
    'ann,b,40', // a repeat: dropped, the first time counts
    'cid,d,1',
    'bob,e,5', // same time as bob's "a": file order breaks the tie
    'bob,a,6',
  ].join('\n'),
);
const ids = (items: ArrayLike<number>) => Array.from(items, (i) => log.itemIds[i]);

describe('userSequences', () => {
  it('orders each user by time, breaks ties by file order and keeps first occurrences', () => {
    const seq = userSequences(log);
    const of = (user: string) => {
      const u = log.userIds.indexOf(user);
      return ids(seq.items.subarray(seq.offsets[u], seq.offsets[u + 1]));
    };
    expect(of('ann')).toEqual(['b', 'c', 'a']);
    expect(of('bob')).toEqual(['a', 'e']);
    expect(of('cid')).toEqual(['d']);
  });
});

describe('leaveLastOut', () => {
  const split = leaveLastOut(log);
  const user = (name: string) => log.userIds.indexOf(name);
  const train = (name: string) =>
    ids(split.train.items.subarray(split.train.offsets[user(name)], split.train.offsets[user(name) + 1]));

  it('holds out each user’s last distinct item and trains on the rest', () => {
    expect(ids([split.testItem[user('ann')]])).toEqual(['a']);
    expect(train('ann')).toEqual(['b', 'c']);
    expect(ids([split.testItem[user('bob')]])).toEqual(['e']);
    expect(train('bob')).toEqual(['a']);
    expect(split.testTimestamp[user('ann')]).toBe(30);
  });

  it('keeps users with fewer than two items in training only', () => {
    expect(split.testItem[user('cid')]).toBe(-1);
    expect(train('cid')).toEqual(['d']);
    expect(Array.from(split.testUsers).map((u) => log.userIds[u])).toEqual(['ann', 'bob']);
  });

  it('holds out a validation item only for chosen users that keep at least one training item', () => {
    const v = holdOutLast(split.train, Int32Array.from([user('ann'), user('bob')]));
    expect(Array.from(v.validationUsers)).toEqual([user('ann')]);
    expect(ids([v.validationItem[user('ann')]])).toEqual(['c']);
    const annTrain = v.train.items.subarray(v.train.offsets[user('ann')], v.train.offsets[user('ann') + 1]);
    expect(ids(annTrain)).toEqual(['b']);
    expect(v.validationItem[user('bob')]).toBe(-1);
    expect(v.train.offsets[user('bob') + 1] - v.train.offsets[user('bob')]).toBe(1);
  });
});
