import { sql } from 'kysely';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { createKysely } from './pool';
import { kyselyOn, literal, quoted, RoundTrip } from './round-trip';

let database: TestDatabase;
let handle: ReturnType<typeof createKysely>;
beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
  handle = createKysely(database.url, 2);
});
afterAll(async () => {
  await handle.db.destroy();
  await database.drop();
});

// Values a tip message or a name can hold: each must come back exactly as sent, and none may
// end its literal early (a quote, a backslash, a placeholder, an array's own syntax).
const awkward = [
  "it's",
  'back\\slash',
  "\\'; DROP TABLE x; --",
  '$1 and $2',
  '"quoted", {braces}',
  'NULL',
  '',
  '多字节 ✓',
  'line\nbreak',
  // What could end a dollar-quoted literal ($L$...$L$) early.
  '$L$',
  'ends in $L',
  'a $L$; DROP TABLE x; -- $L$',
  '$',
  '$$',
];

it('quotes a literal exactly as pg.escapeLiteral does when it cannot be dollar-quoted', () => {
  for (const value of [...awkward, '\\\\', "''", "\\'"]) expect(quoted(value)).toBe(pg.escapeLiteral(value));
  expect(literal('ends in $L')).toBe(quoted('ends in $L'));
  expect(literal("it's")).toBe("$L$it's$L$");
});

it('inlines parameters so every value arrives exactly as sent, scalars and arrays', async () => {
  const { db, pool } = handle;
  const client = await pool.connect();
  try {
    const trip = new RoundTrip();
    const scalars = awkward.map((v) => trip.add<{ v: string }>(sql`SELECT ${v}::text AS v`.compile(db)));
    const array = trip.add<{ v: string | null }>(sql`SELECT unnest(${[...awkward, null]}::text[]) AS v`.compile(db));
    const typed = trip.add<{ n: number; at: Date; none: null }>(
      sql`SELECT ${42}::int8 AS n, ${new Date('2026-01-02T03:04:05.678Z')}::timestamptz AS at, ${null}::text AS none`.compile(
        db,
      ),
    );
    const numbers = [0, -7, 2 ** 53 - 1, 1.5, -0.25, 1e21];
    const typedArrays = trip.add<{ n: string[]; f: number[]; b: boolean[]; at: Date[] }>(
      sql`SELECT ${numbers.slice(0, 3)}::int8[]::text[] AS n, ${numbers}::float8[] AS f,
                 ${[true, false, null]}::bool[] AS b, ${[new Date('2026-01-02T03:04:05.678Z')]}::timestamptz[] AS at`.compile(
        db,
      ),
    );
    await trip.send(client);
    expect(typedArrays()).toEqual([
      {
        n: ['0', '-7', String(2 ** 53 - 1)],
        f: numbers,
        b: [true, false, null],
        at: [new Date('2026-01-02T03:04:05.678Z')],
      },
    ]);
    expect(scalars.map((rows) => rows()[0].v)).toEqual(awkward);
    expect(array().map((r) => r.v)).toEqual([...awkward, null]);
    expect(typed()).toEqual([{ n: 42, at: new Date('2026-01-02T03:04:05.678Z'), none: null }]);
  } finally {
    client.release();
  }
});

it('runs the statements in order in one transaction; a failing one stops the rest', async () => {
  const { db, pool } = handle;
  await sql`CREATE TABLE trip_t (n int PRIMARY KEY)`.execute(db);
  const client = await pool.connect();
  try {
    const ok = new RoundTrip();
    ok.add('BEGIN');
    ok.add(sql`INSERT INTO trip_t VALUES (${1})`.compile(db));
    // A later statement sees what an earlier one wrote.
    const seen = ok.add<{ n: number }>(sql`SELECT n FROM trip_t`.compile(db));
    ok.add('COMMIT');
    await ok.send(client);
    expect(seen()).toEqual([{ n: 1 }]);

    const failing = new RoundTrip();
    failing.add('BEGIN');
    failing.add(sql`INSERT INTO trip_t VALUES (${2})`.compile(db));
    failing.add(sql`INSERT INTO trip_t VALUES (${1})`.compile(db));
    failing.add('COMMIT');
    await expect(failing.send(client)).rejects.toThrow(/duplicate key/);
    await client.query('ROLLBACK');
    // The Kysely bound to the client runs on that same connection.
    const rows = await kyselyOn(client)
      .selectFrom('trip_t' as never)
      .select(sql<number>`n`.as('n'))
      .execute();
    expect(rows).toEqual([{ n: 1 }]);
  } finally {
    client.release();
  }
});
