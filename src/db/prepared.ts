import { fillPlaceholders, type SQL, sql } from "drizzle-orm";
import { type Database, isolateClient } from "./client";

// Queries built once per isolate. drizzle builds a query's SQL from its
// builder objects on every call, and on the hot paths that cost more CPU
// than the rest of the request outside D1 (bench/README.md). A prepared
// query keeps its SQL and result mapping; each request only binds values
// to its placeholders and runs it on the request's D1 session.

/** A placeholder as an SQL value, for `sql` templates and insertSelection. */
export const param = (name: string): SQL => sql`${sql.placeholder(name)}`;

/** `build(db)` on first use, then the same value. */
export function once<T>(build: (db: Database) => T): (db: Database) => T {
  let value: T | undefined;
  let built = false;
  return (db) => {
    if (!built) {
      value = build(db);
      built = true;
    }
    return value as T;
  };
}

type Values = Record<string, unknown>;

/** What batch() needs of a drizzle prepared query. */
interface Prepared {
  all(values?: Values): Promise<unknown>;
}

// What drizzle's D1 prepared queries have beyond their declared type: the
// statement they were prepared as, and their (batch) result mapping.
interface D1Prepared {
  stmt: D1PreparedStatement;
  getQuery(): { params: unknown[] };
  mapResult(response: unknown, isFromBatch: boolean): unknown;
}

type Result<Q> = Q extends { all(values?: Values): Promise<infer R> } ? R : never;

/**
 * Runs prepared queries, each with its placeholder values, in one D1 batch:
 * one round trip, one implicit transaction, as db.batch() does with query
 * builders (which it builds again every time).
 */
export async function batch<A extends Prepared, B extends Prepared>(
  first: [A, Values],
  second: [B, Values],
): Promise<[Result<A>, Result<B>]> {
  const items = [first, second] as unknown as [D1Prepared, Values][];
  const statements = items.map(([query, values]) =>
    query.stmt.bind(...fillPlaceholders(query.getQuery().params, values)),
  );
  const results = await isolateClient.batch(statements);
  return items.map(([query], i) => query.mapResult(results[i], true)) as [Result<A>, Result<B>];
}
