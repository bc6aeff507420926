import { AsyncLocalStorage } from "node:async_hooks";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Database = DrizzleD1Database<typeof schema>;

/**
 * What drizzle's D1 driver calls on its client: a D1 database, one of its
 * sessions (`withSession`) or a request's session (./session.ts).
 */
export type D1Client = Pick<D1DatabaseSession, "prepare" | "batch">;

// One drizzle instance per isolate, not per request: building drizzle's
// schema maps and, above all, the SQL of every query again on each request
// took more of a request's CPU than anything but D1 itself (bench/README.md).
// Queries are prepared once (see ./prepared.ts) and run on the D1 client of
// the request that executes them, which withClient() makes current.

const requestClient = new AsyncLocalStorage<D1Client>();

function current(): D1Client {
  const client = requestClient.getStore();
  if (client === undefined) throw new Error("a database query outside withClient()");
  return client;
}

/** Runs `body` with `client` as the D1 client of every query it makes. */
export function withClient<T>(client: D1Client, body: () => Promise<T>): Promise<T> {
  return requestClient.run(client, body);
}

/** A statement of the isolate's client: prepared on the current request's client when it runs. */
class IsolateStatement implements D1PreparedStatement {
  constructor(
    private readonly query: string,
    private readonly values: unknown[],
  ) {}

  /** This statement on `client`. */
  on(client: D1Client): D1PreparedStatement {
    return client.prepare(this.query).bind(...this.values);
  }

  bind(...values: unknown[]): D1PreparedStatement {
    return new IsolateStatement(this.query, values);
  }

  first<T = unknown>(colName: string): Promise<T | null>;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  first<T>(colName?: string): Promise<T | null> {
    const statement = this.on(current());
    return colName === undefined ? statement.first<T>() : statement.first<T>(colName);
  }

  run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.on(current()).run<T>();
  }

  all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.on(current()).all<T>();
  }

  raw<T = unknown[]>(options: { columnNames: true }): Promise<[string[], ...T[]]>;
  raw<T = unknown[]>(options?: { columnNames?: false }): Promise<T[]>;
  raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<[string[], ...T[]] | T[]> {
    const statement = this.on(current());
    return options?.columnNames === true
      ? statement.raw<T>({ columnNames: true })
      : statement.raw<T>({ columnNames: false });
  }
}

export const isolateClient: D1Client = {
  prepare: (query) => new IsolateStatement(query, []),
  batch: <T>(statements: D1PreparedStatement[]) => {
    const client = current();
    return client.batch<T>(
      statements.map((s) => {
        if (!(s instanceof IsolateStatement)) throw new TypeError("a statement of another client");
        return s.on(client);
      }),
    );
  },
};

// drizzle types its client as D1Database, but only ever calls prepare and
// batch on it.
export const db: Database = drizzle(isolateClient as D1Database, { schema });
