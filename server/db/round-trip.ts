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
 * `text` as a SQL string literal, the way pg.escapeLiteral writes it (quotes doubled; with a
 * backslash, an E'' literal with backslashes doubled), but with native replaces: pg's loop
 * over every character was most of a money batch's own CPU time.
 */
export function literal(text: string): string {
  const quoted = `'${text.replace(/'/g, "''")}'`;
  return text.includes('\\') ? ` E${quoted.replace(/\\/g, '\\\\')}` : quoted;
}

/** The text pg would send for a parameter (null for SQL NULL); arrays as Postgres array literals. */
function parameterText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    const elements = value.map((e) => {
      if (Array.isArray(e)) throw new Error('nested arrays are not supported');
      const t = parameterText(e);
      return t === null ? 'NULL' : `"${t.replace(/[\\"]/g, '\\$&')}"`;
    });
    return `{${elements.join(',')}}`;
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Buffer.isBuffer(value)) throw new Error('binary parameters are not supported');
  return JSON.stringify(value);
}

/** A Kysely whose every query runs on this one client, inside whatever transaction it is in. */
export function kyselyOn(client: pg.ClientBase): Kysely<DB> {
  const pool = {
    connect: async () => ({ query: client.query.bind(client), release: () => {} }),
    end: async () => {},
  } as unknown as PostgresPool;
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}
