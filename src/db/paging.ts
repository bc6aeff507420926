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
 * The rows strictly after the marker row under `order`, NULL being the
 * smallest value (SQLite's order, which upstream's pages follow), as at most
 * MAX_ARMS disjoint conditions whose union is exactly that set. With keys
 * k1..kn and the marker's values m1..mn, the set is
 *   OR over i of (k1 IS m1 AND ... AND k(i-1) IS m(i-1) AND ki after mi)
 * and "ki after mi" is `ki > mi` (asc) or `ki < mi` (desc), or, for a
 * column that may be NULL, also `mi IS NULL AND ki IS NOT NULL` (asc: NULLs
 * come first) or `mi IS NOT NULL AND ki IS NULL` (desc: NULLs come last).
 * Each such condition is equalities on a prefix of the keys and one range
 * (or IS NULL) on the next key, which SQLite answers with one seek into the
 * index on those keys: a page deep in a list reads about `limit` rows,
 * where a single OR of them all made SQLite read the index from its start.
 * When there are more than MAX_ARMS, the last ones, which share the
 * equalities on the leading keys, become one condition: those equalities
 * and the OR of the rest (a seek to the marker's group, read from its start).
 * oslo.db's paginate_query leaves a NULL marker value out of these terms and
 * so skips or repeats rows around NULLs; these conditions follow the ordering
 * itself exactly (docs/upstream.md, "Paging and sorting").
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
export const isLive = (table: PagedTable): SQL => sql`${table.deleted} = 0`;

/** First-page SQL by table, order and filter shape (the filter's SQL without its values). */
const firstPages = new Map<string, string>();
const MAX_FIRST_PAGES = 500;

/**
 * The SQL and values of a list's first page. Its SQL depends only on the
 * table, the order and the shape of the filter, so it is built by drizzle
 * once per shape and isolate: building it on every request took about a
 * sixth of a segment list's CPU (bench/README.md). The values are the
 * filter's, then the limit; a shape whose built values do not come in that
 * order is never cached.
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
  const decode = rowDecoder<T["$inferSelect"]>(table);
  const live = and(isLive(table), filter);
  const markerRow = (marker: string) =>
    sql`SELECT ${table.id} FROM ${table} WHERE ${table.id} = ${marker} AND ${isLive(table)}`;

  if (invalidKey !== undefined) {
    if (page.marker !== undefined && (await db.all(markerRow(page.marker))).length === 0) {
      return { refusal: "marker-not-found", marker: page.marker };
    }
    return { refusal: "invalid-sort-key", key: invalidKey };
  }
  // drizzle's batch() cannot run a raw query with parameters (it binds them
  // on a prepared statement a raw query does not have), so lists go to
  // drizzle's D1 client directly.
  const client = db.$client;
  if (page.marker === undefined) {
    const { text, params } = firstPage(db, table, filter, order, page.limit);
    const { results } = await client
      .prepare(text)
      .bind(...params)
      .all<Record<string, unknown>>();
    return results.map(decode);
  }

  // One compound SELECT, one arm per condition of afterMarker over the same
  // filtered rows, merged in the requested order: each arm is an ordered
  // index seek and SQLite merges them without sorting. In each arm the
  // marker row is the outer loop of a CROSS JOIN (one row, by rowid), so a
  // condition on the marker alone (`m IS NULL`) is decided once, before any
  // row of the page is read, and the marker's values bound the inner seek.
  // The marker row and the filtered rows are CTEs, so the marker and the
  // filter values are bound once whatever the number of arms (D1 binds at
  // most 100 values); NOT MATERIALIZED inlines them into each arm, where
  // SQLite can use the indexes (materialized, they would be copied first).
  const arms = afterMarker(order).map(
    (condition) => sql`SELECT "page".* FROM "marker" CROSS JOIN "page" WHERE ${condition}`,
  );
  const orderBy = order.map(({ column, dir }) => sql`${sql.identifier(column.name)} ${sql.raw(dir.toUpperCase())}`);
  const query = sql`WITH "marker" AS NOT MATERIALIZED (SELECT * FROM ${table} WHERE ${table.id} = ${page.marker} AND ${isLive(table)}),
    "page" AS NOT MATERIALIZED (SELECT * FROM ${table} WHERE ${live})
    ${sql.join(arms, sql` UNION ALL `)} ORDER BY ${sql.join(orderBy, sql`, `)} LIMIT ${page.limit}`;
  // Both statements in one batch: one round trip.
  const statement = (q: SQL) => {
    const { sql: text, params } = toQuery(q);
    return client.prepare(text).bind(...params);
  };
  const [found, rows] = await client.batch<Record<string, unknown>>([
    statement(markerRow(page.marker)),
    statement(query),
  ]);
  if ((found?.results.length ?? 0) === 0) return { refusal: "marker-not-found", marker: page.marker };
  return (rows?.results ?? []).map(decode);
}
