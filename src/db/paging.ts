import { and, asc, desc, getTableColumns, getTableName, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Database } from "./database";
import { isNotNull, toQuery } from "./drizzle-internals";
import { failoverSegments, hosts, notifications, vmoves } from "./schema";
import { rowDecoder } from "./statements";

// Paging and sorting of every list (docs/upstream.md, "Paging and sorting"):
// `limit` (already clamped to the configured maximum), `marker` (the integer id
// of the last row seen), repeatable `sort_key`/`sort_dir`, with `created_at`
// and `id` appended so the order is total. Pages are keyset pages: the rows
// that sort strictly after the marker row. What a client sent wrong comes back
// as a refusal, in upstream's order of checks; the API turns it into its 400.

export type SortDir = "asc" | "desc";

export interface PageRequest {
  readonly limit: number;
  readonly marker: string | undefined;
  readonly sortKeys: readonly string[];
  readonly sortDirs: readonly string[];
}

/** Why a page cannot be read: what the client sent, in upstream's order of checks. */
export type PageRefusal =
  | { readonly refusal: "invalid-sort-dir" }
  | { readonly refusal: "sort-dirs-exceed-keys" }
  | { readonly refusal: "marker-not-found"; readonly marker: string }
  | { readonly refusal: "invalid-sort-key"; readonly key: string };

interface Ordering {
  readonly column: SQLiteColumn;
  readonly dir: SortDir;
}

type PagedTable = SQLiteTable & { id: SQLiteColumn; deleted: SQLiteColumn };

const liveUnique = <T extends PagedTable>(
  table: T,
  ...keys: (keyof T["$inferSelect"] & string)[]
): [SQLiteTable, ReadonlySet<string>] => [table, new Set(["id", ...keys])];

/**
 * The columns of each listed table whose values no two live rows share: `id`,
 * and every NOT NULL column with a unique index on itself alone or with
 * `deleted` (soft delete keeps names unique among live rows: docs/upstream.md,
 * "Soft delete"). test/schema.test.ts holds this list to the migrations.
 */
export const UNIQUE_AMONG_LIVE: ReadonlyMap<SQLiteTable, ReadonlySet<string>> = new Map([
  liveUnique(failoverSegments, "uuid", "name"),
  liveUnique(hosts, "uuid", "name"),
  liveUnique(notifications, "notification_uuid"),
  liveUnique(vmoves, "uuid"),
]);

const ID_ONLY: ReadonlySet<string> = new Set(["id"]);

/**
 * The full order of a list, as upstream's _process_sort_params builds it,
 * or its refusal. Unknown keys are reported separately because upstream
 * finds them only after the marker lookup.
 */
function ordering(
  table: SQLiteTable,
  page: PageRequest,
): { order: Ordering[]; invalidKey?: string } | { refusal: "invalid-sort-dir" | "sort-dirs-exceed-keys" } {
  const columns = getTableColumns(table) as Record<string, SQLiteColumn>;
  const keys = page.sortKeys.length > 0 ? [...page.sortKeys] : ["created_at"];
  const requestedDirs = page.sortDirs.length > 0 ? page.sortDirs : ["desc"];
  for (const dir of requestedDirs) {
    if (dir !== "asc" && dir !== "desc") return { refusal: "invalid-sort-dir" };
  }
  const dirs = [...requestedDirs] as SortDir[];
  const defaultDir = dirs[0] ?? "desc";
  while (dirs.length < keys.length) dirs.push(defaultDir);
  if (dirs.length > keys.length) return { refusal: "sort-dirs-exceed-keys" };
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
  // A key repeated later in ORDER BY changes nothing, and neither does any
  // key after one whose value is unique among live rows (id, uuid, name):
  // the order stops there, so an index on that key alone serves it and the
  // keyset condition stays small whatever a client sends.
  const unique = UNIQUE_AMONG_LIVE.get(table) ?? ID_ONLY;
  // `deleted` is 0 in every live row, the marker's included: as a key it
  // orders nothing.
  const seen = new Set<string>(["deleted"]);
  const order: Ordering[] = [];
  for (const [i, key] of keys.entries()) {
    if (seen.has(key)) continue;
    seen.add(key);
    order.push({ column: columns[key] as SQLiteColumn, dir: dirs[i] ?? defaultDir });
    if (unique.has(key)) break;
  }
  return { order };
}

/** D1 allows at most 5 terms in a compound SELECT. */
const MAX_ARMS = 5;

/**
 * The rows strictly after the marker row under `order` (NULL sorts first, as
 * in SQLite and upstream's pages), as at most MAX_ARMS disjoint conditions:
 * for each key, "equal to the marker on the keys before it and after it on
 * this one", where "after" also places NULLs for a nullable column. Each is
 * one seek into the index on those keys, so a deep page reads about `limit`
 * rows (one OR of them all made SQLite read the index from its start). Past
 * MAX_ARMS, the last conditions share their leading equalities as one.
 * Unlike oslo.db's paginate_query, which drops NULL marker values and so
 * skips or repeats rows around NULLs, this follows the order exactly
 * (docs/upstream.md, "Paging and sorting").
 */
function afterMarker(order: readonly Ordering[]): SQL[] {
  const key = (c: SQLiteColumn) => sql`"page".${sql.identifier(c.name)}`;
  const markerValue = (c: SQLiteColumn) => sql`"marker".${sql.identifier(c.name)}`;
  const same = ({ column }: Ordering) =>
    sql`${key(column)} ${sql.raw(isNotNull(column) ? "=" : "IS")} ${markerValue(column)}`;
  // For each key, the conditions on it alone ("ki after mi").
  const beyond = order.map(({ column, dir }) => {
    const k = key(column);
    const m = markerValue(column);
    const conditions = [dir === "asc" ? sql`${k} > ${m}` : sql`${k} < ${m}`];
    if (!isNotNull(column)) {
      conditions.push(dir === "asc" ? sql`${m} IS NULL AND ${k} IS NOT NULL` : sql`${m} IS NOT NULL AND ${k} IS NULL`);
    }
    return conditions;
  });
  const all = (parts: SQL[]) => sql.join(parts, sql` AND `);
  // The rows after the marker that equal it on keys before `from`, as one
  // condition given those equalities.
  const rest = (from: number): SQL =>
    sql.join(
      beyond
        .slice(from)
        .flatMap((conditions, j) =>
          conditions.map((c) => sql`(${all([...order.slice(from, from + j).map(same), c])})`),
        ),
      sql` OR `,
    );
  const arms: SQL[] = [];
  let i = 0;
  for (; i < order.length; i++) {
    const conditions = beyond[i] ?? [];
    const remaining = beyond.slice(i + 1).reduce((n, c) => n + c.length, 0);
    if (arms.length + conditions.length + (remaining > 0 ? 1 : 0) > MAX_ARMS) break;
    const equalBefore = order.slice(0, i).map(same);
    for (const condition of conditions) arms.push(all([...equalBefore, condition]));
  }
  if (i < order.length) arms.push(all([...order.slice(0, i).map(same), sql`(${rest(i)})`]));
  return arms;
}

/**
 * Live rows only. A literal 0, not a bound parameter, so that SQLite can
 * always use the indexes declared `WHERE deleted = 0` (src/db/schema.ts).
 */
const isLive = (table: PagedTable): SQL => sql`${table.deleted} = 0`;

/** First-page SQL by table, order and filter shape (the filter's SQL without its values). */
const firstPages = new Map<string, string>();
const MAX_FIRST_PAGES = 500;

/**
 * The SQL and values of a list's first page. Its SQL depends only on the
 * table, the order and the filter's shape, so drizzle builds it once per
 * shape and isolate (building it per request cost a sixth of a segment
 * list's CPU: bench/README.md). A shape whose values do not come as the
 * filter's, then the limit, is never cached.
 */
function firstPage(
  db: Database,
  table: PagedTable,
  filter: SQL | undefined,
  order: readonly Ordering[],
  limit: number,
): { text: string; params: unknown[] } {
  const where = filter === undefined ? undefined : toQuery(filter);
  const params = [...(where?.params ?? []), limit];
  const key = `${getTableName(table)}|${order.map((o) => `${o.column.name} ${o.dir}`).join(",")}|${where?.sql ?? ""}`;
  const cached = firstPages.get(key);
  if (cached !== undefined) return { text: cached, params };
  const built = db
    .select()
    .from(table)
    .where(and(isLive(table), filter))
    .orderBy(...order.map(({ column, dir }) => (dir === "asc" ? asc(column) : desc(column))))
    .limit(limit)
    .toSQL();
  if (built.params.length === params.length && built.params.every((p, i) => p === params[i])) {
    if (firstPages.size >= MAX_FIRST_PAGES) firstPages.clear();
    firstPages.set(key, built.sql);
  }
  return { text: built.sql, params: built.params };
}

/** The rows of a first page. */
async function firstPageRows(
  db: Database,
  table: PagedTable,
  filter: SQL | undefined,
  order: readonly Ordering[],
  limit: number,
): Promise<Record<string, unknown>[]> {
  const { text, params } = firstPage(db, table, filter, order, limit);
  const { results } = await db.$client
    .prepare(text)
    .bind(...params)
    .all<Record<string, unknown>>();
  return results;
}

const markerRow = (table: PagedTable, marker: string) =>
  sql`SELECT ${table.id} FROM ${table} WHERE ${table.id} = ${marker} AND ${isLive(table)}`;

/**
 * The rows of a page after `marker`, or undefined when no live row has that
 * id. One compound SELECT, an arm per condition of afterMarker, each an
 * ordered index seek that SQLite merges without sorting. In each arm the
 * marker row is the outer loop of a CROSS JOIN, so a condition on the marker
 * alone (`m IS NULL`) is decided before the page is read. The marker and the
 * filtered rows are CTEs, so their values are bound once whatever the arms
 * (D1 binds at most 100), and NOT MATERIALIZED, so each arm can use the
 * indexes.
 */
async function rowsAfter(
  db: Database,
  table: PagedTable,
  filter: SQL | undefined,
  order: readonly Ordering[],
  marker: string,
  limit: number,
): Promise<Record<string, unknown>[] | undefined> {
  const arms = afterMarker(order).map(
    (condition) => sql`SELECT "page".* FROM "marker" CROSS JOIN "page" WHERE ${condition}`,
  );
  const orderBy = order.map(({ column, dir }) => sql`${sql.identifier(column.name)} ${sql.raw(dir.toUpperCase())}`);
  const query = sql`WITH "marker" AS NOT MATERIALIZED (SELECT * FROM ${table} WHERE ${table.id} = ${marker} AND ${isLive(table)}),
    "page" AS NOT MATERIALIZED (SELECT * FROM ${table} WHERE ${and(isLive(table), filter)})
    ${sql.join(arms, sql` UNION ALL `)} ORDER BY ${sql.join(orderBy, sql`, `)} LIMIT ${limit}`;
  // drizzle's batch() cannot bind a raw query's parameters, so these go to
  // the D1 client: both in one batch, one round trip.
  const statement = (q: SQL) => {
    const { sql: text, params } = toQuery(q);
    return db.$client.prepare(text).bind(...params);
  };
  const [found, rows] = await db.$client.batch<Record<string, unknown>>([
    statement(markerRow(table, marker)),
    statement(query),
  ]);
  if ((found?.results.length ?? 0) === 0) return undefined;
  return rows?.results ?? [];
}

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
): Promise<T["$inferSelect"][] | PageRefusal> {
  // Upstream returns before looking at sort or marker when limit is 0.
  if (page.limit === 0) return [];
  const ordered = ordering(table, page);
  if ("refusal" in ordered) return ordered;
  const { order, invalidKey } = ordered;
  const { marker, limit } = page;
  if (invalidKey !== undefined) {
    // Upstream finds an unknown sort key only after looking the marker up.
    if (marker !== undefined && (await db.all(markerRow(table, marker))).length === 0) {
      return { refusal: "marker-not-found", marker };
    }
    return { refusal: "invalid-sort-key", key: invalidKey };
  }
  const decode = rowDecoder<T["$inferSelect"]>(table);
  if (marker === undefined) return (await firstPageRows(db, table, filter, order, limit)).map(decode);
  const rows = await rowsAfter(db, table, filter, order, marker, limit);
  return rows ? rows.map(decode) : { refusal: "marker-not-found", marker };
}
