import { describe, expect, it } from "vitest";
import {
  BOOLEAN_ENUM,
  call,
  createSegment,
  DB_TIMESTAMP,
  DB_TIMESTAMP_MICROS,
  del,
  type Exchange,
  expectFault,
  expectOk,
  fault,
  get,
  INVALID_NAME,
  post,
  put,
  row,
  sql,
  successHeaders,
  TIMESTAMP,
  UNKNOWN_UUID,
  unique,
  v1Headers,
} from "./helpers";

// GET/PUT/DELETE /v1/segments/{id}: exchanges #87-#114, updated_at
// bookkeeping, soft delete of a segment and its hosts (docs/upstream.md,
// "Soft delete" and "Segments in use") and the deviation D4.

const LONG_AGO = "2020-01-01 00:00:00.000000";

const show = (id: string, version?: string) => get(`/v1/segments/${id}`, { version });
const update = (id: string, segment: unknown, version?: string) => put(`/v1/segments/${id}`, { segment }, { version });
const segmentRow = (uuid: string) => row("failover_segments", "uuid", uuid);

/** Seconds between a stored or shown naive-UTC datetime and now. */
const age = (datetime: string) => Math.abs(Date.now() - Date.parse(`${datetime.replace(" ", "T")}Z`)) / 1000;

const notFound = (id: string) => `No failover segment with id ${id}.`;

/** The segment as shown after an update that changed something now. */
const updatedView = (segment: Record<string, unknown>, changes: Record<string, unknown>) => ({
  segment: { ...segment, ...changes, updated_at: expect.stringMatching(TIMESTAMP) },
});

/** Sets a segment's updated_at straight in D1 (a segment updated long ago). */
const touchLongAgo = (uuid: string) =>
  sql("UPDATE failover_segments SET updated_at = ? WHERE uuid = ?", LONG_AGO, uuid);

describe("show (#87-#90)", () => {
  it("#87 shows a segment as it was created", async () => {
    const segment = await createSegment();
    expectOk(await show(segment.uuid), { segment });
  });

  it("#88 shows a disabled segment at 1.2", async () => {
    const segment = await createSegment({ recovery_method: "auto_priority", enabled: false });
    expect(segment.enabled).toBe(false);
    expectOk(await show(segment.uuid, "1.2"), { segment }, "1.2");
  });

  it("#89 an unknown uuid is 404", async () => {
    expectFault(await show(UNKNOWN_UUID), 404, "itemNotFound", notFound(UNKNOWN_UUID));
  });

  it("#90 a non-uuid id (the integer id) is 404", async () => {
    const segment = await createSegment();
    expectFault(await show(String(segment.id)), 404, "itemNotFound", notFound(String(segment.id)));
  });

  it("a non-uuid id (abc) is 404", async () => {
    expectFault(await show("abc"), 404, "itemNotFound", notFound("abc"));
  });

  it("the uuid is matched exactly: upper case is another id", async () => {
    const segment = await createSegment();
    const upper = segment.uuid.toUpperCase();
    expectFault(await show(upper), 404, "itemNotFound", notFound(upper));
  });
});

describe("update (#91-#102)", () => {
  it("#91 name and description change; updated_at is set to now", async () => {
    const segment = await createSegment();
    const name = unique("seg-b2");
    const res = await update(segment.uuid, { name, description: "renamed" });
    expectOk(res, updatedView(segment, { name, description: "renamed" }));
    const stored = await segmentRow(segment.uuid);
    expect(stored).toEqual({
      created_at: segment.created_at.replace("T", " "),
      updated_at: expect.stringMatching(DB_TIMESTAMP),
      deleted_at: null,
      deleted: 0,
      id: segment.id,
      uuid: segment.uuid,
      name,
      service_type: "COMPUTE",
      description: "renamed",
      recovery_method: "auto",
      enabled: 1,
    });
    expect(res.json.segment.updated_at).toBe(String(stored?.updated_at).replace(" ", "T"));
    expect(age(String(stored?.updated_at))).toBeLessThan(120);
  });

  it("#92 description null clears it", async () => {
    const segment = await createSegment({ description: "something" });
    expectOk(await update(segment.uuid, { description: null }), updatedView(segment, { description: null }));
    expect((await segmentRow(segment.uuid))?.description).toBeNull();
  });

  it("#93 recovery_method changes", async () => {
    const segment = await createSegment({ recovery_method: "reserved_host" });
    expectOk(
      await update(segment.uuid, { recovery_method: "auto" }),
      updatedView(segment, { recovery_method: "auto" }),
    );
    expect((await segmentRow(segment.uuid))?.recovery_method).toBe("auto");
  });

  it("service_type changes", async () => {
    const segment = await createSegment();
    expectOk(await update(segment.uuid, { service_type: "OTHER" }), updatedView(segment, { service_type: "OTHER" }));
    expect((await segmentRow(segment.uuid))?.service_type).toBe("OTHER");
  });

  it("D3: recovery_method in any case is stored lower-case", async () => {
    const segment = await createSegment();
    expectOk(
      await update(segment.uuid, { recovery_method: "RH_Priority" }),
      updatedView(segment, { recovery_method: "rh_priority" }),
    );
    expect((await segmentRow(segment.uuid))?.recovery_method).toBe("rh_priority");
  });

  it("#94 enabled=false at 1.2 disables the segment", async () => {
    const segment = await createSegment();
    expectOk(await update(segment.uuid, { enabled: false }, "1.2"), updatedView(segment, { enabled: false }), "1.2");
    expect((await segmentRow(segment.uuid))?.enabled).toBe(0);
  });

  it.each([
    ["false", true, false],
    ["no", true, false],
    ["False", true, false],
    ["0", true, false],
    ["OFF", true, false],
    ["yes", false, true],
    ["true", false, true],
    ["1", false, true],
    ["On", false, true],
  ])(
    "D4: enabled=%j at 1.2 is converted strictly (from %s to %s; upstream: any string is true)",
    async (given, from, to) => {
      const segment = await createSegment({ enabled: from });
      expect(segment.enabled).toBe(from);
      expectOk(await update(segment.uuid, { enabled: given }, "1.2"), updatedView(segment, { enabled: to }), "1.2");
      expect((await segmentRow(segment.uuid))?.enabled).toBe(to ? 1 : 0);
    },
  );

  it('enabled="maybe" at 1.2 is refused and nothing changes', async () => {
    const segment = await createSegment();
    const before = await segmentRow(segment.uuid);
    expectFault(
      await update(segment.uuid, { enabled: "maybe" }, "1.2"),
      400,
      "badRequest",
      `Invalid input for field/attribute enabled. Value: maybe. 'maybe' is not one of ${BOOLEAN_ENUM}`,
      "1.2",
    );
    expect(await segmentRow(segment.uuid)).toEqual(before);
  });

  it("#95 enabled at 1.0 is an unexpected property and nothing changes", async () => {
    const segment = await createSegment({ enabled: false });
    const before = await segmentRow(segment.uuid);
    expectFault(
      await update(segment.uuid, { enabled: true }),
      400,
      "badRequest",
      "Invalid input for field/attribute segment. Value: {'enabled': True}. Additional properties are not allowed ('enabled' was unexpected)",
    );
    expect(await segmentRow(segment.uuid)).toEqual(before);
  });

  it("#96 an empty segment object matches none of the anyOf schemas", async () => {
    const segment = await createSegment();
    const before = await segmentRow(segment.uuid);
    expectFault(
      await update(segment.uuid, {}),
      400,
      "badRequest",
      "Invalid input for field/attribute segment. Value: {}. {} is not valid under any of the given schemas",
    );
    expect(await segmentRow(segment.uuid)).toEqual(before);
  });

  it("#97 an extra field is refused and nothing changes", async () => {
    const segment = await createSegment();
    const before = await segmentRow(segment.uuid);
    expectFault(
      await update(segment.uuid, { name: "seg-b3", color: "red" }),
      400,
      "badRequest",
      "Invalid input for field/attribute segment. Value: {'name': 'seg-b3', 'color': 'red'}. Additional properties are not allowed ('color' was unexpected)",
    );
    expect(await segmentRow(segment.uuid)).toEqual(before);
  });

  it("#98 a bad recovery_method is refused and nothing changes", async () => {
    const segment = await createSegment();
    const before = await segmentRow(segment.uuid);
    expectFault(
      await update(segment.uuid, { recovery_method: "manual" }),
      400,
      "badRequest",
      "Invalid input for field/attribute recovery_method. Value: manual. 'manual' is not one of ['auto', 'reserved_host', 'auto_priority', 'rh_priority']",
    );
    expect(await segmentRow(segment.uuid)).toEqual(before);
  });

  it("a name with a leading space is refused with the InvalidName message", async () => {
    const segment = await createSegment();
    const before = await segmentRow(segment.uuid);
    expectFault(await update(segment.uuid, { name: " x" }), 400, "badRequest", INVALID_NAME);
    expect(await segmentRow(segment.uuid)).toEqual(before);
  });

  it("#99 a name another live segment has is 409 and nothing changes", async () => {
    const taken = await createSegment();
    const segment = await createSegment();
    const before = await segmentRow(segment.uuid);
    expectFault(
      await update(segment.uuid, { name: taken.name, description: "x" }),
      409,
      "conflictingRequest",
      `Failover segment with name ${taken.name} already exists.`,
    );
    expect(await segmentRow(segment.uuid)).toEqual(before);
  });

  it("the name of a deleted segment can be taken by a rename", async () => {
    const gone = await createSegment();
    expect((await del(`/v1/segments/${gone.uuid}`)).status).toBe(204);
    const segment = await createSegment();
    expectOk(await update(segment.uuid, { name: gone.name }), updatedView(segment, { name: gone.name }));
  });

  it("#100 renaming a segment to its own name is fine and, changing nothing, keeps updated_at null", async () => {
    const segment = await createSegment();
    expectOk(await update(segment.uuid, { name: segment.name }), { segment });
    expect((await segmentRow(segment.uuid))?.updated_at).toBeNull();
  });

  it("an update that changes nothing keeps updated_at as it was", async () => {
    const segment = await createSegment({ description: "same" });
    await touchLongAgo(segment.uuid);
    const res = await update(segment.uuid, { description: "same", recovery_method: "auto", service_type: "COMPUTE" });
    expectOk(res, { segment: { ...segment, updated_at: LONG_AGO.replace(" ", "T") } });
    expect((await segmentRow(segment.uuid))?.updated_at).toBe(LONG_AGO);
  });

  it("description null on a segment without one changes nothing", async () => {
    const segment = await createSegment();
    expectOk(await update(segment.uuid, { description: null }), { segment });
    expect((await segmentRow(segment.uuid))?.updated_at).toBeNull();
  });

  it("enabled=true at 1.2 on an enabled segment changes nothing", async () => {
    const segment = await createSegment();
    expectOk(await update(segment.uuid, { enabled: true }, "1.2"), { segment }, "1.2");
    expect((await segmentRow(segment.uuid))?.updated_at).toBeNull();
  });

  it("D3: the current recovery_method in upper case changes nothing", async () => {
    const segment = await createSegment({ recovery_method: "auto_priority" });
    expectOk(await update(segment.uuid, { recovery_method: "AUTO_PRIORITY" }), { segment });
    expect((await segmentRow(segment.uuid))?.updated_at).toBeNull();
  });

  it("an update that changes a value moves updated_at from its old value to now", async () => {
    const segment = await createSegment({ description: "old" });
    await touchLongAgo(segment.uuid);
    const res = await update(segment.uuid, { description: "new" });
    expectOk(res, updatedView(segment, { description: "new" }));
    const stored = await segmentRow(segment.uuid);
    expect(stored?.updated_at).not.toBe(LONG_AGO);
    expect(age(String(stored?.updated_at))).toBeLessThan(120);
  });

  it("#101 an unknown uuid with a valid body is 404", async () => {
    expectFault(await update(UNKNOWN_UUID, { name: "zzz" }), 404, "itemNotFound", notFound(UNKNOWN_UUID));
  });

  it("a non-uuid id with a valid body is 404", async () => {
    expectFault(await update("abc", { name: "zzz" }), 404, "itemNotFound", notFound("abc"));
  });

  it("#102 an unknown uuid with an invalid body is 400: the body is validated first", async () => {
    expectFault(
      await update(UNKNOWN_UUID, {}),
      400,
      "badRequest",
      "Invalid input for field/attribute segment. Value: {}. {} is not valid under any of the given schemas",
    );
  });

  it("a deleted segment cannot be updated: 404", async () => {
    const segment = await createSegment();
    expect((await del(`/v1/segments/${segment.uuid}`)).status).toBe(204);
    expectFault(await update(segment.uuid, { description: "x" }), 404, "itemNotFound", notFound(segment.uuid));
  });
});

describe("methods no route takes (#103-#107)", () => {
  const ROUTE_MISS = {
    status: 404,
    headers: {
      "content-type": "application/json; charset=UTF-8",
      "openstack-api-version": null,
      vary: null,
      requestId: true,
    },
    body: fault("itemNotFound", 404, "The resource could not be found."),
  };
  const asSeen = (res: Exchange) => ({ status: res.status, headers: v1Headers(res), body: res.json });

  it("#103 D7: PATCH on a segment is the JSON 404 and changes nothing", async () => {
    const segment = await createSegment();
    const before = await segmentRow(segment.uuid);
    expect(
      asSeen(await call("PATCH", `/v1/segments/${segment.uuid}`, { body: { segment: { name: "seg-b3" } } })),
    ).toEqual(ROUTE_MISS);
    expect(await segmentRow(segment.uuid)).toEqual(before);
  });

  it("#104 D7: PUT on the collection is the JSON 404 and changes nothing", async () => {
    const segment = await createSegment();
    const before = await segmentRow(segment.uuid);
    expect(asSeen(await put("/v1/segments", { segment: { name: "x" } }))).toEqual(ROUTE_MISS);
    expect(await segmentRow(segment.uuid)).toEqual(before);
  });

  it("#105 D7: DELETE on the collection is the JSON 404 and deletes nothing", async () => {
    const segment = await createSegment();
    expect(asSeen(await del("/v1/segments"))).toEqual(ROUTE_MISS);
    expect((await segmentRow(segment.uuid))?.deleted).toBe(0);
  });

  it("#106 D7: POST to a segment is the JSON 404 and changes nothing", async () => {
    const segment = await createSegment();
    const before = await segmentRow(segment.uuid);
    expect(asSeen(await post(`/v1/segments/${segment.uuid}`, { segment: { name: "x" } }))).toEqual(ROUTE_MISS);
    expect(await segmentRow(segment.uuid)).toEqual(before);
  });

  it("#107 POST segment action is 405 and changes nothing", async () => {
    const segment = await createSegment();
    const before = await segmentRow(segment.uuid);
    expectFault(
      await post(`/v1/segments/${segment.uuid}/action`, { x: null }),
      405,
      "badMethod",
      "The request method: 'POST' with action: 'action' is not allowed on this resource",
    );
    expect(await segmentRow(segment.uuid)).toEqual(before);
  });
});

describe("delete (#108-#114)", () => {
  it("#108 an unknown uuid is 404", async () => {
    expectFault(await del(`/v1/segments/${UNKNOWN_UUID}`), 404, "itemNotFound", notFound(UNKNOWN_UUID));
  });

  it("#109 a non-uuid id is 404", async () => {
    expectFault(await del("/v1/segments/abc"), 404, "itemNotFound", notFound("abc"));
  });

  it("#110 delete answers 204 with an empty body and soft-deletes: deleted = id, deleted_at now", async () => {
    const segment = await createSegment({ recovery_method: "rh_priority", description: "to go" });
    await touchLongAgo(segment.uuid);
    const before = await segmentRow(segment.uuid);
    const res = await del(`/v1/segments/${segment.uuid}`);
    expect({ status: res.status, text: res.text, headers: v1Headers(res) }).toEqual({
      status: 204,
      text: "",
      headers: successHeaders("1.0"),
    });
    const after = await segmentRow(segment.uuid);
    // Only deleted and deleted_at move; updated_at stays as it was.
    expect(after).toEqual({ ...before, deleted: segment.id, deleted_at: expect.stringMatching(DB_TIMESTAMP_MICROS) });
    expect(age(String(after?.deleted_at))).toBeLessThan(120);
  });

  it("#111 deleting it again is 404", async () => {
    const segment = await createSegment();
    expect((await del(`/v1/segments/${segment.uuid}`)).status).toBe(204);
    const before = await segmentRow(segment.uuid);
    expectFault(await del(`/v1/segments/${segment.uuid}`), 404, "itemNotFound", notFound(segment.uuid));
    expect(await segmentRow(segment.uuid)).toEqual(before);
  });

  it("#112 a deleted segment is not shown", async () => {
    const segment = await createSegment();
    expect((await del(`/v1/segments/${segment.uuid}`)).status).toBe(204);
    expectFault(await show(segment.uuid), 404, "itemNotFound", notFound(segment.uuid));
  });

  it("#113 the name of a deleted segment can be reused", async () => {
    const segment = await createSegment();
    expect((await del(`/v1/segments/${segment.uuid}`)).status).toBe(204);
    const res = await post("/v1/segments", {
      segment: { name: segment.name, recovery_method: "auto", service_type: "COMPUTE" },
    });
    expect({ status: res.status, headers: v1Headers(res), name: res.json?.segment?.name }).toEqual({
      status: 202,
      headers: successHeaders("1.0"),
      name: segment.name,
    });
    expect(res.json.segment.uuid).not.toBe(segment.uuid);
    expect(await sql("SELECT id, deleted FROM failover_segments WHERE name = ? ORDER BY id", segment.name)).toEqual([
      { id: segment.id, deleted: segment.id },
      { id: res.json.segment.id, deleted: 0 },
    ]);
  });

  it("#114 the list after delete and re-create shows the new segment, not the deleted one", async () => {
    const serviceType = unique("LIST");
    const first = await createSegment({ service_type: serviceType });
    const second = await createSegment({ service_type: serviceType });
    expect((await del(`/v1/segments/${second.uuid}`)).status).toBe(204);
    const again = await createSegment({ name: second.name, service_type: serviceType });
    expectOk(await get(`/v1/segments?service_type=${serviceType}`), { segments: [again, first] });
  });

  it("delete soft-deletes the segment's live hosts, and only those", async () => {
    const segment = await createSegment();
    const other = await createSegment();
    const insertHost = async (segmentUuid: string) => {
      const uuid = crypto.randomUUID();
      await sql(
        `INSERT INTO hosts (created_at, deleted, uuid, name, reserved, type, control_attributes, failover_segment_id, on_maintenance)
         VALUES ('2026-01-01 10:00:00.000000', 0, ?, ?, 0, 'COMPUTE', 'SSH', ?, 0)`,
        uuid,
        unique("host"),
        segmentUuid,
      );
      return uuid;
    };
    const live1 = await insertHost(segment.uuid);
    const live2 = await insertHost(segment.uuid);
    const gone = await insertHost(segment.uuid);
    await sql("UPDATE hosts SET deleted = id, deleted_at = ? WHERE uuid = ?", "2025-01-01 00:00:00.123456", gone);
    const elsewhere = await insertHost(other.uuid);
    const before = Object.fromEntries(
      await Promise.all([live1, live2, gone, elsewhere].map(async (h) => [h, await row("hosts", "uuid", h)])),
    );

    expect((await del(`/v1/segments/${segment.uuid}`)).status).toBe(204);

    for (const h of [live1, live2]) {
      const after = await row("hosts", "uuid", h);
      expect(after).toEqual({
        ...before[h],
        deleted: before[h].id,
        deleted_at: expect.stringMatching(DB_TIMESTAMP_MICROS),
      });
      expect(age(String(after?.deleted_at))).toBeLessThan(120);
    }
    expect(await row("hosts", "uuid", gone)).toEqual(before[gone]);
    expect(await row("hosts", "uuid", elsewhere)).toEqual(before[elsewhere]);
    expect((await segmentRow(other.uuid))?.deleted).toBe(0);
  });

  it("a refused delete (unknown segment) touches no host", async () => {
    const segment = await createSegment();
    const uuid = crypto.randomUUID();
    await sql(
      `INSERT INTO hosts (created_at, deleted, uuid, name, reserved, type, control_attributes, failover_segment_id, on_maintenance)
       VALUES ('2026-01-01 10:00:00.000000', 0, ?, ?, 0, 'COMPUTE', 'SSH', ?, 0)`,
      uuid,
      unique("host"),
      segment.uuid,
    );
    const before = await row("hosts", "uuid", uuid);
    expect((await del(`/v1/segments/${UNKNOWN_UUID}`)).status).toBe(404);
    expect(await row("hosts", "uuid", uuid)).toEqual(before);
  });
});
