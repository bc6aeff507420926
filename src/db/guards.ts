import { type AnyColumn, and, eq, getTableColumns, ne, notExists, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { nowSeconds } from "../datetime";
import type { Database } from "./database";

// Pieces of guarded writes (D12): a write carries its preconditions in its
// own WHERE clause, and a read in the same batch says why it touched no row.

/**
 * The selection of an INSERT ... SELECT that inserts `values` (SQL, columns
 * or plain values; missing columns are NULL) in `table`'s column order.
 * Selected from a query whose WHERE clause holds the write's preconditions,
 * the row is inserted only if they hold, in one statement.
 */
export function insertSelection<T extends SQLiteTable>(
  table: T,
  values: { [K in keyof T["$inferInsert"]]?: T["$inferInsert"][K] | SQL | SQLiteColumn },
): Record<string, SQL> {
  const columns = getTableColumns(table) as Record<string, SQLiteColumn>;
  return Object.fromEntries(
    Object.keys(columns).map((key) => {
      const value = (values as Record<string, unknown>)[key];
      if (value === undefined || value === null) return [key, sql`NULL`];
      if (typeof value === "boolean") return [key, sql`${Number(value)}`];
      return [key, sql`${value}`];
    }),
  );
}

/**
 * updated_at for an UPDATE of `changes`: now (seconds, as upstream writes
 * it) when some value actually changes, else as it was. SQLAlchemy issues no
 * UPDATE when nothing changes, so upstream leaves updated_at alone then.
 */
export function updatedAtIfChanged<T extends SQLiteTable & { updated_at: AnyColumn }>(table: T, changes: object): SQL {
  const columns = table as unknown as Record<string, AnyColumn>;
  const changed = or(
    ...Object.entries(changes).map(
      ([key, value]) => sql`${columns[key]} IS NOT ${typeof value === "boolean" ? Number(value) : value}`,
    ),
  );
  return sql`CASE WHEN ${changed} THEN ${nowSeconds()} ELSE ${table.updated_at} END`;
}

type Named = SQLiteTable & { name: AnyColumn; deleted: AnyColumn; uuid: AnyColumn };

/** No live row of `others` but the one with `selfUuid` has `name`. */
export function nameFree(db: Database, others: Named, name: string | undefined, selfUuid: string): SQL | undefined {
  if (name === undefined) return undefined;
  return notExists(
    db
      .select({ one: sql`1` })
      .from(others)
      .where(and(eq(others.name, name), eq(others.deleted, 0), ne(others.uuid, selfUuid))),
  );
}

/** Why a guarded update or delete of a segment or host touched no row. */
export type Refusal = "not-found" | "in-use" | "name-taken";

/**
 * Reads the refusal from the batch's classifying select (the row as it was,
 * with whether its segment is in use), in upstream's order of checks:
 * missing, then in use, else the remaining guard (a taken name).
 */
export function refusal(rows: readonly { inUse: number }[]): Refusal {
  const [row] = rows;
  if (!row) return "not-found";
  return row.inUse ? "in-use" : "name-taken";
}
