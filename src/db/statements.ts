import { getTableColumns, is, type SQL, sql } from "drizzle-orm";
import { type SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Database } from "./database";
import { fromDriver, placeholderValues } from "./drizzle-internals";

// Queries whose SQL is built once per isolate: drizzle builds a query's SQL
// on every call, which on the hot paths cost more CPU than the rest of the
// request outside D1 (bench/README.md). A hot query is written with drizzle's
// builders and placeholders, turned into SQL once, and each run binds its
// values on the caller's own D1 client. Nothing of a request is kept.

/** A placeholder as an SQL value, for `sql` templates and insertSelection. */
export const param = (name: string): SQL => sql`${sql.placeholder(name)}`;

/** The columns a query returns, by the key each row gets. */
export type Selection = Record<string, SQLiteColumn>;

type Row = Record<string, unknown>;
type Decoder<T> = (row: Row) => T;

const decoders = new WeakMap<Selection | SQLiteTable, Decoder<unknown>>();

/**
 * A decoder of rows as D1 returns them (keyed by column name) into what
 * drizzle gives for `selection`. drizzle's own result mapping also checks the
 * class of every field of every row: a quarter of a 100-segment page's CPU.
 */
export function rowDecoder<T>(selection: Selection | SQLiteTable): Decoder<T> {
  const known = decoders.get(selection);
  if (known) return known as Decoder<T>;
  const columns = Object.entries(
    (is(selection, SQLiteTable) ? getTableColumns(selection) : selection) as Record<string, SQLiteColumn>,
  );
  const names = new Set(columns.map(([, c]) => c.name));
  // Rows are objects keyed by column name: two columns of one name (a join)
  // would overwrite each other.
  if (names.size !== columns.length) throw new Error("a selection with two columns of one name");
  const decoder: Decoder<T> = (raw) => {
    const out: Row = {};
    for (const [key, column] of columns) {
      const value = raw[column.name];
      out[key] = value === null || value === undefined ? null : fromDriver(column, value);
    }
    return out as T;
  };
  decoders.set(selection, decoder);
  return decoder;
}

/** What a drizzle query builder gives for `toSQL()`. */
interface Buildable {
  toSQL(): { sql: string; params: unknown[] };
}

/**
 * A query built once, on first use, by `build` (drizzle builders with
 * `sql.placeholder`s; the Database it is given is used only to build) and
 * run on any database with the placeholders' values. Its rows have the
 * columns of `selection` (a table, for `select()` and `returning()`).
 */
export class Statement<T> {
  #built: { sql: string; params: unknown[] } | undefined;
  readonly #decode: Decoder<T>;

  constructor(
    private readonly build: (db: Database) => Buildable,
    selection: Selection | SQLiteTable,
  ) {
    this.#decode = rowDecoder<T>(selection);
  }

  /** The statement with `values` bound, on `db`'s client: for a batch. */
  bind(db: Database, values: Record<string, unknown> = {}): D1PreparedStatement {
    this.#built ??= this.build(db).toSQL();
    return db.$client.prepare(this.#built.sql).bind(...placeholderValues(this.#built.params, values));
  }

  /** The rows of a result of this statement (from a batch). */
  rows(result: D1Result<unknown> | undefined): T[] {
    return ((result?.results ?? []) as Row[]).map(this.#decode);
  }

  async all(db: Database, values: Record<string, unknown> = {}): Promise<T[]> {
    return this.rows(await this.bind(db, values).all());
  }

  async get(db: Database, values: Record<string, unknown> = {}): Promise<T | undefined> {
    const [row] = await this.all(db, values);
    return row;
  }
}
