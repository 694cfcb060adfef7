import { AppError } from '../../errors';
import { parseInteractionsCsv } from './csv';

const rows = (text: string) => {
  const log = parseInteractionsCsv(text, 'test.csv');
  return Array.from(log.user, (u, r) => ({
    user: log.userIds[u],
    item: log.itemIds[log.item[r]],
    timestamp: log.timestamp[r],
    value: log.value[r],
  }));
};

const errorOf = (text: string): AppError => {
  try {
    parseInteractionsCsv(text, 'test.csv');
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected the CSV to be rejected');
};

describe('parseInteractionsCsv', () => {
  it('reads ids as strings, times and values as numbers', () => {
    expect(rows('user,item,timestamp,value\nalice,42,1700000000,4.5\nbob,x-1,1700000001.5,\n')).toEqual([
      { user: 'alice', item: '42', timestamp: 1700000000, value: 4.5 },
      { user: 'bob', item: 'x-1', timestamp: 1700000001.5, value: 1 },
    ]);
  });

  it('tolerates CRLF, a BOM, blank lines, whitespace and columns in any order', () => {
    const text = '\ufeff timestamp , USER,item \r\n\r\n 10 ,  a , b \r\n  \r\n20,a,c\r\n';
    const log = parseInteractionsCsv(text);
    expect(rows(text)).toEqual([
      { user: 'a', item: 'b', timestamp: 10, value: 1 },
      { user: 'a', item: 'c', timestamp: 20, value: 1 },
    ]);
    expect(log.hasValue).toBe(false);
    expect(log.userIds).toEqual(['a']);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks', () => {
    const text = 'user,item,timestamp\n"smith, j","the ""best"" course",5\n  "multi\nline" , plain ,6\nu,i,7\n';
    expect(rows(text)).toEqual([
      { user: 'smith, j', item: 'the "best" course', timestamp: 5, value: 1 },
      { user: 'multi\nline', item: 'plain', timestamp: 6, value: 1 },
      { user: 'u', item: 'i', timestamp: 7, value: 1 },
    ]);
  });

  it('accepts ISO-8601 timestamps and keeps their order', () => {
    const [a, b] = rows('user,item,timestamp\nu,i,2024-05-01T10:00:00Z\nu,j,2024-05-01T10:00:01Z\n');
    expect(b.timestamp - a.timestamp).toBe(1);
  });

  it('names the line of a row with the wrong number of fields', () => {
    const err = errorOf('user,item,timestamp\nu,i,1\nu,j\n');
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe('test.csv:3: expected 3 fields (user,item,timestamp), got 2');
    expect(err.details).toEqual({ line: 3 });
  });

  it('counts physical lines, quoted line breaks included, when naming a bad row', () => {
    expect(errorOf('user,item,timestamp\n"a\nb",i,1\nu,i,soon\n').message).toBe(
      'test.csv:4: timestamp "soon" is neither a number nor an ISO-8601 date',
    );
  });

  it.each([
    ['', 'test.csv:1: empty file'],
    ['user,item\nu,i\n', 'missing column "timestamp"'],
    ['user,item,timestamp,rating\n', 'unknown column "rating"'],
    ['user,item,timestamp,user\n', 'column "user" appears twice'],
    ['user,item,timestamp\n,i,1\n', 'test.csv:2: empty user id'],
    ['user,item,timestamp\nu, ,1\n', 'test.csv:2: empty item id'],
    ['user,item,timestamp\nu,i,\n', 'test.csv:2: empty timestamp'],
    ['user,item,timestamp,value\nu,i,1,lots\n', 'test.csv:2: value "lots" is not a number'],
    ['user,item,timestamp\nu,"i,1\n', 'test.csv:2: unterminated quoted field'],
    ['user,item,timestamp\nu,"i"x,1\n', 'test.csv:2: text after a closing quote'],
    ['user,item,timestamp\nu,i"x",1\n', 'test.csv:2: a quote inside an unquoted field'],
  ])('rejects %j', (text, message) => {
    expect(errorOf(text).message).toContain(message);
  });
});
