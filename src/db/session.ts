// One D1 session per request (D1's Sessions API), so that reads may be served
// by a read replica while a client still reads its own writes: the client
// sends back the bookmark of its last response and the session starts at
// least as new as it.

/**
 * The shape of a bookmark as D1 issues it (Time Travel and Sessions API:
 * four hex groups, e.g. `00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683`).
 * Anything else is not one of ours and never reaches D1.
 */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/** The bookmark a client sent, when it looks like one D1 issued. */
export function clientBookmark(header: string | undefined): string | null {
  const value = header?.trim().toLowerCase() ?? "";
  return BOOKMARK.test(value) ? value : null;
}

/**
 * A request's D1 session, as drizzle's D1 driver uses a database: `prepare`
 * and `batch`. It records whether any query ran, so the response carries a
 * bookmark only when it reached the database, and it stands in for a
 * session started from a client's bookmark that D1 refuses.
 *
 * D1 checks a bookmark only when the first query runs (an unknown, foreign
 * or expired bookmark fails there). A client must never get a 500 for what it
 * sends, and a bookmark is only a hint for freshness, so the query is run
 * again on a session started like one without a bookmark, once, and the
 * request goes on without it. Only reads start from a client's bookmark, so
 * running the query again writes nothing twice.
 */
export class RequestSession {
  #session: D1DatabaseSession;
  /** The session started from the client's bookmark, until D1 accepted it. */
  #unconfirmed: D1DatabaseSession | null;
  readonly #fallback: () => D1DatabaseSession;
  #queried = false;

  constructor(db: D1Database, constraint: D1SessionConstraint, bookmark: string | null = null) {
    this.#fallback = () => db.withSession(constraint);
    this.#session = bookmark === null ? this.#fallback() : db.withSession(bookmark);
    this.#unconfirmed = bookmark === null ? null : this.#session;
  }

  prepare(query: string): D1PreparedStatement {
    return new Statement(this, query, []);
  }

  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    return this.execute((session) => session.batch<T>(statements.map((statement) => Statement.on(statement, session))));
  }

  /** The session's latest bookmark, or null when no query ran. */
  bookmark(): string | null {
    return this.#queried ? this.#session.getBookmark() : null;
  }

  /** Runs one query or batch on the session (see the class comment). */
  async execute<T>(query: (session: D1DatabaseSession) => Promise<T>): Promise<T> {
    this.#queried = true;
    const session = this.#session;
    try {
      const result = await query(session);
      if (session === this.#unconfirmed) this.#unconfirmed = null;
      return result;
    } catch (error) {
      if (session !== this.#unconfirmed) throw error;
      if (this.#session === session) {
        console.warn("D1 refused the client's bookmark; the request goes on without it:", error);
        this.#session = this.#fallback();
      }
      return query(this.#session);
    }
  }
}

/**
 * A prepared statement of a RequestSession: prepared on the D1 session when
 * it runs, so that it can run again on another one.
 */
class Statement implements D1PreparedStatement {
  constructor(
    private readonly owner: RequestSession,
    private readonly query: string,
    private readonly values: unknown[],
  ) {}

  /** The D1 statement for `statement` (one of ours) on `session`. */
  static on(statement: D1PreparedStatement, session: D1DatabaseSession): D1PreparedStatement {
    if (!(statement instanceof Statement)) throw new TypeError("a statement of another session");
    return session.prepare(statement.query).bind(...statement.values);
  }

  bind(...values: unknown[]): D1PreparedStatement {
    return new Statement(this.owner, this.query, values);
  }

  first<T = unknown>(colName: string): Promise<T | null>;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  first<T>(colName?: string): Promise<T | null> {
    return this.owner.execute((session) => {
      const statement = Statement.on(this, session);
      return colName === undefined ? statement.first<T>() : statement.first<T>(colName);
    });
  }

  run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.owner.execute((session) => Statement.on(this, session).run<T>());
  }

  all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.owner.execute((session) => Statement.on(this, session).all<T>());
  }

  raw<T = unknown[]>(options: { columnNames: true }): Promise<[string[], ...T[]]>;
  raw<T = unknown[]>(options?: { columnNames?: false }): Promise<T[]>;
  raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<[string[], ...T[]] | T[]> {
    return this.owner.execute<[string[], ...T[]] | T[]>((session) => {
      const statement = Statement.on(this, session);
      return options?.columnNames === true
        ? statement.raw<T>({ columnNames: true })
        : statement.raw<T>({ columnNames: false });
    });
  }
}
