import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Database = DrizzleD1Database<typeof schema>;

/**
 * What drizzle's D1 driver calls on its client: a D1 database, one of its
 * sessions (`withSession`) or a request's session (./session.ts).
 */
export type D1Client = Pick<D1DatabaseSession, "prepare" | "batch">;

// drizzle types its client as D1Database, but only ever calls prepare and
// batch on it, which a session has too.
export const database = (client: D1Client): Database => drizzle(client as D1Database, { schema });
