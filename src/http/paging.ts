import type { PageRefusal, PageRequest } from "../db/paging";
import { badRequest, type Fault, messages } from "./faults";
import { last, type Query, type QueryParam, type QueryParams } from "./query";

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

/** strutils.validate_integer(value, name, min_value=0) of the last value, if any. */
function nonNegativeInteger(values: readonly string[], name: string): number | undefined {
  const value = last(values);
  if (value === undefined) return undefined;
  const text = pyStrip(value);
  if (!PY_INT.test(text)) {
    throw badRequest(name === "limit" ? messages.invalidLimit : messages.invalidPageSize);
  }
  const n = Number(text.replaceAll("_", ""));
  if (n < 0) throw badRequest(name === "limit" ? messages.negativeLimit : messages.negativePageSize);
  return n;
}

const stripped = (values: readonly string[]) => values.map(pyStrip);

function paging(columns: readonly string[]) {
  return {
    limit: {
      schema: { type: "integer", minimum: 0 },
      description: "The most items to answer; at most MAX_LIMIT (1000), which is also the default.",
      read: nonNegativeInteger,
    },
    marker: {
      schema: { type: "integer" },
      description: "The `id` of the last item of the previous page.",
      read: last,
    },
    sort_key: {
      schema: { type: "array", items: { type: "string", enum: [...columns] } },
      description: "Columns to sort by (`?sort_key=a&sort_key=b`). `created_at` then `id` always end the order.",
      read: stripped,
    },
    sort_dir: {
      schema: { type: "array", items: { type: "string", enum: ["asc", "desc"] } },
      description: "The direction of each sort key, in order (`?sort_dir=asc&sort_dir=desc`); `desc` by default.",
      read: stripped,
    },
    page_size: {
      schema: { type: "integer", minimum: 0 },
      description: "Checked like limit and otherwise ignored, as upstream.",
      read: nonNegativeInteger,
    },
  } satisfies QueryParams;
}

export type Paging = ReturnType<typeof paging>;

/**
 * The query parameters of a list of rows with these columns: its `filters`,
 * then paging and sorting (every column is a sort key).
 */
export function listQuery<F extends Readonly<Record<string, QueryParam<unknown>>>>(
  columns: readonly string[],
  filters: F,
): F & Paging {
  return { ...filters, ...paging(columns) };
}

/**
 * The paging parameters of a list request. Only limit and page_size are
 * checked here (upstream checks them in the controller, before any lookup);
 * sort and marker errors come later, from the page itself.
 */
export function pageRequest(query: Query<Paging>, maxLimit: number): PageRequest {
  const limit = query.get("limit") ?? maxLimit;
  // page_size is validated like limit and otherwise ignored, as upstream.
  query.get("page_size");
  return {
    limit: Math.min(limit, maxLimit),
    marker: query.get("marker"),
    sortKeys: query.get("sort_key"),
    sortDirs: query.get("sort_dir"),
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
