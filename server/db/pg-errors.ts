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
