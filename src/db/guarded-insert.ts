import { getTableColumns, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";

/**
 * The selection of an INSERT ... SELECT that inserts `values` (SQL or plain
 * values; missing columns are NULL) in `table`'s column order. Selected
 * from a query whose WHERE clause holds a write's preconditions, the row is
 * inserted only if they hold, in one statement (D12).
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
