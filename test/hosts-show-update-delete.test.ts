import { beforeAll, describe, expect, it } from "vitest";
import {
  BOOLEAN_ENUM,
  createHost,
  createSegment,
  DB_TIMESTAMP,
  DB_TIMESTAMP_MICROS,
  del,
  type Exchange,
  expectFault,
  expectOk,
  get,
  hostNotUnder,
  INVALID_NAME,
  type Json,
  post,
  put,
  row,
  sql,
  storedHostRow,
  successHeaders,
  TIMESTAMP,
  UNKNOWN_UUID,
  unique,
  v1Headers,
} from "./helpers";

// GET, PUT and DELETE /v1/segments/{segment_id}/hosts/{host_id}: exchanges
// #147-#161 and #220-#221, updated_at on real changes only, soft delete
// (docs/upstream.md, "Soft delete") and the deviation D6 on update.

const PAST = "2020-01-02 03:04:05.000000";

const hostsPath = (segment: Json) => `/v1/segments/${segment.uuid}/hosts`;
const hostPath = (segment: Json, host: Json | string) =>
  `${hostsPath(segment)}/${typeof host === "string" ? host : host.uuid}`;
const update = (segment: Json, host: Json | string, changes: unknown, version?: string) =>
  put(hostPath(segment, host), { host: changes }, { version });

const hostRow = (host: Json) => row("hosts", "uuid", host.uuid);

/** Asserts a 200 update whose host is `before` with `changes` and a fresh updated_at, and its row. */
async function expectUpdated(res: Exchange, before: Json, changes: Record<string, unknown>, version = "1.0") {
  expectOk(res, { host: { ...before, ...changes, updated_at: expect.stringMatching(TIMESTAMP) } }, version);
  const host = res.json.host;
  expect(Math.abs(Date.parse(`${host.updated_at}Z`) - Date.now())).toBeLessThan(120_000);
  expect(await hostRow(host)).toEqual(storedHostRow(host));
  return host;
}

// The catalogue's data: seg-a with compute1 and compute2 (reserved="True"),
// seg-b2 with compute3 (on_maintenance=true).
let segA: Json;
let segB: Json;
let compute1: Json;
let compute3: Json;

beforeAll(async () => {
  segA = await createSegment({ name: unique("seg-a") });
  segB = await createSegment({ name: unique("seg-b2") });
  compute1 = await createHost(segA.uuid, { name: unique("compute1") });
  await createHost(segA.uuid, { name: unique("compute2"), reserved: "True", on_maintenance: false });
  compute3 = await createHost(segB.uuid, { name: unique("compute3"), on_maintenance: true });
});

describe("show (#147-#150)", () => {
  it("#147 a host is shown as it was created", async () => {
    expectOk(await get(hostPath(segA, compute1)), { host: compute1 });
  });

  it("a host on maintenance is shown with on_maintenance true", async () => {
    expectOk(await get(hostPath(segB, compute3)), { host: { ...compute3, on_maintenance: true } });
  });

  it("show at 1.2 answers with the masakari 1.2 header", async () => {
    expectOk(await get(hostPath(segA, compute1), { version: "1.2" }), { host: compute1 }, "1.2");
  });

  it("#148 a host shown through the wrong segment is 404", async () => {
    expectFault(await get(hostPath(segB, compute1)), 404, "itemNotFound", hostNotUnder(compute1.uuid, segB.uuid));
  });

  it("#149 an unknown host is 404", async () => {
    expectFault(await get(hostPath(segA, UNKNOWN_UUID)), 404, "itemNotFound", hostNotUnder(UNKNOWN_UUID, segA.uuid));
  });

  it("#150 a non-uuid host id on show is 'No host with id'", async () => {
    expectFault(await get(hostPath(segA, "compute1")), 404, "itemNotFound", "No host with id compute1.");
  });

  it("a host's integer id on show is 'No host with id'", async () => {
    expectFault(await get(hostPath(segA, String(compute1.id))), 404, "itemNotFound", `No host with id ${compute1.id}.`);
  });

  it("a host under an unknown segment is 404 with the host message", async () => {
    expectFault(
      await get(`/v1/segments/${UNKNOWN_UUID}/hosts/${compute1.uuid}`),
      404,
      "itemNotFound",
      hostNotUnder(compute1.uuid, UNKNOWN_UUID),
    );
  });

  it("a host under a non-uuid segment is 404 with the host message", async () => {
    expectFault(
      await get(`/v1/segments/abc/hosts/${compute1.uuid}`),
      404,
      "itemNotFound",
      hostNotUnder(compute1.uuid, "abc"),
    );
  });

  it("the 404 carries the request's microversion", async () => {
    expectFault(
      await get(hostPath(segA, UNKNOWN_UUID), { version: "1.1" }),
      404,
      "itemNotFound",
      hostNotUnder(UNKNOWN_UUID, segA.uuid),
      "1.1",
    );
  });

  it("the embedded failover_segment is the segment as it is now", async () => {
    const segment = await createSegment({ name: unique("seg-now") });
    const host = await createHost(segment.uuid);
    const renamed = await put(`/v1/segments/${segment.uuid}`, {
      segment: { name: unique("seg-renamed"), description: "now" },
    });
    expect(renamed.status).toBe(200);
    const now = renamed.json.segment;
    expect(now.updated_at).toMatch(TIMESTAMP);
    expectOk(await get(hostPath(segment, host)), { host: { ...host, failover_segment: now } });
  });
});

describe("update (#151-#158)", () => {
  it('#151 reserved="false" and on_maintenance="yes" are converted strictly', async () => {
    const host = await createHost(segA.uuid, { reserved: "True", on_maintenance: false });
    const res = await update(segA, host, { reserved: "false", on_maintenance: "yes" });
    await expectUpdated(res, host, { reserved: false, on_maintenance: true });
  });

  it.each([
    ["True", true],
    ["TRUE", true],
    ["1", true],
    ["ON", true],
    ["Yes", true],
    [true, true],
    ["False", false],
    ["FALSE", false],
    ["0", false],
    ["Off", false],
    ["NO", false],
    [false, false],
  ])("on_maintenance=%j on update is stored as %s", async (value, stored) => {
    const host = await createHost(segA.uuid, { on_maintenance: !stored });
    const res = await update(segA, host, { on_maintenance: value });
    await expectUpdated(res, host, { on_maintenance: stored });
  });

  it("#152 a host is renamed", async () => {
    const host = await createHost(segA.uuid);
    const name = unique("compute2b");
    const res = await update(segA, host, { name });
    await expectUpdated(res, host, { name });
  });

  it("type and control_attributes are updated", async () => {
    const host = await createHost(segA.uuid);
    const res = await update(segA, host, { type: "CONTROLLER", control_attributes: "TCP\nport 22" });
    await expectUpdated(res, host, { type: "CONTROLLER", control_attributes: "TCP\nport 22" });
  });

  it("an empty type is accepted on update", async () => {
    const host = await createHost(segA.uuid);
    const res = await update(segA, host, { type: "" });
    await expectUpdated(res, host, { type: "" });
  });

  it("every field at once is updated", async () => {
    const host = await createHost(segA.uuid);
    const changes = {
      name: unique("compute-all"),
      type: "CONTROLLER",
      control_attributes: "TCP",
      reserved: true,
      on_maintenance: true,
    };
    const res = await update(segA, host, changes);
    await expectUpdated(res, host, changes);
  });

  it("an update at 1.2 answers with the masakari 1.2 header", async () => {
    const host = await createHost(segA.uuid);
    const res = await update(segA, host, { reserved: true }, "1.2");
    await expectUpdated(res, host, { reserved: true }, "1.2");
  });

  it("the update is seen by a later show", async () => {
    const host = await createHost(segA.uuid);
    const updated = await expectUpdated(await update(segA, host, { control_attributes: "IPMI" }), host, {
      control_attributes: "IPMI",
    });
    expectOk(await get(hostPath(segA, host)), { host: updated });
  });

  it("#153 a rename to a duplicate name is 409 and the row is unchanged", async () => {
    const host = await createHost(segA.uuid);
    const before = await hostRow(host);
    expectFault(
      await update(segA, host, { name: compute1.name }),
      409,
      "conflictingRequest",
      `Host with name ${compute1.name} already exists.`,
    );
    expect(await hostRow(host)).toEqual(before);
  });

  it("a rename to the name of a host of another segment is 409", async () => {
    const host = await createHost(segA.uuid);
    const before = await hostRow(host);
    expectFault(
      await update(segA, host, { name: compute3.name, reserved: true }),
      409,
      "conflictingRequest",
      `Host with name ${compute3.name} already exists.`,
    );
    expect(await hostRow(host)).toEqual(before);
  });

  it("a rename to its own name is accepted and changes nothing", async () => {
    const host = await createHost(segA.uuid);
    expectOk(await update(segA, host, { name: host.name }), { host });
    expect(await hostRow(host)).toEqual(storedHostRow(host));
  });

  it("#155 an empty host object is refused and the row is unchanged", async () => {
    const host = await createHost(segA.uuid);
    expectFault(
      await update(segA, host, {}),
      400,
      "badRequest",
      "Invalid input for field/attribute host. Value: {}. {} is not valid under any of the given schemas",
    );
    expect(await hostRow(host)).toEqual(storedHostRow(host));
  });

  it("#156 a type with a space is refused", async () => {
    const host = await createHost(segA.uuid);
    expectFault(
      await update(segA, host, { type: "A B" }),
      400,
      "badRequest",
      "Invalid input for field/attribute type. Value: A B. 'A B' does not match '^[a-zA-Z0-9]*$'",
    );
    expect(await hostRow(host)).toEqual(storedHostRow(host));
  });

  it("an extra field is refused", async () => {
    const host = await createHost(segA.uuid);
    expectFault(
      await update(segA, host, { reserved: true, foo: 1 }),
      400,
      "badRequest",
      "Invalid input for field/attribute host. Value: {'reserved': True, 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)",
    );
    expect(await hostRow(host)).toEqual(storedHostRow(host));
  });

  it("only an extra field is reported as unexpected, before the anyOf", async () => {
    const host = await createHost(segA.uuid);
    expectFault(
      await update(segA, host, { foo: 1 }),
      400,
      "badRequest",
      "Invalid input for field/attribute host. Value: {'foo': 1}. Additional properties are not allowed ('foo' was unexpected)",
    );
  });

  it("a host cannot be moved: failover_segment_id is not accepted", async () => {
    const host = await createHost(segA.uuid);
    expectFault(
      await update(segA, host, { failover_segment_id: segB.uuid }),
      400,
      "badRequest",
      `Invalid input for field/attribute host. Value: {'failover_segment_id': '${segB.uuid}'}. Additional properties are not allowed ('failover_segment_id' was unexpected)`,
    );
    expect(await hostRow(host)).toEqual(storedHostRow(host));
  });

  it("an update without the host wrapper is refused", async () => {
    const host = await createHost(segA.uuid);
    expectFault(
      await put(hostPath(segA, host), { reserved: true }),
      400,
      "badRequest",
      "'host' is a required property",
    );
  });

  it('reserved="maybe" on update is not one of the boolean values', async () => {
    const host = await createHost(segA.uuid);
    expectFault(
      await update(segA, host, { reserved: "maybe" }),
      400,
      "badRequest",
      `Invalid input for field/attribute reserved. Value: maybe. 'maybe' is not one of ${BOOLEAN_ENUM}`,
    );
  });

  it('on_maintenance="y" on update is not one of the boolean values', async () => {
    const host = await createHost(segA.uuid);
    expectFault(
      await update(segA, host, { on_maintenance: "y" }),
      400,
      "badRequest",
      `Invalid input for field/attribute on_maintenance. Value: y. 'y' is not one of ${BOOLEAN_ENUM}`,
    );
  });

  it("on_maintenance=1 (a number) on update is neither boolean nor string", async () => {
    const host = await createHost(segA.uuid);
    expectFault(
      await update(segA, host, { on_maintenance: 1 }),
      400,
      "badRequest",
      "Invalid input for field/attribute on_maintenance. Value: 1. 1 is not of type 'boolean', 'string'",
    );
  });

  it("an empty name on update is too short", async () => {
    const host = await createHost(segA.uuid);
    expectFault(
      await update(segA, host, { name: "" }),
      400,
      "badRequest",
      "Invalid input for field/attribute name. Value: . '' is too short",
    );
  });

  it("a name with a leading space on update is an invalid name", async () => {
    const host = await createHost(segA.uuid);
    expectFault(await update(segA, host, { name: " compute" }), 400, "badRequest", INVALID_NAME);
    expect(await hostRow(host)).toEqual(storedHostRow(host));
  });

  it("type 5 on update keeps upstream's nullable-string message", async () => {
    const host = await createHost(segA.uuid);
    expectFault(
      await update(segA, host, { type: 5 }),
      400,
      "badRequest",
      "Invalid input for field/attribute type. Value: 5. 5 is not of type 'string', 'null'",
    );
  });

  it("D6: type null on update is 400 (upstream 500) and the row is unchanged", async () => {
    const host = await createHost(segA.uuid);
    expectFault(
      await update(segA, host, { type: null }),
      400,
      "badRequest",
      "Invalid input for field/attribute type. Value: None. None is not of type 'string'",
    );
    expect(await hostRow(host)).toEqual(storedHostRow(host));
  });

  it("D6: control_attributes null on update is 400 (upstream 500) and the row is unchanged", async () => {
    const host = await createHost(segA.uuid);
    expectFault(
      await update(segA, host, { control_attributes: null }),
      400,
      "badRequest",
      "Invalid input for field/attribute control_attributes. Value: None. None is not of type 'string'",
    );
    expect(await hostRow(host)).toEqual(storedHostRow(host));
  });

  it("#157 an update of an unknown host is 404", async () => {
    expectFault(
      await update(segA, UNKNOWN_UUID, { name: "x" }),
      404,
      "itemNotFound",
      hostNotUnder(UNKNOWN_UUID, segA.uuid),
    );
  });

  it("#158 an update through the wrong segment is 404 and the row is unchanged", async () => {
    const before = await hostRow(compute1);
    expectFault(
      await update(segB, compute1, { name: "x" }),
      404,
      "itemNotFound",
      hostNotUnder(compute1.uuid, segB.uuid),
    );
    expect(await hostRow(compute1)).toEqual(before);
  });

  it("a non-uuid host id on update gets the 'under failover_segment' message", async () => {
    expectFault(
      await update(segA, "compute1", { reserved: true }),
      404,
      "itemNotFound",
      hostNotUnder("compute1", segA.uuid),
    );
  });

  it("an update under an unknown segment is 404 with the host message", async () => {
    expectFault(
      await put(`/v1/segments/${UNKNOWN_UUID}/hosts/${compute1.uuid}`, { host: { reserved: true } }),
      404,
      "itemNotFound",
      hostNotUnder(compute1.uuid, UNKNOWN_UUID),
    );
  });

  it("the body is validated before the host is looked up", async () => {
    expectFault(
      await update(segA, UNKNOWN_UUID, {}),
      400,
      "badRequest",
      "Invalid input for field/attribute host. Value: {}. {} is not valid under any of the given schemas",
    );
  });

  it("an update of a deleted host is 404", async () => {
    const host = await createHost(segA.uuid);
    expect((await del(hostPath(segA, host))).status).toBe(204);
    expectFault(await update(segA, host, { reserved: true }), 404, "itemNotFound", hostNotUnder(host.uuid, segA.uuid));
  });
});

describe("updated_at", () => {
  it("a new host has no updated_at", async () => {
    const host = await createHost(segA.uuid);
    expect(host.updated_at).toBeNull();
    expect((await hostRow(host))?.updated_at).toBeNull();
  });

  it("a real change sets updated_at to now (seconds precision) and keeps created_at", async () => {
    const host = await createHost(segA.uuid);
    const res = await update(segA, host, { reserved: true });
    const updated = await expectUpdated(res, host, { reserved: true });
    expect(updated.created_at).toBe(host.created_at);
    expect((await hostRow(host))?.updated_at).toMatch(DB_TIMESTAMP);
  });

  it("an update that changes nothing leaves a null updated_at null", async () => {
    const host = await createHost(segA.uuid, { reserved: false });
    expectOk(await update(segA, host, { reserved: false, type: "COMPUTE", control_attributes: "SSH" }), { host });
    expect(await hostRow(host)).toEqual(storedHostRow(host));
  });

  it("an update that changes nothing leaves an earlier updated_at as it was", async () => {
    const host = await createHost(segA.uuid, { on_maintenance: true });
    await sql("UPDATE hosts SET updated_at = ? WHERE uuid = ?", PAST, host.uuid);
    const before = await hostRow(host);
    expectOk(await update(segA, host, { on_maintenance: "yes", name: host.name }), {
      host: { ...host, updated_at: PAST.replace(" ", "T") },
    });
    expect(await hostRow(host)).toEqual(before);
  });

  it("a real change replaces an earlier updated_at", async () => {
    const host = await createHost(segA.uuid);
    await sql("UPDATE hosts SET updated_at = ? WHERE uuid = ?", PAST, host.uuid);
    const res = await update(segA, host, { type: "CONTROLLER" });
    const updated = await expectUpdated(res, host, { type: "CONTROLLER" });
    expect(updated.updated_at).not.toBe(PAST.replace(" ", "T"));
  });

  it("a change in one field among unchanged ones sets updated_at", async () => {
    const host = await createHost(segA.uuid);
    const res = await update(segA, host, { name: host.name, type: "COMPUTE", control_attributes: "changed" });
    await expectUpdated(res, host, { control_attributes: "changed" });
  });
});

describe("delete (#159-#161) and soft delete", () => {
  it("#159-#160 a host is deleted with 204, an empty body and success headers", async () => {
    const host = await createHost(segA.uuid, { name: unique("compute9") });
    const res = await del(hostPath(segA, host));
    expect({ status: res.status, headers: v1Headers(res), text: res.text }).toEqual({
      status: 204,
      headers: successHeaders(),
      text: "",
    });
  });

  it("#160 the deleted row keeps its values, with deleted = id and deleted_at set, updated_at untouched", async () => {
    const host = await createHost(segA.uuid);
    expect((await del(hostPath(segA, host))).status).toBe(204);
    const stored = await hostRow(host);
    expect(stored).toEqual({
      ...storedHostRow(host),
      deleted: host.id,
      deleted_at: expect.stringMatching(DB_TIMESTAMP_MICROS),
    });
    expect(Math.abs(Date.parse(`${String(stored?.deleted_at).replace(" ", "T")}Z`) - Date.now())).toBeLessThan(120_000);
  });

  it("#161 deleting it again is 404", async () => {
    const host = await createHost(segA.uuid);
    expect((await del(hostPath(segA, host))).status).toBe(204);
    const before = await hostRow(host);
    expectFault(await del(hostPath(segA, host)), 404, "itemNotFound", hostNotUnder(host.uuid, segA.uuid));
    expect(await hostRow(host)).toEqual(before);
  });

  it("a deleted host is no longer shown", async () => {
    const host = await createHost(segA.uuid);
    expect((await del(hostPath(segA, host))).status).toBe(204);
    expectFault(await get(hostPath(segA, host)), 404, "itemNotFound", hostNotUnder(host.uuid, segA.uuid));
  });

  it("a deleted host's name can be reused", async () => {
    const host = await createHost(segA.uuid);
    expect((await del(hostPath(segA, host))).status).toBe(204);
    const res = await post(hostsPath(segB), { host: { name: host.name, type: "COMPUTE", control_attributes: "SSH" } });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 201,
      headers: successHeaders(),
      body: {
        host: {
          ...host,
          id: expect.any(Number),
          uuid: expect.any(String),
          failover_segment_id: segB.uuid,
          failover_segment: segB,
          created_at: expect.stringMatching(TIMESTAMP),
        },
      },
    });
    expect(res.json.host.uuid).not.toBe(host.uuid);
    const rows = await sql("SELECT uuid, deleted FROM hosts WHERE name = ? ORDER BY id", host.name);
    expect(rows).toEqual([
      { uuid: host.uuid, deleted: host.id },
      { uuid: res.json.host.uuid, deleted: 0 },
    ]);
  });

  it("a rename to a deleted host's name is accepted", async () => {
    const gone = await createHost(segA.uuid);
    expect((await del(hostPath(segA, gone))).status).toBe(204);
    const host = await createHost(segA.uuid);
    await expectUpdated(await update(segA, host, { name: gone.name }), host, { name: gone.name });
  });

  it("a delete of an unknown host is 404", async () => {
    expectFault(await del(hostPath(segA, UNKNOWN_UUID)), 404, "itemNotFound", hostNotUnder(UNKNOWN_UUID, segA.uuid));
  });

  it("a delete through the wrong segment is 404 and the row is unchanged", async () => {
    const before = await hostRow(compute1);
    expectFault(await del(hostPath(segB, compute1)), 404, "itemNotFound", hostNotUnder(compute1.uuid, segB.uuid));
    expect(await hostRow(compute1)).toEqual(before);
  });

  it("a non-uuid host id on delete gets the 'under failover_segment' message", async () => {
    expectFault(await del(hostPath(segA, "compute1")), 404, "itemNotFound", hostNotUnder("compute1", segA.uuid));
  });

  it("a delete under an unknown segment is 404 with the host message", async () => {
    expectFault(
      await del(`/v1/segments/${UNKNOWN_UUID}/hosts/${compute1.uuid}`),
      404,
      "itemNotFound",
      hostNotUnder(compute1.uuid, UNKNOWN_UUID),
    );
  });

  it("a delete leaves the other hosts of the segment alone", async () => {
    const segment = await createSegment({ name: unique("seg-two") });
    const kept = await createHost(segment.uuid);
    const gone = await createHost(segment.uuid);
    expect((await del(hostPath(segment, gone))).status).toBe(204);
    expect(await hostRow(kept)).toEqual(storedHostRow(kept));
  });
});

describe("deleting a segment (#220-#221)", () => {
  it("#220 deleting a segment soft-deletes its hosts in D1", async () => {
    const segment = await createSegment({ name: unique("seg-b2") });
    const first = await createHost(segment.uuid);
    const second = await createHost(segment.uuid, { on_maintenance: true });
    expect((await del(`/v1/segments/${segment.uuid}`)).status).toBe(204);
    for (const host of [first, second]) {
      expect(await hostRow(host)).toEqual({
        ...storedHostRow(host),
        deleted: host.id,
        deleted_at: expect.stringMatching(DB_TIMESTAMP_MICROS),
      });
    }
  });

  it("#221 the host of a deleted segment is 404", async () => {
    const segment = await createSegment({ name: unique("seg-b2") });
    const host = await createHost(segment.uuid);
    expect((await del(`/v1/segments/${segment.uuid}`)).status).toBe(204);
    expectFault(await get(hostPath(segment, host)), 404, "itemNotFound", hostNotUnder(host.uuid, segment.uuid));
  });

  it("the host of a deleted segment can be neither updated nor deleted", async () => {
    const segment = await createSegment({ name: unique("seg-b2") });
    const host = await createHost(segment.uuid);
    expect((await del(`/v1/segments/${segment.uuid}`)).status).toBe(204);
    const before = await hostRow(host);
    expectFault(
      await update(segment, host, { reserved: true }),
      404,
      "itemNotFound",
      hostNotUnder(host.uuid, segment.uuid),
    );
    expectFault(await del(hostPath(segment, host)), 404, "itemNotFound", hostNotUnder(host.uuid, segment.uuid));
    expect(await hostRow(host)).toEqual(before);
  });

  it("deleting a segment leaves the hosts of other segments alone", async () => {
    const segment = await createSegment({ name: unique("seg-gone") });
    await createHost(segment.uuid);
    const other = await createSegment({ name: unique("seg-kept") });
    const kept = await createHost(other.uuid);
    expect((await del(`/v1/segments/${segment.uuid}`)).status).toBe(204);
    expect(await hostRow(kept)).toEqual(storedHostRow(kept));
    expectOk(await get(hostPath(other, kept)), { host: kept });
  });

  it("the names of a deleted segment's hosts can be reused", async () => {
    const segment = await createSegment({ name: unique("seg-gone") });
    const host = await createHost(segment.uuid);
    expect((await del(`/v1/segments/${segment.uuid}`)).status).toBe(204);
    const res = await post(hostsPath(segA), { host: { name: host.name, type: "COMPUTE", control_attributes: "SSH" } });
    expect(res.status).toBe(201);
    expect(res.json.host.name).toBe(host.name);
  });

  it("a host deleted earlier keeps its own deleted_at when its segment is deleted", async () => {
    const segment = await createSegment({ name: unique("seg-gone") });
    const early = await createHost(segment.uuid);
    expect((await del(hostPath(segment, early))).status).toBe(204);
    await sql("UPDATE hosts SET deleted_at = ? WHERE uuid = ?", PAST, early.uuid);
    expect((await del(`/v1/segments/${segment.uuid}`)).status).toBe(204);
    expect(await hostRow(early)).toEqual({ ...storedHostRow(early), deleted: early.id, deleted_at: PAST });
  });
});
