import { fillPlaceholders as drizzleFillPlaceholders, type SQL } from "drizzle-orm";
import { SQLiteAsyncDialect, type SQLiteColumn } from "drizzle-orm/sqlite-core";

// The parts of drizzle-orm we use that its documentation does not promise:
// what its own query builders and result mapping call. The hot paths need
// them (./statements.ts, ./paging.ts: SQL built once, rows decoded without
// drizzle's per-field checks). They are reached only through this module
// (scripts/biome-plugins/no-library-internals.grit refuses them elsewhere),
// drizzle-orm is pinned to its minor version in package.json, and
// test/drizzle-internals.test.ts fails naming the one an upgrade changed.

/** A built query's params with its `sql.placeholder`s filled from `values`, as drizzle's prepared queries bind them. */
export function placeholderValues(params: unknown[], values: Record<string, unknown>): unknown[] {
  return drizzleFillPlaceholders(params, values);
}

/** A column's value from what D1 returned (not NULL), as drizzle's result mapping gives it: booleans, JSON... */
export function fromDriver(column: SQLiteColumn, value: unknown): unknown {
  return column.mapFromDriverValue(value);
}

/** Whether a column is declared NOT NULL. */
export function isNotNull(column: SQLiteColumn): boolean {
  return column.notNull;
}

const dialect = new SQLiteAsyncDialect();

/** The text and values of an SQL fragment or query in SQLite's dialect, without a database. */
export function toQuery(fragment: SQL): { sql: string; params: unknown[] } {
  const { sql, params } = dialect.sqlToQuery(fragment);
  return { sql, params };
}
