import { beforeAll, describe, expect, it } from "vitest";
import {
  call,
  createHost,
  createSegment,
  del,
  expectFaultAt,
  expectListAt,
  fault,
  faultHeaders,
  get,
  holdRecoveries,
  mustAnswer,
  post,
  put,
  sql,
  successHeaders,
  UNKNOWN_UUID,
  v1Headers,
} from "./helpers";

holdRecoveries();

// VM moves (docs/upstream.md, "VM moves"; upstream master only, not gated by
// microversion). An engine writes them; here they are inserted by SQL for
// notifications made through the API. D6: vmove show under an unknown
// notification is a 404 (upstream: 500).

const VMOVE_KEYS = [
  "id",
  "uuid",
  "notification_uuid",
  "instance_uuid",
  "instance_name",
  "source_host",
  "dest_host",
  "start_time",
  "end_time",
  "type",
  "status",
  "message",
  "created_at",
  "updated_at",
  "deleted_at",
  "deleted",
];

type Vmove = Record<string, unknown> & { id: number; uuid: string };

interface VmoveRow {
  created_at: string;
  instance_name: string;
  source_host?: string | null;
  dest_host?: string | null;
  start_time?: string | null;
  end_time?: string | null;
  type?: string | null;
  status?: string | null;
  message?: string | null;
}

async function notify(hostname: string, type: string, payload: unknown): Promise<string> {
  const res = await post("/v1/notifications", {
    notification: { type, hostname, generated_time: "2026-01-01T10:00:00Z", payload },
  });
  return mustAnswer(res, 202, "notification create").json.notification.notification_uuid;
}

/** Inserts a vmove as the engine writes it and returns it as the API shows it. */
async function insertVmove(notificationUuid: string, fields: VmoveRow): Promise<Vmove> {
  const uuid = crypto.randomUUID();
  const instanceUuid = crypto.randomUUID();
  const v = {
    source_host: null,
    dest_host: null,
    start_time: null,
    end_time: null,
    type: null,
    status: null,
    message: null,
    ...fields,
  };
  await sql(
    `INSERT INTO vmoves (created_at, deleted, uuid, notification_uuid, instance_uuid, instance_name, source_host,
       dest_host, start_time, end_time, type, status, message)
     VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    v.created_at,
    uuid,
    notificationUuid,
    instanceUuid,
    v.instance_name,
    v.source_host,
    v.dest_host,
    v.start_time,
    v.end_time,
    v.type,
    v.status,
    v.message,
  );
  const [inserted] = await sql<{ id: number }>("SELECT id FROM vmoves WHERE uuid = ?", uuid);
  const api = (t: string | null) => (t === null ? null : t.replace(" ", "T"));
  return {
    id: inserted?.id as number,
    uuid,
    notification_uuid: notificationUuid,
    instance_uuid: instanceUuid,
    instance_name: v.instance_name,
    source_host: v.source_host,
    dest_host: v.dest_host,
    start_time: api(v.start_time),
    end_time: api(v.end_time),
    type: v.type,
    status: v.status,
    message: v.message,
    created_at: api(v.created_at),
    updated_at: null,
    deleted_at: null,
    deleted: false,
  };
}

let computeHost: string; // a COMPUTE_HOST notification with vmoves
let otherComputeHost: string; // another COMPUTE_HOST notification, one vmove
let emptyComputeHost: string; // a COMPUTE_HOST notification without vmoves
let processNotification: string;
let vmNotification: string;
/** The vmoves of `computeHost`, v[1]..v[4], oldest first. */
const v: Vmove[] = [];
let foreign: Vmove; // the vmove of otherComputeHost
let deletedVmove: Vmove;

beforeAll(async () => {
  const segment = await createSegment();
  const host = await createHost(segment.uuid);
  const host2 = await createHost(segment.uuid);
  computeHost = await notify(host.name, "COMPUTE_HOST", { event: "STOPPED", host_status: "NORMAL" });
  otherComputeHost = await notify(host2.name, "COMPUTE_HOST", { event: "STOPPED", host_status: "NORMAL" });
  emptyComputeHost = await notify(host2.name, "COMPUTE_HOST", { event: "STOPPED" });
  processNotification = await notify(host.name, "PROCESS", { process_name: "nova-compute", event: "STOPPED" });
  vmNotification = await notify(host.name, "VM", {
    instance_uuid: "11111111-2222-3333-4444-555555555555",
    vir_domain_event: "STOPPED_FAILED",
    event: "LIFECYCLE",
  });

  v[1] = await insertVmove(computeHost, {
    created_at: "2026-01-01 10:01:00.000000",
    instance_name: "vm-b",
    source_host: host.name,
    dest_host: "compute-9",
    start_time: "2026-01-01 10:01:05.000000",
    end_time: "2026-01-01 10:02:10.123456",
    type: "evacuation",
    status: "succeeded",
  });
  v[2] = await insertVmove(computeHost, {
    created_at: "2026-01-01 10:01:00.000000",
    instance_name: "vm-a",
    source_host: host.name,
    start_time: "2026-01-01 10:01:06.000000",
    end_time: "2026-01-01 10:03:00.000000",
    type: "evacuation",
    status: "failed",
    message: "Failed to evacuate instance vm-a.",
  });
  v[3] = await insertVmove(computeHost, {
    created_at: "2026-01-01 10:02:00.000000",
    instance_name: "vm-d",
    source_host: host.name,
    start_time: "2026-01-01 10:02:01.000000",
    type: "live_migration",
    status: "ongoing",
  });
  v[4] = await insertVmove(computeHost, {
    created_at: "2026-01-01 10:03:00.000000",
    instance_name: "vm-c",
    source_host: host.name,
    type: "migration",
    status: "pending",
  });
  foreign = await insertVmove(otherComputeHost, {
    created_at: "2026-01-01 10:05:00.000000",
    instance_name: "vm-x",
    type: "evacuation",
    status: "pending",
  });
  deletedVmove = await insertVmove(computeHost, {
    created_at: "2026-01-01 10:04:00.000000",
    instance_name: "vm-gone",
    status: "pending",
  });
  await sql(
    "UPDATE vmoves SET deleted = id, deleted_at = '2026-01-02 00:00:00.000000' WHERE uuid = ?",
    deletedVmove.uuid,
  );
});

const listPath = (notification: string, query = "") => `/v1/notifications/${notification}/vmoves${query}`;
const pick = (...indexes: number[]) => indexes.map((i) => v[i]);

describe("list", () => {
  it("lists the notification's live vmoves newest first, at 1.0 (not version-gated)", async () => {
    // created_at desc, then id desc: v2 and v1 share a created_at.
    const res = await expectListAt(listPath(computeHost), pick(4, 3, 2, 1));
    for (const item of res.json.vmoves) expect(Object.keys(item)).toEqual(VMOVE_KEYS);
  });

  it.each(["1.1", "1.2", "1.3"])("lists the same at %s", async (version) => {
    await expectListAt(listPath(computeHost), pick(4, 3, 2, 1), version);
  });

  it("unset fields are null and times are naive UTC with microseconds", async () => {
    const res = await get(listPath(computeHost, "?status=pending"));
    expect(res.text).toBe(
      `{"vmoves": [{"id": ${v[4]?.id}, "uuid": "${v[4]?.uuid}", "notification_uuid": "${computeHost}", ` +
        `"instance_uuid": "${v[4]?.instance_uuid}", "instance_name": "vm-c", "source_host": "${v[4]?.source_host}", ` +
        `"dest_host": null, "start_time": null, "end_time": null, "type": "migration", "status": "pending", ` +
        `"message": null, "created_at": "2026-01-01T10:03:00.000000", "updated_at": null, "deleted_at": null, ` +
        `"deleted": false}]}`,
    );
    const done = await get(listPath(computeHost, "?status=succeeded"));
    expect(done.json.vmoves[0]).toMatchObject({
      start_time: "2026-01-01T10:01:05.000000",
      end_time: "2026-01-01T10:02:10.123456",
      dest_host: "compute-9",
    });
  });

  it("a COMPUTE_HOST notification without vmoves lists none", async () => {
    const res = await get(listPath(emptyComputeHost));
    expect({ status: res.status, body: res.json }).toEqual({ status: 200, body: { vmoves: [] } });
  });

  it("only the notification's own vmoves are listed", async () => {
    const res = await get(listPath(otherComputeHost));
    expect(res.json).toEqual({ vmoves: [foreign] });
  });

  it.each([
    ["succeeded", [1]],
    ["failed", [2]],
    ["ongoing", [3]],
    ["pending", [4]],
    ["bogus", []],
    ["PENDING", []],
  ])("status=%s filters exactly", async (status, expected) => {
    await expectListAt(listPath(computeHost, `?status=${status}`), pick(...expected));
  });

  it.each([
    ["evacuation", [2, 1]],
    ["migration", [4]],
    ["live_migration", [3]],
    ["bogus", []],
  ])("type=%s filters exactly", async (type, expected) => {
    await expectListAt(listPath(computeHost, `?type=${type}`), pick(...expected));
  });

  it("status and type combine", async () => {
    await expectListAt(listPath(computeHost, "?type=evacuation&status=failed"), pick(2));
  });

  it("limit", async () => {
    await expectListAt(listPath(computeHost, "?limit=2"), pick(4, 3));
    await expectListAt(listPath(computeHost, "?limit=0"), []);
  });

  it("marker is the vmove's integer id", async () => {
    await expectListAt(listPath(computeHost, `?limit=2&marker=${v[3]?.id}`), pick(2, 1));
    await expectListAt(listPath(computeHost, `?marker=${v[1]?.id}`), []);
  });

  it("a marker from another notification's vmoves is found (the whole table is searched)", async () => {
    // foreign is the newest vmove of all, so every vmove of computeHost follows it.
    await expectListAt(listPath(computeHost, `?marker=${foreign.id}`), pick(4, 3, 2, 1));
  });

  it.each([
    ["uuid", () => v[1]?.uuid],
    ["unknown id", () => "999999"],
    ["deleted", () => String(deletedVmove.id)],
  ])("a marker that is not a live vmove id (%s) is a 400", async (_, marker) => {
    const value = marker();
    await expectFaultAt(
      listPath(computeHost, `?marker=${value}`),
      400,
      "badRequest",
      `Marker ${value} could not be found.`,
    );
  });

  it("sort_key=instance_name&sort_dir=asc", async () => {
    await expectListAt(listPath(computeHost, "?sort_key=instance_name&sort_dir=asc"), pick(2, 1, 4, 3));
  });

  it("sort_key=start_time&sort_dir=asc puts vmoves not started first", async () => {
    await expectListAt(listPath(computeHost, "?sort_key=start_time&sort_dir=asc"), pick(4, 1, 2, 3));
  });

  it("sort_key=end_time (desc) puts vmoves not ended last", async () => {
    await expectListAt(listPath(computeHost, "?sort_key=end_time"), pick(2, 1, 4, 3));
  });

  it("a marker pages through a sorted list", async () => {
    await expectListAt(
      listPath(computeHost, `?sort_key=instance_name&sort_dir=asc&limit=2&marker=${v[1]?.id}`),
      pick(4, 3),
    );
  });

  it.each(["bogus", "notification", "hostname"])("sort_key=%s is a 400 InvalidSortKey", async (key) => {
    await expectFaultAt(
      listPath(computeHost, `?sort_key=${key}`),
      400,
      "badRequest",
      `InvalidSortKey('Sort key supplied is invalid: ${key}')`,
    );
  });

  it("bad limits are 400s", async () => {
    await expectFaultAt(
      listPath(computeHost, "?limit=abc"),
      400,
      "badRequest",
      "Invalid input received: limit must be an integer",
    );
    await expectFaultAt(
      listPath(computeHost, "?limit=-1"),
      400,
      "badRequest",
      "Invalid input received: limit must be >= 0",
    );
  });

  it("an unknown sort direction is a 400", async () => {
    await expectFaultAt(
      listPath(computeHost, "?sort_dir=up"),
      400,
      "badRequest",
      "Invalid input received: Unknown sort direction, must be 'asc' or 'desc'",
    );
  });

  it("a PROCESS notification has no vm moves: 400", async () => {
    await expectFaultAt(
      listPath(processNotification),
      400,
      "badRequest",
      `This notification ${processNotification} without vm moves.`,
    );
  });

  it("a VM notification has no vm moves: 400", async () => {
    await expectFaultAt(
      listPath(vmNotification),
      400,
      "badRequest",
      `This notification ${vmNotification} without vm moves.`,
    );
  });

  it("an unknown notification is a 404", async () => {
    await expectFaultAt(listPath(UNKNOWN_UUID), 404, "itemNotFound", `No notification with id ${UNKNOWN_UUID}.`);
  });

  it("a non-uuid notification id is a 404", async () => {
    await expectFaultAt(listPath("abc"), 404, "itemNotFound", "No notification with id abc.");
  });

  it("a bad limit is reported before the notification is looked up", async () => {
    await expectFaultAt(
      listPath(UNKNOWN_UUID, "?limit=abc"),
      400,
      "badRequest",
      "Invalid input received: limit must be an integer",
    );
  });

  it("the notification is looked up before the marker and the sort key", async () => {
    await expectFaultAt(
      listPath(UNKNOWN_UUID, "?marker=999999&sort_key=bogus"),
      404,
      "itemNotFound",
      `No notification with id ${UNKNOWN_UUID}.`,
    );
  });

  it("a deleted notification is not found", async () => {
    const segment = await createSegment();
    const host = await createHost(segment.uuid);
    const uuid = await notify(host.name, "COMPUTE_HOST", { event: "STOPPED" });
    await sql("UPDATE notifications SET deleted = id WHERE notification_uuid = ?", uuid);
    await expectFaultAt(listPath(uuid), 404, "itemNotFound", `No notification with id ${uuid}.`);
  });

  it("the list is served under /v1/{project_id} too", async () => {
    const res = await call("GET", `/v1/0123abcd/notifications/${computeHost}/vmoves?limit=1`, {
      headers: { "X-Project-Id": "0123abcd" },
    });
    expect({ status: res.status, body: res.json }).toEqual({ status: 200, body: { vmoves: pick(4) } });
  });
});

describe("show", () => {
  const showPath = (notification: string, vmove: string) => `/v1/notifications/${notification}/vmoves/${vmove}`;

  it("answers the vmove, at 1.0", async () => {
    const res = await get(showPath(computeHost, v[2]?.uuid as string));
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 200,
      headers: successHeaders(),
      body: { vmove: v[2] },
    });
    expect(Object.keys(res.json.vmove)).toEqual(VMOVE_KEYS);
  });

  it("answers the same at 1.3", async () => {
    const res = await get(showPath(computeHost, v[1]?.uuid as string), { version: "1.3" });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 200,
      headers: successHeaders("1.3"),
      body: { vmove: v[1] },
    });
  });

  it("upstream's quirk: a vmove of another COMPUTE_HOST notification is found by its uuid alone", async () => {
    const res = await get(showPath(computeHost, foreign.uuid));
    expect({ status: res.status, body: res.json }).toEqual({ status: 200, body: { vmove: foreign } });
    expect(res.json.vmove.notification_uuid).toBe(otherComputeHost);
  });

  it("an unknown vmove uuid is a 404", async () => {
    await expectFaultAt(
      showPath(computeHost, UNKNOWN_UUID),
      404,
      "itemNotFound",
      `No vm move with id ${UNKNOWN_UUID}.`,
    );
  });

  it("a non-uuid vmove id is a 404", async () => {
    await expectFaultAt(showPath(computeHost, "abc"), 404, "itemNotFound", "No vm move with id abc.");
  });

  it("the integer id of a vmove is not found", async () => {
    const id = String(v[1]?.id);
    await expectFaultAt(showPath(computeHost, id), 404, "itemNotFound", `No vm move with id ${id}.`);
  });

  it("a deleted vmove is not found", async () => {
    await expectFaultAt(
      showPath(computeHost, deletedVmove.uuid),
      404,
      "itemNotFound",
      `No vm move with id ${deletedVmove.uuid}.`,
    );
  });

  it("D6: an unknown notification is a 404 (upstream: 500 NotificationNotFound)", async () => {
    await expectFaultAt(
      showPath(UNKNOWN_UUID, v[1]?.uuid as string),
      404,
      "itemNotFound",
      `No notification with id ${UNKNOWN_UUID}.`,
    );
  });

  it("D6: a non-uuid notification id is a 404", async () => {
    await expectFaultAt(showPath("abc", v[1]?.uuid as string), 404, "itemNotFound", "No notification with id abc.");
  });

  // Upstream's show does not catch NotificationWithoutVMoves and answers 500;
  // docs/upstream.md ("VM moves") gives the list's 400, which is what we serve
  // (no 500 for client input).
  it("a PROCESS notification has no vm moves: 400, even for a vmove that exists (upstream: 500)", async () => {
    await expectFaultAt(
      showPath(processNotification, v[1]?.uuid as string),
      400,
      "badRequest",
      `This notification ${processNotification} without vm moves.`,
    );
  });

  it("the notification is checked before the vmove id", async () => {
    await expectFaultAt(
      showPath(processNotification, "abc"),
      400,
      "badRequest",
      `This notification ${processNotification} without vm moves.`,
    );
  });
});

describe("no other methods", () => {
  it("POST to the vmoves collection is a 405 with action create", async () => {
    const before = await sql("SELECT count(*) AS n FROM vmoves");
    const res = await post(listPath(computeHost), { vmove: { instance_name: "vm-z" } });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 405,
      headers: faultHeaders(),
      body: fault("badMethod", 405, "The request method: 'POST' with action: 'create' is not allowed on this resource"),
    });
    expect(await sql("SELECT count(*) AS n FROM vmoves")).toEqual(before);
  });

  it("PUT of a vmove is a 405 with action update", async () => {
    const res = await put(`${listPath(computeHost)}/${v[1]?.uuid}`, { vmove: { status: "failed" } });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 405,
      headers: faultHeaders(),
      body: fault("badMethod", 405, "The request method: 'PUT' with action: 'update' is not allowed on this resource"),
    });
    const [stored] = await sql("SELECT status FROM vmoves WHERE uuid = ?", v[1]?.uuid);
    expect(stored).toEqual({ status: "succeeded" });
  });

  it("DELETE of a vmove is a 405 with action delete", async () => {
    const res = await del(`${listPath(computeHost)}/${v[1]?.uuid}`);
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 405,
      headers: faultHeaders(),
      body: fault(
        "badMethod",
        405,
        "The request method: 'DELETE' with action: 'delete' is not allowed on this resource",
      ),
    });
    const [stored] = await sql("SELECT deleted FROM vmoves WHERE uuid = ?", v[1]?.uuid);
    expect(stored).toEqual({ deleted: 0 });
  });

  it("GET .../vmoves/new is a 405 with action new", async () => {
    const res = await get(`${listPath(computeHost)}/new`);
    expect({ status: res.status, body: res.json }).toEqual({
      status: 405,
      body: fault("badMethod", 405, "The request method: 'GET' with action: 'new' is not allowed on this resource"),
    });
  });

  it("GET .../vmoves/{id}/edit is a 405 with action edit", async () => {
    const res = await get(`${listPath(computeHost)}/${v[1]?.uuid}/edit`);
    expect({ status: res.status, body: res.json }).toEqual({
      status: 405,
      body: fault("badMethod", 405, "The request method: 'GET' with action: 'edit' is not allowed on this resource"),
    });
  });
});
