/** Postgres error classification, by SQLSTATE and constraint name. */
interface PgError {
  code?: string;
  constraint?: string;
}

const asPg = (err: unknown): PgError => (typeof err === 'object' && err !== null ? (err as PgError) : {});

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = asPg(err);
  return e.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

export function isConstraintViolation(err: unknown, constraint: string): boolean {
  const e = asPg(err);
  return (e.code === '23514' || e.code === '23505' || e.code === '23503') && e.constraint === constraint;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * The database could not be reached or went away mid-statement (a restart, a failover, a cut
 * connection) — not a problem with the statement itself. Such a statement did nothing it can
 * keep: a transaction it was in is rolled back.
 */
export function isUnavailable(err: unknown): boolean {
  const e = asPg(err) as PgError & { message?: unknown };
  if (typeof e.code === 'string') {
    // Class 08: connection exception; 57P01–57P03: admin shutdown, crash shutdown, cannot connect now.
    if (e.code.startsWith('08') || /^57P0[123]$/.test(e.code) || UNREACHABLE.has(e.code)) return true;
  }
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|connection error|not queryable/i.test(message);
}
