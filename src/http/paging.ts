import { type AnyColumn, and, asc, desc, eq, getTableColumns, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { alias } from "drizzle-orm/sqlite-core";
import type { Database } from "../db/client";
import { badRequest, messages } from "./faults";

// Paging and sorting of every list (spec §3.3): `limit` (clamped to the
// configured maximum, 1000 by default), `marker` (the integer id of the last
// row seen), repeatable `sort_key`/`sort_dir`, with `created_at` and `id`
// appended so the order is total. Pages are keyset pages: the rows that
// sort strictly after the marker row.

export type SortDir = "asc" | "desc";

export interface PageRequest {
  readonly limit: number;
  readonly marker: string | undefined;
  readonly sortKeys: readonly string[];
  readonly sortDirs: readonly string[];
}

export const DEFAULT_MAX_LIMIT = 1000;

// Python's str.strip() and int(): surrounding whitespace, a sign and
// underscores between digits are accepted.
// Python also counts the information separators U+001C-U+001F as space.
const PY_SPACE = "\\s\\u001c-\\u001f\\u0085";
const PY_WHITESPACE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");
const pyStrip = (s: string) => s.replace(PY_WHITESPACE, "");
const PY_INT = /^[+-]?[0-9]+(_[0-9]+)*$/;

/** strutils.validate_integer(value, name, min_value=0). */
function nonNegativeInteger(value: string, name: string): number {
  const text = pyStrip(value);
  if (!PY_INT.test(text)) {
    throw badRequest(name === "limit" ? messages.invalidLimit : messages.invalidPageSize);
  }
  const n = Number(text.replaceAll("_", ""));
  if (n < 0) throw badRequest(name === "limit" ? messages.negativeLimit : messages.negativePageSize);
  return n;
}

/** A query parameter as webob's MultiDict gives it: the last value. */
export function lastParam(query: URLSearchParams, name: string): string | undefined {
  return query.getAll(name).at(-1);
}

/**
 * The paging parameters of a list request. Only limit and page_size are
 * checked here (upstream checks them in the controller, before any lookup);
 * sort and marker errors come later, from `paginate`.
 */
export function pageRequest(query: URLSearchParams, maxLimit = DEFAULT_MAX_LIMIT): PageRequest {
  const limitParam = lastParam(query, "limit");
  const limit = limitParam === undefined ? maxLimit : nonNegativeInteger(limitParam, "limit");
  const pageSize = lastParam(query, "page_size");
  // page_size is validated like limit and otherwise ignored, as upstream.
  if (pageSize !== undefined) nonNegativeInteger(pageSize, "page_size");
  return {
    limit: Math.min(limit, maxLimit),
    marker: lastParam(query, "marker"),
    sortKeys: query.getAll("sort_key").map(pyStrip),
    sortDirs: query.getAll("sort_dir").map(pyStrip),
  };
}

interface Ordering {
  readonly column: AnyColumn;
  readonly dir: SortDir;
}

/**
 * The full order of a list, as upstream's _process_sort_params builds it;
 * throws upstream's errors in upstream's order. Unknown keys are reported
 * separately because upstream finds them only after the marker lookup.
 */
function ordering(columns: Record<string, AnyColumn>, page: PageRequest): { order: Ordering[]; invalidKey?: string } {
  const keys = page.sortKeys.length > 0 ? [...page.sortKeys] : ["created_at"];
  const requestedDirs = page.sortDirs.length > 0 ? page.sortDirs : ["desc"];
  for (const dir of requestedDirs) {
    if (dir !== "asc" && dir !== "desc") throw badRequest(messages.invalidSortDir);
  }
  const dirs = [...requestedDirs] as SortDir[];
  const defaultDir = dirs[0] ?? "desc";
  while (dirs.length < keys.length) dirs.push(defaultDir);
  if (dirs.length > keys.length) throw badRequest(messages.sortDirsExceedKeys);
  for (const key of ["created_at", "id"]) {
    if (!keys.includes(key)) {
      keys.push(key);
      dirs.push(defaultDir);
    }
  }
  // Only columns sort. Upstream answers 500 for relationship names such as
  // `hosts` or `failover_segment` (D6: 400 InvalidSortKey instead).
  const invalidKey = keys.find((k) => !Object.hasOwn(columns, k));
  if (invalidKey !== undefined) return { order: [], invalidKey };
  // A key repeated later in ORDER BY changes nothing; dropping repeats keeps
  // the keyset condition small whatever a client sends.
  const seen = new Set<string>();
  const order: Ordering[] = [];
  keys.forEach((key, i) => {
    if (seen.has(key)) return;
    seen.add(key);
    order.push({ column: columns[key] as AnyColumn, dir: dirs[i] ?? defaultDir });
  });
  return { order };
}

/**
 * Rows strictly after the marker row `m` under `order`, with NULL as the
 * smallest value (SQLite's order, which upstream's pages follow):
 *   OR over i of (k1 IS m.k1 AND ... AND k(i-1) IS m.k(i-1) AND ki after m.ki)
 * oslo.db's paginate_query leaves a NULL marker value out of these terms and
 * so skips or repeats rows around NULLs; spec §3.3 describes the ordering
 * itself, which is what these terms follow exactly.
 */
function after(order: readonly Ordering[], markerColumn: (c: AnyColumn) => AnyColumn): SQL {
  const terms = order.map(({ column, dir }, i) => {
    const m = markerColumn(column);
    const beyond =
      dir === "asc"
        ? sql`(${column} > ${m} OR (${m} IS NULL AND ${column} IS NOT NULL))`
        : sql`(${column} < ${m} OR (${column} IS NULL AND ${m} IS NOT NULL))`;
    const equalBefore = order.slice(0, i).map((o) => sql`${o.column} IS ${markerColumn(o.column)}`);
    return and(...equalBefore, beyond) as SQL;
  });
  return or(...terms) as SQL;
}

type PagedTable = SQLiteTable & { id: AnyColumn; deleted: AnyColumn };

/**
 * One page of live rows of `table` that match `filter`, in the requested
 * order. The marker is looked up among all live rows of the table, whatever
 * the filters (upstream does the same).
 */
export async function paginate<T extends PagedTable>(
  db: Database,
  table: T,
  filter: SQL | undefined,
  page: PageRequest,
): Promise<T["$inferSelect"][]> {
  // Upstream returns before looking at sort or marker when limit is 0.
  if (page.limit === 0) return [];
  const columns = getTableColumns(table) as Record<string, SQLiteColumn>;
  const { order, invalidKey } = ordering(columns, page);
  const live = and(eq(table.deleted, 0), filter);

  const marker = alias(table, "marker") as unknown as PagedTable;
  const markerRow =
    page.marker === undefined ? undefined : and(sql`${marker.id} = ${page.marker}`, eq(marker.deleted, 0));
  const markerExists =
    markerRow &&
    db
      .select({ id: marker.id as SQLiteColumn })
      .from(marker)
      .where(markerRow);

  if (invalidKey !== undefined) {
    if (markerExists && (await markerExists).length === 0) throw badRequest(messages.markerNotFound(page.marker ?? ""));
    throw badRequest(messages.invalidSortKey(invalidKey));
  }
  const orderBy = order.map(({ column, dir }) => (dir === "asc" ? asc(column) : desc(column)));
  if (!markerExists || !markerRow) {
    return db
      .select()
      .from(table)
      .where(live)
      .orderBy(...orderBy)
      .limit(page.limit) as Promise<T["$inferSelect"][]>;
  }
  const markerColumns = getTableColumns(marker) as Record<string, AnyColumn>;
  const columnName = (c: AnyColumn) => c.name;
  const rows = db
    .select(columns)
    .from(table)
    .innerJoin(marker, markerRow)
    .where(
      and(
        live,
        after(order, (c) => markerColumns[columnName(c)] as AnyColumn),
      ),
    )
    .orderBy(...orderBy)
    .limit(page.limit);
  const [found, pageRows] = await db.batch([markerExists, rows]);
  if (found.length === 0) throw badRequest(messages.markerNotFound(page.marker ?? ""));
  return pageRows as T["$inferSelect"][];
}
