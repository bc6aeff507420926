import { beforeAll, describe, expect, it } from "vitest";
import {
  BOOLEAN_FILTER_VALUES,
  createHost,
  createSegment,
  del,
  expectFault,
  expectList,
  get,
  type Json,
  put,
  UNKNOWN_UUID,
  unique,
} from "./helpers";

// GET /v1/segments/{segment_id}/hosts: exchanges #129-#146, paging and sorting
// (docs/upstream.md, "Paging and sorting"), the list filters of
// "Host operations and order of checks" and D6 (a relationship name as
// sort_key is 400, not 500).

const hostsPath = (segment: Json) => `/v1/segments/${segment.uuid}/hosts`;

const listA = (query = "", version?: string) => get(`${hostsPath(segA)}${query}`, { version });

// The catalogue's data: seg-a with compute1 and compute2 (reserved="True"),
// then seg-b2 with compute3 (on_maintenance=true), in that order.
let segA: Json;
let segB: Json;
let compute1: Json;
let compute2: Json;
let compute3: Json;

beforeAll(async () => {
  segA = await createSegment({ name: unique("seg-a") });
  segB = await createSegment({ name: unique("seg-b2") });
  compute1 = await createHost(segA.uuid, { name: unique("compute1") });
  compute2 = await createHost(segA.uuid, { name: unique("compute2"), reserved: "True", on_maintenance: false });
  compute3 = await createHost(segB.uuid, { name: unique("compute3"), on_maintenance: true });
});

describe("list, paging and sorting (#129-#137)", () => {
  it("#129 the hosts of the segment, newest first, as they were created", async () => {
    expectList(await listA(), "hosts", [compute2, compute1]);
  });

  it("#129 each item names the segment's uuid and embeds the segment", async () => {
    const res = await listA();
    for (const host of res.json.hosts) {
      expect(host.failover_segment_id).toBe(segA.uuid);
      expect(host.failover_segment).toEqual(segA);
    }
  });

  it("#130 the list at 1.2 is the same, with the masakari 1.2 header", async () => {
    expectList(await listA("", "1.2"), "hosts", [compute2, compute1], "1.2");
  });

  it("#131 limit=1 gives the newest host", async () => {
    expectList(await listA("?limit=1"), "hosts", [compute2]);
  });

  it("#132 limit=1&marker=<integer id of compute2> gives the next host", async () => {
    expectList(await listA(`?limit=1&marker=${compute2.id}`), "hosts", [compute1]);
  });

  it("marker=<integer id of the oldest host> gives an empty page", async () => {
    expectList(await listA(`?marker=${compute1.id}`), "hosts", []);
  });

  it("#133 marker=<uuid of compute2> is not found: markers are integer ids", async () => {
    expectFault(
      await listA(`?marker=${compute2.uuid}`),
      400,
      "badRequest",
      `Marker ${compute2.uuid} could not be found.`,
    );
  });

  it("#134 marker=<id of compute3, a host of another segment> is accepted", async () => {
    expectList(await listA(`?marker=${compute3.id}`), "hosts", [compute2, compute1]);
  });

  it("#135 an unknown uuid marker is not found", async () => {
    expectFault(
      await listA(`?marker=${UNKNOWN_UUID}`),
      400,
      "badRequest",
      `Marker ${UNKNOWN_UUID} could not be found.`,
    );
  });

  it("an unknown integer marker is not found", async () => {
    expectFault(await listA("?marker=999999"), 400, "badRequest", "Marker 999999 could not be found.");
  });

  it("the marker of a deleted host is not found", async () => {
    const gone = await createHost(segB.uuid);
    expect((await del(`${hostsPath(segB)}/${gone.uuid}`)).status).toBe(204);
    expectFault(await listA(`?marker=${gone.id}`), 400, "badRequest", `Marker ${gone.id} could not be found.`);
  });

  it("#136 sort_key=name&sort_dir=asc", async () => {
    expectList(await listA("?sort_key=name&sort_dir=asc"), "hosts", [compute1, compute2]);
  });

  it("sort_key=name without a direction sorts descending", async () => {
    expectList(await listA("?sort_key=name"), "hosts", [compute2, compute1]);
  });

  it("sort_dir=asc alone sorts oldest first", async () => {
    expectList(await listA("?sort_dir=asc"), "hosts", [compute1, compute2]);
  });

  it("sort_key=reserved&sort_dir=asc puts the unreserved host first", async () => {
    expectList(await listA("?sort_key=reserved&sort_dir=asc"), "hosts", [compute1, compute2]);
  });

  it("sort_key=failover_segment_id, a column, is a valid key", async () => {
    expectList(await listA("?sort_key=failover_segment_id"), "hosts", [compute2, compute1]);
  });

  it("sort_key=name&sort_dir=asc with marker=<id of compute1> gives compute2", async () => {
    expectList(await listA(`?sort_key=name&sort_dir=asc&marker=${compute1.id}`), "hosts", [compute2]);
  });

  it("#137 sort_key=bogus is InvalidSortKey", async () => {
    expectFault(
      await listA("?sort_key=bogus"),
      400,
      "badRequest",
      "InvalidSortKey('Sort key supplied is invalid: bogus')",
    );
  });

  it("D6: sort_key=failover_segment (a relationship) is 400 InvalidSortKey (upstream 500)", async () => {
    expectFault(
      await listA("?sort_key=failover_segment"),
      400,
      "badRequest",
      "InvalidSortKey('Sort key supplied is invalid: failover_segment')",
    );
  });

  it("sort_dir=sideways is an unknown sort direction", async () => {
    expectFault(
      await listA("?sort_key=name&sort_dir=sideways"),
      400,
      "badRequest",
      "Invalid input received: Unknown sort direction, must be 'asc' or 'desc'",
    );
  });

  it("more sort directions than keys is refused", async () => {
    expectFault(
      await listA("?sort_key=name&sort_dir=asc&sort_dir=desc"),
      400,
      "badRequest",
      "Invalid input received: Sort direction size exceeds sort key size",
    );
  });

  it("limit=0 gives an empty list", async () => {
    expectList(await listA("?limit=0"), "hosts", []);
  });

  it("limit with surrounding spaces and a plus sign is an integer", async () => {
    expectList(await listA("?limit=%20%2B1%20"), "hosts", [compute2]);
  });

  it("limit=-1 is refused", async () => {
    expectFault(await listA("?limit=-1"), 400, "badRequest", "Invalid input received: limit must be >= 0");
  });

  it("limit=abc is refused", async () => {
    expectFault(await listA("?limit=abc"), 400, "badRequest", "Invalid input received: limit must be an integer");
  });

  it("limit=1.5 is refused", async () => {
    expectFault(await listA("?limit=1.5"), 400, "badRequest", "Invalid input received: limit must be an integer");
  });

  it("page_size is validated like limit", async () => {
    expectFault(
      await listA("?page_size=abc"),
      400,
      "badRequest",
      "Invalid input received: page_size must be an integer",
    );
  });

  it("a segment without hosts lists none", async () => {
    const empty = await createSegment({ name: unique("seg-empty") });
    expectList(await get(hostsPath(empty)), "hosts", []);
  });

  it("deleted hosts are not listed", async () => {
    const segment = await createSegment({ name: unique("seg-del") });
    const kept = await createHost(segment.uuid);
    const gone = await createHost(segment.uuid);
    expect((await del(`${hostsPath(segment)}/${gone.uuid}`)).status).toBe(204);
    expectList(await get(hostsPath(segment)), "hosts", [kept]);
  });

  it("each item embeds the segment as it is now", async () => {
    const segment = await createSegment({ name: unique("seg-now") });
    const host = await createHost(segment.uuid);
    const updated = await put(`/v1/segments/${segment.uuid}`, { segment: { description: "now" } });
    expect(updated.status).toBe(200);
    const now = updated.json.segment;
    expect(now.description).toBe("now");
    expectList(await get(hostsPath(segment)), "hosts", [{ ...host, failover_segment: now }]);
  });
});

describe("filters (#138-#144)", () => {
  // seg-f: a COMPUTE host, a reserved CONTROLLER, a COMPUTE host on maintenance.
  let segF: Json;
  let plain: Json;
  let controller: Json;
  let maintained: Json;
  const listF = (query: string) => get(`${hostsPath(segF)}${query}`);

  beforeAll(async () => {
    segF = await createSegment({ name: unique("seg-f") });
    plain = await createHost(segF.uuid, { type: "COMPUTE", control_attributes: "SSH" });
    controller = await createHost(segF.uuid, { type: "CONTROLLER", control_attributes: "TCP", reserved: true });
    maintained = await createHost(segF.uuid, { type: "COMPUTE", control_attributes: "SSH", on_maintenance: true });
  });

  it("#138 name is accepted and ignored", async () => {
    expectList(await listA(`?name=${compute1.name}`), "hosts", [compute2, compute1]);
  });

  it("#139 type=COMPUTE matches both hosts of seg-a", async () => {
    expectList(await listA("?type=COMPUTE"), "hosts", [compute2, compute1]);
  });

  it("type=CONTROLLER matches only the controller", async () => {
    expectList(await listF("?type=CONTROLLER"), "hosts", [controller]);
  });

  it("type is an exact, case-sensitive match", async () => {
    expectList(await listF("?type=compute"), "hosts", []);
  });

  it("#140 control_attributes is accepted and ignored", async () => {
    expectList(await listF("?control_attributes=TCP"), "hosts", [maintained, controller, plain]);
  });

  it("failover_segment_id in the query is ignored; the URL's segment is used", async () => {
    expectList(await listA(`?failover_segment_id=${segB.uuid}`), "hosts", [compute2, compute1]);
  });

  it("#141 reserved=true gives compute2", async () => {
    expectList(await listA("?reserved=true"), "hosts", [compute2]);
  });

  it("#142 reserved=0 gives compute1", async () => {
    expectList(await listA("?reserved=0"), "hosts", [compute1]);
  });

  it("on_maintenance=true in seg-b2 gives compute3", async () => {
    expectList(await get(`${hostsPath(segB)}?on_maintenance=true`), "hosts", [compute3]);
  });

  it("on_maintenance=true in seg-a gives nothing", async () => {
    expectList(await listA("?on_maintenance=true"), "hosts", []);
  });

  it("filters combine", async () => {
    expectList(await listF("?type=COMPUTE&on_maintenance=false&reserved=false"), "hosts", [plain]);
  });

  it("filters combine with limit and marker", async () => {
    expectList(await listF(`?type=COMPUTE&limit=1&marker=${maintained.id}`), "hosts", [plain]);
  });

  const TRUE_FORMS = ["1", "t", "T", "true", "TRUE", "True", "tRuE", "y", "Y", "yes", "YES", "Yes", "on", "ON", "oN"];
  const FALSE_FORMS = ["0", "f", "F", "false", "FALSE", "False", "n", "N", "no", "NO", "No", "off", "OFF", "Off"];

  it.each(TRUE_FORMS)("on_maintenance=%s is true", async (value) => {
    expectList(await listF(`?on_maintenance=${value}`), "hosts", [maintained]);
  });

  it.each(FALSE_FORMS)("on_maintenance=%s is false", async (value) => {
    expectList(await listF(`?on_maintenance=${value}`), "hosts", [controller, plain]);
  });

  it.each(TRUE_FORMS)("reserved=%s is true", async (value) => {
    expectList(await listF(`?reserved=${value}`), "hosts", [controller]);
  });

  it.each(FALSE_FORMS)("reserved=%s is false", async (value) => {
    expectList(await listF(`?reserved=${value}`), "hosts", [maintained, plain]);
  });

  it("on_maintenance with surrounding spaces is parsed", async () => {
    expectList(await listF("?on_maintenance=%20yes%20"), "hosts", [maintained]);
  });

  it("reserved with surrounding spaces is parsed", async () => {
    expectList(await listF("?reserved=%20Off%20"), "hosts", [maintained, plain]);
  });

  it("#143 on_maintenance=bogus is refused with the acceptable values", async () => {
    expectFault(
      await listA("?on_maintenance=bogus"),
      400,
      "badRequest",
      `Invalid value for on_maintenance: Unrecognized value 'bogus', ${BOOLEAN_FILTER_VALUES}`,
    );
  });

  it("#144 reserved=bogus is refused with the acceptable values", async () => {
    expectFault(
      await listA("?reserved=bogus"),
      400,
      "badRequest",
      `Invalid value for reserved: Unrecognized value 'bogus', ${BOOLEAN_FILTER_VALUES}`,
    );
  });

  it("an empty on_maintenance is refused", async () => {
    expectFault(
      await listA("?on_maintenance="),
      400,
      "badRequest",
      `Invalid value for on_maintenance: Unrecognized value '', ${BOOLEAN_FILTER_VALUES}`,
    );
  });

  it("on_maintenance=2 is refused", async () => {
    expectFault(
      await listA("?on_maintenance=2"),
      400,
      "badRequest",
      `Invalid value for on_maintenance: Unrecognized value '2', ${BOOLEAN_FILTER_VALUES}`,
    );
  });

  it("the refused value is quoted as sent, spaces included", async () => {
    expectFault(
      await listA("?reserved=%20maybe%20"),
      400,
      "badRequest",
      `Invalid value for reserved: Unrecognized value ' maybe ', ${BOOLEAN_FILTER_VALUES}`,
    );
  });
});

describe("unknown segments and the order of checks (#145-#146)", () => {
  it("#145 the hosts of an unknown segment are 404", async () => {
    expectFault(
      await get(`/v1/segments/${UNKNOWN_UUID}/hosts`),
      404,
      "itemNotFound",
      `No failover segment with id ${UNKNOWN_UUID}.`,
    );
  });

  it("#146 the hosts of a non-uuid segment are 404", async () => {
    expectFault(await get("/v1/segments/abc/hosts"), 404, "itemNotFound", "No failover segment with id abc.");
  });

  it("the hosts of a deleted segment are 404", async () => {
    const segment = await createSegment({ name: unique("seg-gone") });
    await createHost(segment.uuid);
    expect((await del(`/v1/segments/${segment.uuid}`)).status).toBe(204);
    expectFault(await get(hostsPath(segment)), 404, "itemNotFound", `No failover segment with id ${segment.uuid}.`);
  });

  it("the 404 carries the request's microversion", async () => {
    expectFault(
      await get(`/v1/segments/${UNKNOWN_UUID}/hosts`, { version: "1.2" }),
      404,
      "itemNotFound",
      `No failover segment with id ${UNKNOWN_UUID}.`,
      "1.2",
    );
  });

  it("limit is checked before the segment is looked up", async () => {
    expectFault(
      await get(`/v1/segments/${UNKNOWN_UUID}/hosts?limit=abc`),
      400,
      "badRequest",
      "Invalid input received: limit must be an integer",
    );
  });

  it("the segment is looked up before the on_maintenance filter is parsed", async () => {
    expectFault(
      await get(`/v1/segments/${UNKNOWN_UUID}/hosts?on_maintenance=bogus`),
      404,
      "itemNotFound",
      `No failover segment with id ${UNKNOWN_UUID}.`,
    );
  });

  it("the segment is looked up before the sort key is checked", async () => {
    expectFault(
      await get(`/v1/segments/${UNKNOWN_UUID}/hosts?sort_key=bogus`),
      404,
      "itemNotFound",
      `No failover segment with id ${UNKNOWN_UUID}.`,
    );
  });

  it("the boolean filters are parsed before the sort key is checked", async () => {
    expectFault(
      await listA("?sort_key=bogus&reserved=bogus"),
      400,
      "badRequest",
      `Invalid value for reserved: Unrecognized value 'bogus', ${BOOLEAN_FILTER_VALUES}`,
    );
  });

  it("an unknown marker is reported before an unknown sort key", async () => {
    expectFault(await listA("?sort_key=bogus&marker=999999"), 400, "badRequest", "Marker 999999 could not be found.");
  });
});
