import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { get, type Json, sql } from "./helpers";
import { expectedOrder, type Row, type Value } from "./paging-order";

// The paging proof (docs/upstream.md, "Paging and sorting"): 2,500 segments
// with many ties, NULLs and mixed-case names, walked a page of 1000 at a time,
// following the marker (the id of the last row) until an empty page. Each walk
// must visit every live segment exactly once, in the order computed here: the
// sort keys, then created_at and id in the first key's direction, NULL as the
// smallest value, strings compared byte-wise (SQLite's binary collation).

const TOTAL = 2500;
const RECOVERY_METHODS = ["auto", "reserved_host", "auto_priority", "rh_priority"];
const SERVICE_TYPES = ["COMPUTE", "OTHER", "compute", "EDGE"];
const COLUMNS = ["created_at", "updated_at", "uuid", "name", "service_type", "recovery_method", "enabled"];
// D1 binds at most 100 parameters per statement.
const ROWS_PER_STATEMENT = Math.floor(100 / COLUMNS.length);

let live: Row[] = [];

beforeAll(async () => {
  const values = (i: number): Value[] => [
    // A handful of distinct seconds, not in id order.
    `2026-02-01 08:00:0${(i * 3) % 5}.000000`,
    // Every third never updated; the others share four values.
    i % 3 === 0 ? null : `2026-02-02 0${(i * 7) % 4}:00:00.000000`,
    crypto.randomUUID(),
    // Unique, scattered, some upper-case (which sorts before lower-case).
    `${i % 7 === 0 ? "Pg" : "pg"}-${String((i * 7919) % TOTAL).padStart(4, "0")}`,
    SERVICE_TYPES[(i >> 2) % 4] ?? "COMPUTE",
    RECOVERY_METHODS[(i * 5 + (i >> 3)) % 4] ?? "auto",
    i % 5 === 0 ? 0 : 1,
  ];
  const statements: D1PreparedStatement[] = [];
  for (let start = 0; start < TOTAL; start += ROWS_PER_STATEMENT) {
    const indexes = Array.from({ length: Math.min(ROWS_PER_STATEMENT, TOTAL - start) }, (_, k) => start + k);
    const placeholders = indexes.map(() => `(${COLUMNS.map(() => "?").join(", ")})`).join(", ");
    statements.push(
      env.DB.prepare(`INSERT INTO failover_segments (${COLUMNS.join(", ")}) VALUES ${placeholders}`).bind(
        ...indexes.flatMap(values),
      ),
    );
  }
  await env.DB.batch(statements);
  // Some deleted rows, which no page may show.
  await sql("UPDATE failover_segments SET deleted = id, deleted_at = '2026-02-03 00:00:00.000000' WHERE id % 50 = 7");
  live = await sql<Row>("SELECT * FROM failover_segments WHERE deleted = 0");
});

/** Follows the marker from page to page until an empty page. */
async function walk(query: string, limit = 1000) {
  const ids: number[] = [];
  const pageSizes: number[] = [];
  let first: Json;
  let marker = "";
  for (let page = 0; page < 40; page++) {
    const res = await get(`/v1/segments?${query}&limit=${limit}${marker}`);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const segments = res.json.segments;
    first ??= segments[0];
    pageSizes.push(segments.length);
    if (segments.length === 0) break;
    ids.push(...segments.map((s: { id: number }) => s.id));
    marker = `&marker=${segments.at(-1).id}`;
  }
  return { ids, pageSizes, first };
}

const view = (r: Row) => ({
  id: r.id,
  uuid: r.uuid,
  name: r.name,
  service_type: r.service_type,
  enabled: r.enabled === 1,
  description: null,
  recovery_method: r.recovery_method,
  created_at: String(r.created_at).replace(" ", "T"),
  updated_at: r.updated_at === null ? null : String(r.updated_at).replace(" ", "T"),
  deleted_at: null,
  deleted: false,
});

describe("paging through 2,500 segments", () => {
  it("the data has the ties, NULLs and deleted rows the walks need", () => {
    expect(live.length).toBe(TOTAL - 50);
    expect(live.filter((r) => r.updated_at === null).length).toBeGreaterThan(500);
    expect(new Set(live.map((r) => r.created_at)).size).toBe(5);
    expect(new Set(live.map((r) => r.recovery_method)).size).toBe(4);
  });

  it.each([
    [["name"], ["asc"]],
    [["name"], ["desc"]],
    [["updated_at"], ["asc"]],
    [["updated_at"], ["desc"]],
    [["recovery_method"], ["asc"]],
    [["recovery_method"], ["desc"]],
    [
      ["recovery_method", "updated_at"],
      ["asc", "desc"],
    ],
    [["service_type", "enabled"], ["desc"]],
  ] as [string[], ("asc" | "desc")[]][])(
    "sort_key=%j sort_dir=%j: every segment once, in order",
    async (keys, dirs) => {
      const query = [...keys.map((k) => `sort_key=${k}`), ...dirs.map((d) => `sort_dir=${d}`)].join("&");
      const expected = expectedOrder(live, keys, dirs);
      const { ids, pageSizes, first } = await walk(query);
      expect(pageSizes).toEqual([1000, 1000, TOTAL - 50 - 2000, 0]);
      expect(new Set(ids).size).toBe(live.length);
      expect(ids).toEqual(expected);
      expect(first).toEqual(view(live.find((r) => r.id === expected[0]) as Row));
    },
  );

  it("the default order (created_at desc, id desc) pages the same way", async () => {
    const { ids, pageSizes } = await walk("sort_dir=desc");
    expect(pageSizes).toEqual([1000, 1000, 450, 0]);
    expect(ids).toEqual(expectedOrder(live, ["created_at"], ["desc"]));
  });

  it("a filtered walk with smaller pages (service_type=OTHER, updated_at asc, limit=150)", async () => {
    const matching = new Set(live.filter((r) => r.service_type === "OTHER").map((r) => r.id));
    const expected = expectedOrder(live, ["updated_at"], ["asc"]).filter((id) => matching.has(id));
    const { ids, pageSizes } = await walk("service_type=OTHER&sort_key=updated_at&sort_dir=asc", 150);
    expect(pageSizes.at(-1)).toBe(0);
    expect(pageSizes.slice(0, -2).every((n) => n === 150)).toBe(true);
    expect(ids).toEqual(expected);
  });

  it("without a limit a list stops at the maximum, 1000 rows", async () => {
    const res = await get("/v1/segments");
    expect(res.status).toBe(200);
    expect(res.json.segments.map((s: { id: number }) => s.id)).toEqual(
      expectedOrder(live, ["created_at"], ["desc"]).slice(0, 1000),
    );
  });

  it("a limit above the maximum is clamped to 1000", async () => {
    const res = await get("/v1/segments?limit=1001&sort_key=name&sort_dir=asc");
    expect(res.status).toBe(200);
    expect(res.json.segments.map((s: { id: number }) => s.id)).toEqual(
      expectedOrder(live, ["name"], ["asc"]).slice(0, 1000),
    );
  });

  it("a limit below the maximum is kept", async () => {
    const res = await get("/v1/segments?limit=999&sort_key=name&sort_dir=asc");
    expect(res.status).toBe(200);
    expect(res.json.segments.length).toBe(999);
  });
});
