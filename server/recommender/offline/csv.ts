import { invalidArgument } from '../../errors';

/**
 * An interaction log as parsed from CSV, columnar and with ids interned to dense indices so a
 * MovieLens-1M-sized log (1M rows) costs tens of megabytes, not a million objects.
 */
export interface InteractionLog {
  /** Index → original user id. */
  readonly userIds: readonly string[];
  /** Index → original item id. */
  readonly itemIds: readonly string[];
  /** Per row, in file order. */
  readonly user: Int32Array;
  readonly item: Int32Array;
  /** Seconds (numbers are taken as they are; ISO-8601 dates become Unix seconds). */
  readonly timestamp: Float64Array;
  /** The optional `value` column (rating, price, play count); 1 where the column is absent or empty. */
  readonly value: Float64Array;
  readonly hasValue: boolean;
}

const REQUIRED = ['user', 'item', 'timestamp'] as const;
const OPTIONAL = ['value'] as const;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** One CSV record and the physical line it starts on (1-based), for error messages. */
interface CsvRecord {
  fields: string[];
  line: number;
}

/**
 * Parses `user,item,timestamp[,value]` CSV (RFC 4180 quoting, CRLF or LF, a BOM, blank lines and
 * whitespace around fields are all tolerated; columns may come in any order). Anything else is an
 * INVALID_ARGUMENT naming the source and line, because a silently skipped row would bias the
 * evaluation without anyone noticing.
 */
export function parseInteractionsCsv(text: string, source = 'input'): InteractionLog {
  const fail = (line: number, message: string): never => {
    throw invalidArgument(`${source}:${line}: ${message}`, { line });
  };
  const records = csvRecords(text, fail);
  const header = records.next();
  if (header.done) fail(1, 'empty file: expected a header row user,item,timestamp[,value]');
  const { fields: names, line: headerLine } = header.value as CsvRecord;
  const column = new Map<string, number>();
  names.forEach((raw, i) => {
    const name = raw.toLowerCase();
    if (!(REQUIRED as readonly string[]).includes(name) && !(OPTIONAL as readonly string[]).includes(name)) {
      fail(headerLine, `unknown column "${raw}"; expected a header user,item,timestamp[,value]`);
    }
    if (column.has(name)) fail(headerLine, `column "${name}" appears twice`);
    column.set(name, i);
  });
  for (const name of REQUIRED) {
    if (!column.has(name)) fail(headerLine, `missing column "${name}"; expected a header user,item,timestamp[,value]`);
  }
  const userCol = column.get('user')!;
  const itemCol = column.get('item')!;
  const timeCol = column.get('timestamp')!;
  const valueCol = column.get('value') ?? -1;

  const userIndex = new Map<string, number>();
  const itemIndex = new Map<string, number>();
  const userIds: string[] = [];
  const itemIds: string[] = [];
  const intern = (id: string, index: Map<string, number>, ids: string[]) => {
    let i = index.get(id);
    if (i === undefined) {
      i = ids.length;
      index.set(id, i);
      ids.push(id);
    }
    return i;
  };
  const user = new GrowableArray(Int32Array);
  const item = new GrowableArray(Int32Array);
  const timestamp = new GrowableArray(Float64Array);
  const value = new GrowableArray(Float64Array);

  for (const { fields, line } of records) {
    if (fields.length !== names.length) {
      fail(line, `expected ${names.length} fields (${names.join(',')}), got ${fields.length}`);
    }
    const u = fields[userCol];
    const it = fields[itemCol];
    if (u === '') fail(line, 'empty user id');
    if (it === '') fail(line, 'empty item id');
    user.push(intern(u, userIndex, userIds));
    item.push(intern(it, itemIndex, itemIds));
    timestamp.push(parseTimestamp(fields[timeCol], line, fail));
    if (valueCol < 0 || fields[valueCol] === '') value.push(1);
    else {
      const v = fields[valueCol];
      if (!NUMBER.test(v)) fail(line, `value "${v}" is not a number`);
      value.push(Number(v));
    }
  }
  return {
    userIds,
    itemIds,
    user: user.toArray(),
    item: item.toArray(),
    timestamp: timestamp.toArray(),
    value: value.toArray(),
    hasValue: valueCol >= 0,
  };
}

function parseTimestamp(raw: string, line: number, fail: (line: number, message: string) => never): number {
  if (NUMBER.test(raw)) return Number(raw);
  // Dates such as 2024-05-01T10:00:00Z, as some exports write them; Date.parse alone would
  // also accept things like "1", so require the shape of a date first.
  if (/^\d{4}-\d{2}-\d{2}/.test(raw)) {
    const ms = Date.parse(raw);
    if (Number.isFinite(ms)) return ms / 1000;
  }
  return fail(line, raw === '' ? 'empty timestamp' : `timestamp "${raw}" is neither a number nor an ISO-8601 date`);
}

/**
 * Splits text into records. Lines without a quote (nearly all of them) take a fast path; quoted
 * fields may hold commas, doubled quotes and line breaks. Fields are trimmed outside quotes.
 */
function* csvRecords(text: string, fail: (line: number, message: string) => never): Generator<CsvRecord> {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 0;
  while (pos < text.length) {
    line++;
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const raw = text.slice(pos, end);
    if (!raw.includes('"')) {
      pos = end + 1;
      const content = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (content.trim() === '') continue;
      yield { fields: content.split(',').map((f) => f.trim()), line };
      continue;
    }
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false; // inside quotes now
    let wasQuoted = false; // this field had quotes (then whitespace after them is dropped)
    let i = pos;
    for (; i < text.length; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else quoted = false;
        } else {
          if (c === '\n') line++;
          field += c;
        }
      } else if (c === '"') {
        if (wasQuoted || field.trim() !== '') fail(line, 'a quote inside an unquoted field');
        quoted = true;
        wasQuoted = true;
        field = '';
      } else if (c === ',') {
        fields.push(wasQuoted ? field : field.trim());
        field = '';
        wasQuoted = false;
      } else if (c === '\n') break;
      else if (wasQuoted) {
        if (c !== ' ' && c !== '\t' && c !== '\r') fail(line, 'text after a closing quote');
      } else field += c;
    }
    if (quoted) fail(startLine, 'unterminated quoted field');
    fields.push(wasQuoted ? field : field.trim());
    pos = i + 1;
    yield { fields, line: startLine };
  }
}

type TypedArray = Int32Array | Float64Array;

/** An append-only typed array that doubles as it fills. */
class GrowableArray<T extends TypedArray> {
  private data: T;
  private size = 0;

  constructor(private readonly Kind: new (n: number) => T) {
    this.data = new Kind(1024);
  }

  push(v: number): void {
    if (this.size === this.data.length) {
      const bigger = new this.Kind(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.size++] = v;
  }

  toArray(): T {
    return this.data.slice(0, this.size) as T;
  }
}
