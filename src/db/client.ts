import { AsyncLocalStorage } from "node:async_hooks";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";
import type { RequestSession } from "./session";

export type Database = DrizzleD1Database<typeof schema>;

// One drizzle instance per isolate, not per request: building drizzle's
// schema maps and, above all, the SQL of every query again on each request
// took more of a request's CPU than anything but D1 itself (bench/README.md).
// Queries are prepared once (see ./prepared.ts) and run on the D1 session
// of the request that executes them, which withSession() makes current.

const requestSession = new AsyncLocalStorage<RequestSession>();

function current(): RequestSession {
  const session = requestSession.getStore();
  if (session === undefined) throw new Error("a database query outside withSession()");
  return session;
}

/** Runs `body` with `session` as the D1 session of every query it makes. */
export function withSession<T>(session: RequestSession, body: () => Promise<T>): Promise<T> {
  return requestSession.run(session, body);
}

/** A statement of the isolate's client: run on the current request's session. */
class IsolateStatement implements D1PreparedStatement {
  constructor(
    private readonly query: string,
    private readonly values: unknown[],
  ) {}

  /** This statement on `session`. */
  on(session: D1DatabaseSession): D1PreparedStatement {
    return session.prepare(this.query).bind(...this.values);
  }

  bind(...values: unknown[]): D1PreparedStatement {
    return new IsolateStatement(this.query, values);
  }

  first<T = unknown>(colName: string): Promise<T | null>;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  first<T>(colName?: string): Promise<T | null> {
    return current().execute((session) =>
      colName === undefined ? this.on(session).first<T>() : this.on(session).first<T>(colName),
    );
  }

  run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return current().execute((session) => this.on(session).run<T>());
  }

  all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return current().execute((session) => this.on(session).all<T>());
  }

  raw<T = unknown[]>(options: { columnNames: true }): Promise<[string[], ...T[]]>;
  raw<T = unknown[]>(options?: { columnNames?: false }): Promise<T[]>;
  raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<[string[], ...T[]] | T[]> {
    return current().execute<[string[], ...T[]] | T[]>((session) =>
      options?.columnNames === true
        ? this.on(session).raw<T>({ columnNames: true })
        : this.on(session).raw<T>({ columnNames: false }),
    );
  }
}

/** What drizzle's D1 driver calls on its client. */
export type D1Client = Pick<D1DatabaseSession, "prepare" | "batch">;

/** The isolate's D1 client: statements that run on the current request's session. */
export const isolateClient: D1Client = {
  prepare: (query) => new IsolateStatement(query, []),
  batch: <T>(statements: D1PreparedStatement[]) =>
    current().execute((session) =>
      session.batch<T>(
        statements.map((s) => {
          if (!(s instanceof IsolateStatement)) throw new TypeError("a statement of another client");
          return s.on(session);
        }),
      ),
    ),
};

// drizzle types its client as D1Database, but only ever calls prepare and
// batch on it.
export const db: Database = drizzle(isolateClient as D1Database, { schema });
