import type { PageRefusal, PageRequest } from "../db/paging";
import { badRequest, type Fault, messages } from "./faults";
import type { QueryParam } from "./route";

// The paging query parameters of every list (docs/upstream.md,
// "Paging and sorting"): `limit`, clamped to the configured maximum,
// `page_size` (checked, then ignored, as upstream), `marker` and repeatable
// `sort_key`/`sort_dir`. The keyset pages themselves are read in
// src/db/paging.ts.

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
 * sort and marker errors come later, from the page itself.
 */
export function pageRequest(query: URLSearchParams, maxLimit: number): PageRequest {
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

function pageFault(refused: PageRefusal): Fault {
  switch (refused.refusal) {
    case "invalid-sort-dir":
      return badRequest(messages.invalidSortDir);
    case "sort-dirs-exceed-keys":
      return badRequest(messages.sortDirsExceedKeys);
    case "marker-not-found":
      return badRequest(messages.markerNotFound(refused.marker));
    case "invalid-sort-key":
      return badRequest(messages.invalidSortKey(refused.key));
  }
}

/** A page's rows, or upstream's 400 for what the client sent. */
export function pageRows<T>(page: T[] | PageRefusal): T[] {
  if (Array.isArray(page)) return page;
  throw pageFault(page);
}

/**
 * The query parameters of a list of `table`'s rows, for its
 * documentation: paging and sorting (every column is a sort key), then
 * `filters`.
 */
export function listQuery(columns: readonly string[], filters: readonly QueryParam[] = []): QueryParam[] {
  return [
    ...filters,
    {
      name: "limit",
      schema: { type: "integer", minimum: 0 },
      description: "The most items to answer; at most MAX_LIMIT (1000), which is also the default.",
    },
    { name: "marker", schema: { type: "integer" }, description: "The `id` of the last item of the previous page." },
    {
      name: "sort_key",
      schema: { type: "array", items: { type: "string", enum: [...columns] } },
      description: "Columns to sort by (`?sort_key=a&sort_key=b`). `created_at` then `id` always end the order.",
    },
    {
      name: "sort_dir",
      schema: { type: "array", items: { type: "string", enum: ["asc", "desc"] } },
      description: "The direction of each sort key, in order (`?sort_dir=asc&sort_dir=desc`); `desc` by default.",
    },
    {
      name: "page_size",
      schema: { type: "integer", minimum: 0 },
      description: "Checked like limit and otherwise ignored, as upstream.",
    },
  ];
}
