import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";

/**
 * What runs a query: a D1 database (`env.DB`), a D1 session, or a request's
 * session (./session.ts). drizzle's D1 driver and our statements only ever
 * call these two.
 */
export type D1Client = Pick<D1Database, "prepare" | "batch">;

/** The database every store function and engine task is a function of. */
export type Database = DrizzleD1Database & { $client: D1Client };

/**
 * drizzle on `client`. Cheap: without a relational schema, drizzle only
 * wraps the client; the SQL of hot queries is built once per isolate
 * (./statements.ts), so a Database per request or per Workflow step costs
 * nothing worth measuring.
 */
export function database(client: D1Client): Database {
  // drizzle types its client as D1Database but calls only prepare and batch.
  return drizzle(client as D1Database);
}

/**
 * Runs `body` on one D1 session (D1's Sessions API) that starts from
 * `constraint`: the way a Workflow step, a cron handler or a test reaches
 * the database outside a request. `first-primary` when what is read decides
 * a write.
 */
export function runInSession<T>(
  d1: D1Database,
  constraint: D1SessionConstraint,
  body: (db: Database) => Promise<T>,
): Promise<T> {
  return body(database(d1.withSession(constraint)));
}
