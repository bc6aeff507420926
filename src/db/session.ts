import type { D1Client } from "./database";

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
 * A request's D1 session, as a D1 client for drizzle and our statements. It
 * records whether any query ran (a response carries a bookmark only then).
 * D1 checks a client's bookmark at the first query; when it refuses one, that
 * query runs again, once, on a session started as without a bookmark: a
 * bookmark only asks for freshness and must never cost a 500. Only reads
 * start from a client's bookmark, so nothing is written twice.
 */
export class RequestSession implements D1Client {
  #session: D1DatabaseSession;
  /** The session started from the client's bookmark, until D1 accepted it. */
  #unconfirmed: D1DatabaseSession | null;
  readonly #fallback: () => D1DatabaseSession;
  readonly #warn: (message: string, error: unknown) => void;
  #queried = false;

  constructor(
    db: D1Database,
    constraint: D1SessionConstraint,
    bookmark: string | null = null,
    warn: (message: string, error: unknown) => void = console.warn,
  ) {
    this.#fallback = () => db.withSession(constraint);
    this.#session = bookmark === null ? this.#fallback() : db.withSession(bookmark);
    this.#unconfirmed = bookmark === null ? null : this.#session;
    this.#warn = warn;
  }

  /** The session's latest bookmark, or null when no query ran. */
  bookmark(): string | null {
    return this.#queried ? this.#session.getBookmark() : null;
  }

  prepare(query: string): D1PreparedStatement {
    return new SessionStatement(this, query, []);
  }

  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    return this.execute((session) =>
      session.batch<T>(
        statements.map((s) => {
          if (!(s instanceof SessionStatement) || s.owner !== this) {
            throw new TypeError("a statement of another session");
          }
          return s.on(session);
        }),
      ),
    );
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
        this.#warn("D1 refused the client's bookmark; the request goes on without it:", error);
        this.#session = this.#fallback();
      }
      return query(this.#session);
    }
  }
}

/** A statement of a RequestSession: bound here, run on the session's D1 session. */
class SessionStatement implements D1PreparedStatement {
  constructor(
    readonly owner: RequestSession,
    private readonly query: string,
    private readonly values: unknown[],
  ) {}

  /** This statement on `session`. */
  on(session: D1DatabaseSession): D1PreparedStatement {
    return session.prepare(this.query).bind(...this.values);
  }

  bind(...values: unknown[]): D1PreparedStatement {
    return new SessionStatement(this.owner, this.query, values);
  }

  first<T = unknown>(colName: string): Promise<T | null>;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  first<T>(colName?: string): Promise<T | null> {
    return this.owner.execute((session) =>
      colName === undefined ? this.on(session).first<T>() : this.on(session).first<T>(colName),
    );
  }

  run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.owner.execute((session) => this.on(session).run<T>());
  }

  all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.owner.execute((session) => this.on(session).all<T>());
  }

  raw<T = unknown[]>(options: { columnNames: true }): Promise<[string[], ...T[]]>;
  raw<T = unknown[]>(options?: { columnNames?: false }): Promise<T[]>;
  raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<[string[], ...T[]] | T[]> {
    return this.owner.execute<[string[], ...T[]] | T[]>((session) =>
      options?.columnNames === true
        ? this.on(session).raw<T>({ columnNames: true })
        : this.on(session).raw<T>({ columnNames: false }),
    );
  }
}
