// The order a list's pages must follow (docs/upstream.md,
// "Paging and sorting"), computed in the test from the rows themselves, to
// compare with what paging returns.

export type Value = string | number | null;
export type Row = Record<string, Value>;

/** NULL smallest; numbers by value; strings by code unit (ASCII: bytes). */
function compareValues(x: Value, y: Value): number {
  if (x === y) return 0;
  if (x === null) return -1;
  if (y === null) return 1;
  return x < y ? -1 : 1;
}

/**
 * The ids of `rows` in the order paging defines for these keys: created_at
 * and id appended when missing, in the first direction.
 */
export function expectedOrder(rows: readonly Row[], keys: string[], dirs: ("asc" | "desc")[]): number[] {
  const order = keys.map((key, i) => ({ key, dir: dirs[i] ?? dirs[0] ?? "desc" }));
  for (const key of ["created_at", "id"]) {
    if (!keys.includes(key)) order.push({ key, dir: dirs[0] ?? "desc" });
  }
  return [...rows]
    .sort((x, y) => {
      for (const { key, dir } of order) {
        const c = compareValues(x[key] ?? null, y[key] ?? null);
        if (c !== 0) return dir === "asc" ? c : -c;
      }
      return 0;
    })
    .map((r) => r.id as number);
}
