import { type CompiledQuery, Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import type pg from 'pg';
import type { DB } from './schema';

/**
 * Several statements in one round trip. node-postgres sends a query only when the one before it
 * has been answered, so a transaction of ten statements waits ten times for Postgres and ten
 * times for this process's event loop — on a busy server most of a money batch's time. The
 * simple query protocol takes many statements in one message, but no parameters: each compiled
 * query's parameters are written into its text as quoted literals (escaped as pg does, so a value can
 * never end its literal), and each statement's rows come back in order. A statement that fails
 * stops the rest; inside a transaction, the transaction is then aborted.
 */
export class RoundTrip {
  private readonly statements: (CompiledQuery | string)[] = [];
  private answers?: unknown[][];

  /** Adds a statement; what is returned gives its rows once the trip is back. */
  add<R = Record<string, unknown>>(statement: CompiledQuery | string): () => R[] {
    const index = this.statements.push(statement) - 1;
    return () => {
      if (!this.answers) throw new Error('the round trip has not been sent');
      return this.answers[index] as R[];
    };
  }

  async send(client: pg.ClientBase): Promise<void> {
    const text = this.statements.map((s) => (typeof s === 'string' ? s : inline(s))).join(';\n');
    const result = (await client.query(text)) as pg.QueryResult | pg.QueryResult[];
    this.answers = (Array.isArray(result) ? result : [result]).map((r) => r.rows);
  }
}

/** A compiled query with its `$n` parameters written in as literals. */
export function inline(query: CompiledQuery): string {
  return query.sql.replace(/\$(\d+)/g, (_, n: string) => {
    const index = Number(n) - 1;
    if (index >= query.parameters.length) throw new Error(`no parameter $${n}`);
    const text = parameterText(query.parameters[index]);
    return text === null ? 'NULL' : literal(text);
  });
}

/**
 * `text` as a SQL string literal. Dollar-quoted (`$L$...$L$`, nothing inside is an escape) when the
 * text cannot end it early: a batch's literals are tens of kilobytes of ids and JSON, and quoting
 * them character by character, then again for their backslashes, was most of a batch's own CPU.
 * Otherwise quoted as pg.escapeLiteral writes it (`quoted`).
 */
export function literal(text: string): string {
  return `${text}${DOLLAR_TAG}`.indexOf(DOLLAR_TAG) === text.length
    ? `${DOLLAR_TAG}${text}${DOLLAR_TAG}`
    : quoted(text);
}
const DOLLAR_TAG = '$L$';

/**
 * `text` quoted the way pg.escapeLiteral writes it (quotes doubled; with a backslash, an E''
 * literal with backslashes doubled), but with native replaces instead of pg's loop over every
 * character.
 */
export function quoted(text: string): string {
  const q = `'${text.replace(/'/g, "''")}'`;
  return text.includes('\\') ? ` E${q.replace(/\\/g, '\\\\')}` : q;
}

/** The text pg would send for a parameter (null for SQL NULL); arrays as Postgres array literals. */
function parameterText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    let text = '{';
    for (let i = 0; i < value.length; i++) text += (i ? ',' : '') + arrayElement(value[i]);
    return `${text}}`;
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Buffer.isBuffer(value)) throw new Error('binary parameters are not supported');
  return JSON.stringify(value);
}

/**
 * One element of an array literal. A batch's arrays hold thousands of ids, amounts and JSON
 * texts: numbers need no quotes, and a text is scanned for the two characters that need escaping
 * before any replace (a regular expression per element was a third of a money batch's own CPU).
 */
function arrayElement(e: unknown): string {
  if (typeof e === 'number' || typeof e === 'bigint' || typeof e === 'boolean') return String(e);
  if (Array.isArray(e)) throw new Error('nested arrays are not supported');
  const t = parameterText(e);
  if (t === null) return 'NULL';
  return t.includes('"') || t.includes('\\') ? `"${t.replace(/[\\"]/g, '\\$&')}"` : `"${t}"`;
}

/**
 * Runs `body` on one client of `pool`: a transaction whose round trips carry their own `BEGIN`
 * (in the first) and `COMMIT` (in the last). If anything fails, it is rolled back, and a client
 * that cannot even roll back is dropped rather than returned to the pool.
 */
export async function onPooledClient<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    const result = await body(client);
    client.release();
    return result;
  } catch (err) {
    const broken = await client.query('ROLLBACK').then(
      () => false,
      () => true,
    );
    client.release(broken);
    throw err;
  }
}

/** A Kysely whose every query runs on this one client, inside whatever transaction it is in. */
export function kyselyOn(client: pg.ClientBase): Kysely<DB> {
  const pool = {
    connect: async () => ({ query: client.query.bind(client), release: () => {} }),
    end: async () => {},
  } as unknown as PostgresPool;
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}
