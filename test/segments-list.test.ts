import { beforeAll, describe, expect, it } from "vitest";
import {
  BOOLEAN_FILTER_VALUES,
  del,
  expectFault,
  expectList,
  get,
  type Json,
  mustAnswer,
  post,
  sql,
  UNKNOWN_UUID,
  unique,
} from "./helpers";

// GET /v1/segments: exchanges #59-#86 on the catalogue's data (seg-a..seg-d
// live, one deleted segment), paging and sorting details (docs/upstream.md,
// "Paging and sorting"), and the deviations D3, D5 and D6.
//
// Every test but the updated_at one only reads; that one adds rows of its
// own service_type and deletes them again, so the catalogue data is all
// any other test sees.

let a: Json;
let b: Json;
let c: Json;
let d: Json;
let deleted: Json;

beforeAll(async () => {
  const create = async (segment: Record<string, unknown>, version?: string) => {
    const res = await post("/v1/segments", { segment }, { version });
    return mustAnswer(res, 202, "segment create").json.segment;
  };
  // As the catalogue creates them (#28-#31, #41 then #58).
  a = await create({ name: "seg-a", recovery_method: "auto", service_type: "COMPUTE" });
  b = await create({
    name: "seg-b",
    recovery_method: "reserved_host",
    service_type: "COMPUTE",
    description: "second segment",
  });
  c = await create({ name: "seg-c", recovery_method: "auto_priority", service_type: "COMPUTE", enabled: false }, "1.2");
  d = await create(
    { name: "seg-d", recovery_method: "rh_priority", service_type: "COMPUTE", description: null, enabled: "yes" },
    "latest",
  );
  deleted = await create({ name: "m".repeat(255), recovery_method: "auto", service_type: "COMPUTE" });
  const res = await del(`/v1/segments/${deleted.uuid}`);
  mustAnswer(res, 204, "segment delete");
});

const list = (query = "", version?: string) => get(`/v1/segments${query}`, { version });

describe("the catalogue data", () => {
  it("has the shape the catalogue's list exchanges assume", () => {
    expect([a, b, c, d].map((s) => [s.name, s.recovery_method, s.enabled, s.description])).toEqual([
      ["seg-a", "auto", true, null],
      ["seg-b", "reserved_host", true, "second segment"],
      ["seg-c", "auto_priority", false, null],
      ["seg-d", "rh_priority", true, null],
    ]);
    expect([b.id, c.id, d.id, deleted.id]).toEqual([a.id + 1, a.id + 2, a.id + 3, a.id + 4]);
  });
});

describe("list and paging (#59-#71)", () => {
  it("#59 the default order is created_at desc, id desc: newest first", async () => {
    expectList(await list(), "segments", [d, c, b, a]);
  });

  it("#60 at 1.2 the list is the same, with masakari 1.2", async () => {
    expectList(await list("", "1.2"), "segments", [d, c, b, a], "1.2");
  });

  it("#61 limit=2 gives the first two", async () => {
    expectList(await list("?limit=2"), "segments", [d, c]);
  });

  it("#62 limit=2&marker=<id of seg-c> gives the two after it", async () => {
    expectList(await list(`?limit=2&marker=${c.id}`), "segments", [b, a]);
  });

  it("#63 the oldest segment's id as marker gives an empty page", async () => {
    expectList(await list(`?marker=${a.id}`), "segments", []);
  });

  it("#64 a uuid is not a marker", async () => {
    expectFault(await list(`?marker=${c.uuid}`), 400, "badRequest", `Marker ${c.uuid} could not be found.`);
  });

  it("#65 an unknown integer marker", async () => {
    expectFault(await list("?marker=999"), 400, "badRequest", "Marker 999 could not be found.");
  });

  it("#66 an unknown uuid marker", async () => {
    expectFault(await list(`?marker=${UNKNOWN_UUID}`), 400, "badRequest", `Marker ${UNKNOWN_UUID} could not be found.`);
  });

  it("#67 a marker that is not a number", async () => {
    expectFault(await list("?marker=abc"), 400, "badRequest", "Marker abc could not be found.");
  });

  it("#68 the id of a deleted segment is not a marker", async () => {
    expectFault(await list(`?marker=${deleted.id}`), 400, "badRequest", `Marker ${deleted.id} could not be found.`);
  });

  it("the marker is looked up whatever the filters, and the page is filtered", async () => {
    expectList(await list(`?recovery_method=auto&marker=${d.id}`), "segments", [a]);
  });

  it("#69 limit=0 gives an empty list", async () => {
    expectList(await list("?limit=0"), "segments", []);
  });

  it("limit=0 returns before the sort key is checked", async () => {
    expectList(await list("?limit=0&sort_key=bogus"), "segments", []);
  });

  it("limit=0 returns before the marker is looked up", async () => {
    expectList(await list("?limit=0&marker=999"), "segments", []);
  });

  it("limit=0 returns before the sort direction is checked", async () => {
    expectList(await list("?limit=0&sort_dir=sideways"), "segments", []);
  });

  it("#70 limit=-1 is refused", async () => {
    expectFault(await list("?limit=-1"), 400, "badRequest", "Invalid input received: limit must be >= 0");
  });

  it("#71 limit=abc is refused", async () => {
    expectFault(await list("?limit=abc"), 400, "badRequest", "Invalid input received: limit must be an integer");
  });

  it("limit=1.5 is not an integer", async () => {
    expectFault(await list("?limit=1.5"), 400, "badRequest", "Invalid input received: limit must be an integer");
  });

  it("an empty limit is not an integer", async () => {
    expectFault(await list("?limit="), 400, "badRequest", "Invalid input received: limit must be an integer");
  });

  it.each([
    ["+2", "%2B2"],
    [" 2 ", "%202%20"],
  ])("limit %j is read as Python's int() reads it", async (_shown, encoded) => {
    expectList(await list(`?limit=${encoded}`), "segments", [d, c]);
  });

  it("a limit above the maximum (1000) is accepted", async () => {
    expectList(await list("?limit=5000"), "segments", [d, c, b, a]);
  });

  it("the limit is checked before the sort direction", async () => {
    expectFault(
      await list("?limit=abc&sort_dir=sideways"),
      400,
      "badRequest",
      "Invalid input received: limit must be an integer",
    );
  });

  it("page_size=-1 is refused", async () => {
    expectFault(await list("?page_size=-1"), 400, "badRequest", "Invalid input received: page_size must be >= 0");
  });

  it("page_size=abc is refused", async () => {
    expectFault(
      await list("?page_size=abc"),
      400,
      "badRequest",
      "Invalid input received: page_size must be an integer",
    );
  });

  it("a valid page_size is ignored", async () => {
    expectList(await list("?page_size=1"), "segments", [d, c, b, a]);
  });
});

describe("sorting (#72-#77)", () => {
  it("#72 sort_key=name&sort_dir=asc", async () => {
    expectList(await list("?sort_key=name&sort_dir=asc"), "segments", [a, b, c, d]);
  });

  it("#73 sort_key=name without a direction is descending", async () => {
    expectList(await list("?sort_key=name"), "segments", [d, c, b, a]);
  });

  it("#74 sort_dir=asc alone sorts created_at ascending", async () => {
    expectList(await list("?sort_dir=asc"), "segments", [a, b, c, d]);
  });

  it("#75 two sort keys with their own directions", async () => {
    expectList(await list("?sort_key=recovery_method&sort_dir=asc&sort_key=name&sort_dir=desc"), "segments", [
      a,
      c,
      b,
      d,
    ]);
  });

  it("fewer directions than keys: the other keys take the first direction", async () => {
    expectList(await list("?sort_key=enabled&sort_key=name&sort_dir=asc"), "segments", [c, a, b, d]);
  });

  it("sort keys and directions are stripped of surrounding spaces", async () => {
    expectList(await list("?sort_key=%20name%20&sort_dir=%20asc%20"), "segments", [a, b, c, d]);
  });

  it("any column is a sort key (uuid)", async () => {
    const byUuid = [a, b, c, d].sort((x, y) => (x.uuid < y.uuid ? -1 : 1));
    expectList(await list("?sort_key=uuid&sort_dir=asc"), "segments", byUuid);
  });

  it("NULL sorts first ascending (description)", async () => {
    expectList(await list("?sort_key=description&sort_dir=asc"), "segments", [a, c, d, b]);
  });

  it("NULL sorts last descending (description)", async () => {
    expectList(await list("?sort_key=description&sort_dir=desc"), "segments", [b, d, c, a]);
  });

  it("#76 an unknown sort key", async () => {
    expectFault(
      await list("?sort_key=bogus"),
      400,
      "badRequest",
      "InvalidSortKey('Sort key supplied is invalid: bogus')",
    );
  });

  it("D6: the relationship name hosts is an invalid sort key (upstream: 500)", async () => {
    expectFault(
      await list("?sort_key=hosts"),
      400,
      "badRequest",
      "InvalidSortKey('Sort key supplied is invalid: hosts')",
    );
  });

  it("#77 an unknown sort direction", async () => {
    expectFault(
      await list("?sort_key=name&sort_dir=sideways"),
      400,
      "badRequest",
      "Invalid input received: Unknown sort direction, must be 'asc' or 'desc'",
    );
  });

  it("more directions than keys", async () => {
    expectFault(
      await list("?sort_key=name&sort_dir=asc&sort_dir=desc"),
      400,
      "badRequest",
      "Invalid input received: Sort direction size exceeds sort key size",
    );
  });

  it("two directions and no key (created_at is the one key)", async () => {
    expectFault(
      await list("?sort_dir=asc&sort_dir=desc"),
      400,
      "badRequest",
      "Invalid input received: Sort direction size exceeds sort key size",
    );
  });

  it("the sort direction is checked before the marker is looked up", async () => {
    expectFault(
      await list("?sort_key=name&sort_dir=sideways&marker=999"),
      400,
      "badRequest",
      "Invalid input received: Unknown sort direction, must be 'asc' or 'desc'",
    );
  });

  it("the direction count is checked before the marker is looked up", async () => {
    expectFault(
      await list("?sort_key=name&sort_dir=asc&sort_dir=asc&marker=999"),
      400,
      "badRequest",
      "Invalid input received: Sort direction size exceeds sort key size",
    );
  });

  it("the marker is looked up before the sort key is checked", async () => {
    expectFault(await list("?sort_key=bogus&marker=999"), 400, "badRequest", "Marker 999 could not be found.");
  });

  it("with a valid marker the unknown sort key is reported", async () => {
    expectFault(
      await list(`?sort_key=bogus&marker=${a.id}`),
      400,
      "badRequest",
      "InvalidSortKey('Sort key supplied is invalid: bogus')",
    );
  });

  it("a marker pages under the requested order", async () => {
    expectList(await list(`?sort_key=name&sort_dir=asc&marker=${b.id}`), "segments", [c, d]);
  });

  it("updated_at: never-updated (NULL) rows sort first ascending, last descending, and page across NULLs", async () => {
    const serviceType = unique("UPD");
    const rows = [
      { created_at: "2026-01-01 10:00:00.000000", updated_at: "2026-01-02 10:00:00.000000" },
      { created_at: "2026-01-01 10:00:01.000000", updated_at: null },
      { created_at: "2026-01-01 10:00:02.000000", updated_at: "2026-01-01 12:00:00.000000" },
      { created_at: "2026-01-01 10:00:03.000000", updated_at: null },
    ];
    const made: Json[] = [];
    try {
      for (const r of rows) {
        const uuid = crypto.randomUUID();
        const name = unique("seg-upd");
        await sql(
          `INSERT INTO failover_segments (created_at, updated_at, deleted, uuid, name, service_type, recovery_method, enabled)
           VALUES (?, ?, 0, ?, ?, ?, 'auto', 1)`,
          r.created_at,
          r.updated_at,
          uuid,
          name,
          serviceType,
        );
        const [stored] = await sql<{ id: number }>("SELECT id FROM failover_segments WHERE uuid = ?", uuid);
        made.push({
          id: stored?.id,
          uuid,
          name,
          service_type: serviceType,
          enabled: true,
          description: null,
          recovery_method: "auto",
          created_at: r.created_at.replace(" ", "T"),
          updated_at: r.updated_at?.replace(" ", "T") ?? null,
          deleted_at: null,
          deleted: false,
        });
      }
      const [u1, u2, u3, u4] = made;
      const filter = `?service_type=${serviceType}&sort_key=updated_at`;
      expectList(await list(`${filter}&sort_dir=asc`), "segments", [u2, u4, u3, u1]);
      expectList(await list(`${filter}&sort_dir=desc`), "segments", [u1, u3, u4, u2]);
      // One row a page, each page after the last row of the one before.
      for (const [dir, order] of [
        ["asc", [u2, u4, u3, u1]],
        ["desc", [u1, u3, u4, u2]],
      ] as const) {
        const walked: Json[] = [];
        let marker = "";
        for (let page = 0; page < 6; page++) {
          const res = await list(`${filter}&sort_dir=${dir}&limit=1${marker}`);
          expect(res.status).toBe(200);
          if (res.json.segments.length === 0) break;
          walked.push(...res.json.segments);
          marker = `&marker=${res.json.segments.at(-1).id}`;
        }
        expect(walked).toEqual(order);
      }
    } finally {
      await sql("UPDATE failover_segments SET deleted = id WHERE service_type = ?", serviceType);
    }
  });
});

describe("filters (#78-#86)", () => {
  it("#78 recovery_method=auto", async () => {
    expectList(await list("?recovery_method=auto"), "segments", [a]);
  });

  it("#79 recovery_method=bogus matches nothing", async () => {
    expectList(await list("?recovery_method=bogus"), "segments", []);
  });

  it.each([
    ["AUTO", () => [a]],
    ["Reserved_Host", () => [b]],
    ["RH_PRIORITY", () => [d]],
  ])("D3: recovery_method=%s matches case-insensitively", async (value, expected) => {
    expectList(await list(`?recovery_method=${value}`), "segments", expected());
  });

  it("the last of repeated filter values counts", async () => {
    expectList(await list("?recovery_method=bogus&recovery_method=auto"), "segments", [a]);
  });

  it("#80 service_type=COMPUTE", async () => {
    expectList(await list("?service_type=COMPUTE"), "segments", [d, c, b, a]);
  });

  it("#81 service_type=other matches nothing", async () => {
    expectList(await list("?service_type=other"), "segments", []);
  });

  it("service_type is matched exactly (case-sensitive)", async () => {
    expectList(await list("?service_type=compute"), "segments", []);
  });

  it("#82 D5: enabled=false lists the disabled segments (upstream: empty list)", async () => {
    expectList(await list("?enabled=false"), "segments", [c]);
  });

  it("#83 D5: enabled=False at 1.2 lists the disabled segments (upstream: empty list)", async () => {
    expectList(await list("?enabled=False", "1.2"), "segments", [c], "1.2");
  });

  it("#84 enabled=0 lists the disabled segments", async () => {
    expectList(await list("?enabled=0"), "segments", [c]);
  });

  it("enabled=1 lists the enabled segments", async () => {
    expectList(await list("?enabled=1"), "segments", [d, b, a]);
  });

  it.each(["true", "t", "yes", "y", "on", "TRUE", "True", "T", "Yes", "Y", "ON", "oN"])(
    "D5: enabled=%s lists the enabled segments",
    async (value) => {
      expectList(await list(`?enabled=${value}`), "segments", [d, b, a]);
    },
  );

  it.each(["false", "f", "no", "n", "off", "FALSE", "F", "No", "N", "OFF", "oFf"])(
    "D5: enabled=%s lists the disabled segments",
    async (value) => {
      expectList(await list(`?enabled=${value}`), "segments", [c]);
    },
  );

  it("#85 D5: enabled=bogus is refused (upstream: empty list)", async () => {
    expectFault(
      await list("?enabled=bogus"),
      400,
      "badRequest",
      `Invalid value for enabled: Unrecognized value 'bogus', ${BOOLEAN_FILTER_VALUES}`,
    );
  });

  it.each([
    ["2", "2"],
    ["", ""],
    ["yess", "yess"],
  ])("D5: enabled=%j is refused", async (value, shown) => {
    expectFault(
      await list(`?enabled=${value}`),
      400,
      "badRequest",
      `Invalid value for enabled: Unrecognized value '${shown}', ${BOOLEAN_FILTER_VALUES}`,
    );
  });

  it("D5: the enabled filter is checked even when limit=0 (like the hosts reserved filter)", async () => {
    expectFault(
      await list("?limit=0&enabled=bogus"),
      400,
      "badRequest",
      `Invalid value for enabled: Unrecognized value 'bogus', ${BOOLEAN_FILTER_VALUES}`,
    );
  });

  it("D5: the enabled filter is checked after the limit", async () => {
    expectFault(
      await list("?limit=abc&enabled=bogus"),
      400,
      "badRequest",
      "Invalid input received: limit must be an integer",
    );
  });

  it("filters combine", async () => {
    expectList(await list("?enabled=true&recovery_method=reserved_host&service_type=COMPUTE"), "segments", [b]);
  });

  it("#86 an unknown query parameter (name=seg-a) is ignored", async () => {
    expectList(await list("?name=seg-a"), "segments", [d, c, b, a]);
  });
});
