import { beforeAll, describe, expect, it } from "vitest";
import { createSegment, get, sql } from "./helpers";
import { expectedOrder, type Row } from "./paging-order";

// Keyset pages around NULLs and ties, in every column (docs/upstream.md,
// "Paging and sorting"): a page after a marker is a union of index seeks
// (src/db/paging.ts), one per way a row can sort after the marker, so every
// kind of marker must be walked: NULL and non-NULL values in nullable keys,
// created_at included, keys that tie, several keys in mixed directions (more
// ways than one D1 statement may hold, which paging.ts folds together), a
// filter, and a marker outside the filter. Each walk must return exactly the
// order computed here: NULL smallest, numbers by value, strings byte-wise.

const TOTAL = 300;
let live: Row[] = [];

beforeAll(async () => {
  // A few values per column, NULLs in every nullable one, created_at too.
  await sql(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${TOTAL})
     INSERT INTO failover_segments (created_at, updated_at, deleted_at, deleted, uuid, name, service_type, description, recovery_method, enabled)
     SELECT CASE WHEN i % 11 = 0 THEN NULL ELSE printf('2026-04-01 00:00:%02d.000000', i * 7 % 6) END,
            CASE WHEN i % 3 = 0 THEN NULL ELSE printf('2026-04-02 00:00:%02d.000000', i % 4) END,
            CASE WHEN i % 37 = 0 THEN '2026-04-03 00:00:00.000000' END,
            CASE WHEN i % 37 = 0 THEN i ELSE 0 END,
            lower(hex(randomblob(16))), printf('%s-%03d', CASE WHEN i % 5 = 0 THEN 'K' ELSE 'k' END, i * 7919 % ${TOTAL}),
            CASE i % 3 WHEN 0 THEN 'COMPUTE' WHEN 1 THEN 'EDGE' ELSE 'compute' END,
            CASE WHEN i % 2 = 0 THEN NULL ELSE printf('rack %d', i % 3) END,
            CASE i % 4 WHEN 0 THEN 'auto' WHEN 1 THEN 'reserved_host' WHEN 2 THEN 'auto_priority' ELSE 'rh_priority' END,
            CASE WHEN i % 7 = 0 THEN NULL ELSE i % 2 END
     FROM n`,
  );
  live = await sql<Row>("SELECT * FROM failover_segments WHERE deleted = 0");
});

/** Follows the marker from page to page until an empty page. */
async function walk(path: string, query: string, limit: number, marker = "") {
  const ids: number[] = [];
  let next = marker;
  for (let page = 0; page < 100; page++) {
    const res = await get(`${path}?${query}&limit=${limit}${next}`);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const [items] = Object.values(res.json) as { id: number }[][];
    if (!items || items.length === 0) return ids;
    ids.push(...items.map((s) => s.id));
    next = `&marker=${items.at(-1)?.id}`;
  }
  throw new Error("more than 100 pages");
}

const COLUMNS = ["created_at", "updated_at", "deleted_at", "deleted", "id", "uuid", "name"];
const MORE = ["service_type", "description", "recovery_method", "enabled"];

describe("keyset pages around NULLs and ties", () => {
  it("the data has NULLs in every nullable column, created_at included", () => {
    for (const column of ["created_at", "updated_at", "description", "enabled"]) {
      expect(live.some((r) => r[column] === null)).toBe(true);
      expect(live.some((r) => r[column] !== null)).toBe(true);
    }
  });

  const single = [...COLUMNS, ...MORE].flatMap((key) => [
    [[key], ["asc"]],
    [[key], ["desc"]],
  ]) as [string[], ("asc" | "desc")[]][];
  const several: [string[], ("asc" | "desc")[]][] = [
    [["service_type", "enabled"], ["desc"]],
    [
      ["enabled", "description", "updated_at"],
      ["asc", "desc", "asc"],
    ],
    [
      ["description", "updated_at"],
      ["desc", "asc"],
    ],
    [["updated_at", "created_at", "id"], ["asc"]],
    [
      ["created_at", "id"],
      ["asc", "desc"],
    ],
  ];

  it.each([...single, ...several])("sort_key=%j sort_dir=%j: every segment once, in order", async (keys, dirs) => {
    const query = [...keys.map((k) => `sort_key=${k}`), ...dirs.map((d) => `sort_dir=${d}`)].join("&");
    expect(await walk("/v1/segments", query, 13)).toEqual(expectedOrder(live, keys, dirs));
  });

  it("the default order, created_at desc, id desc", async () => {
    expect(await walk("/v1/segments", "", 13)).toEqual(expectedOrder(live, ["created_at"], ["desc"]));
  });

  it.each([
    ["enabled=false", (r: Row) => r.enabled === 0],
    ["recovery_method=auto", (r: Row) => r.recovery_method === "auto"],
    ["service_type=compute", (r: Row) => r.service_type === "compute"],
  ] as const)("a filtered walk, %s, by updated_at asc and by the default order", async (filter, keep) => {
    const rows = live.filter(keep);
    expect(await walk("/v1/segments", `${filter}&sort_key=updated_at&sort_dir=asc`, 7)).toEqual(
      expectedOrder(rows, ["updated_at"], ["asc"]),
    );
    expect(await walk("/v1/segments", filter, 7)).toEqual(expectedOrder(rows, ["created_at"], ["desc"]));
  });

  it("a marker outside the filter pages from where it would sort", async () => {
    // The marker is looked up among all live rows (docs/upstream.md,
    // "Paging and sorting").
    const rows = live.filter((r) => r.service_type === "EDGE");
    const order = expectedOrder(live, ["service_type", "updated_at"], ["asc", "asc"]);
    const marker = live.find((r) => r.service_type === "COMPUTE" && r.updated_at === null);
    expect(marker).toBeDefined();
    const after = order.slice(order.indexOf(marker?.id as number) + 1);
    const expected = after.filter((id) => rows.some((r) => r.id === id));
    const query = "service_type=EDGE&sort_key=service_type&sort_key=updated_at&sort_dir=asc";
    expect(await walk("/v1/segments", query, 9, `&marker=${marker?.id}`)).toEqual(expected);
  });

  it("hosts: a marker in another segment, sorted by the segment and in the default order", async () => {
    const a = await createSegment();
    const b = await createSegment();
    for (const [segment, count] of [
      [a, 30],
      [b, 5],
    ] as const) {
      await sql(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
         INSERT INTO hosts (created_at, deleted, uuid, name, type, control_attributes, failover_segment_id)
         SELECT CASE WHEN i % 4 = 0 THEN NULL ELSE printf('2026-04-01 00:00:%02d.000000', i % 3) END, 0,
                lower(hex(randomblob(16))), printf('keyset-%s-%d', ?, i), 'COMPUTE', 'SSH', ?
         FROM n`,
        segment.uuid,
        segment.uuid,
      );
    }
    const all = await sql<Row>(
      "SELECT * FROM hosts WHERE deleted = 0 AND failover_segment_id IN (?, ?)",
      a.uuid,
      b.uuid,
    );
    const inA = all.filter((r) => r.failover_segment_id === a.uuid);
    for (const [keys, dirs] of [
      [["failover_segment_id"], ["asc"]],
      [["failover_segment_id"], ["desc"]],
      [["created_at"], ["desc"]],
      [["created_at"], ["asc"]],
    ] as [string[], ("asc" | "desc")[]][]) {
      const order = expectedOrder(all, keys, dirs);
      for (const marker of all.filter((r) => r.failover_segment_id === b.uuid)) {
        const after = order.slice(order.indexOf(marker.id as number) + 1);
        const expected = after.filter((id) => inA.some((r) => r.id === id));
        const query = [...keys.map((k) => `sort_key=${k}`), ...dirs.map((d) => `sort_dir=${d}`)].join("&");
        expect(await walk(`/v1/segments/${a.uuid}/hosts`, query, 8, `&marker=${marker.id}`)).toEqual(expected);
      }
    }
  });
});
