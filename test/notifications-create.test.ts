import { beforeAll, describe, expect, it } from "vitest";
import {
  call,
  createHost,
  createSegment,
  del,
  duplicateNotification,
  type Exchange,
  expectFault,
  fault,
  faultHeaders,
  get,
  holdRecoveries,
  mustAnswer,
  NOTIFICATION_KEYS,
  post,
  put,
  row,
  sql,
  successHeaders,
  TIMESTAMP,
  UNKNOWN_UUID,
  UUID4,
  v1Headers,
} from "./helpers";

holdRecoveries();

// POST /v1/notifications and GET /v1/notifications/{id}: exchanges #162-#199
// and the engine-stub appendix, with upstream master's fields
// (failover_segment_uuid, message; docs/upstream.md, "14.0.2 and master"). The
// engine is held (holdRecoveries), so a notification shows
// recovery_workflow_details [] at >= 1.1: no flow has run (the engine's
// details are pinned in test/engine-*.test.ts).

const KEYS_WITH_DETAILS = [
  ...NOTIFICATION_KEYS.slice(0, 7),
  "recovery_workflow_details",
  ...NOTIFICATION_KEYS.slice(7),
];

const PAYLOAD_162 = { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" };

interface Host {
  uuid: string;
  name: string;
  failover_segment_id: string;
}

const notify = (notification: unknown, options: { version?: string } = {}) =>
  post("/v1/notifications", { notification }, options);

const count = async () => (await sql<{ n: number }>("SELECT count(*) AS n FROM notifications"))[0]?.n ?? Number.NaN;

/** The notification a 202 create answers, at any version (create never shows workflow details). */
function created(host: Host, fields: { type: string; payload: unknown; generated_time: string }) {
  return {
    id: expect.any(Number),
    notification_uuid: expect.stringMatching(UUID4),
    generated_time: fields.generated_time,
    source_host_uuid: host.uuid,
    type: fields.type,
    payload: fields.payload,
    status: "new",
    failover_segment_uuid: host.failover_segment_id,
    message: null,
    created_at: expect.stringMatching(TIMESTAMP),
    updated_at: null,
    deleted_at: null,
    deleted: false,
  };
}

/** Asserts a fault with exactly `message` and that no notification was stored. */
async function expectRefused(send: () => Promise<Exchange>, status: number, name: string, message: string) {
  const before = await count();
  const res = await send();
  expectFault(res, status, name, message);
  expect(await count()).toBe(before);
}

let segment: { uuid: string };
let host: Host;

beforeAll(async () => {
  segment = await createSegment();
  host = await createHost(segment.uuid);
});

describe("create (#162, #164, #172, #176, #178)", () => {
  it("#162 a COMPUTE_HOST notification is accepted with 202: status new, the host's segment uuid, message null", async () => {
    const h = await createHost(segment.uuid);
    const res = await notify({
      type: "COMPUTE_HOST",
      hostname: h.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload: PAYLOAD_162,
    });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 202,
      headers: successHeaders(),
      body: {
        notification: created(h, {
          type: "COMPUTE_HOST",
          payload: PAYLOAD_162,
          generated_time: "2026-01-01T10:00:00.000000",
        }),
      },
    });
    expect(h.failover_segment_id).toBe(segment.uuid);
    // created_at is now, in UTC, seconds precision.
    expect(Math.abs(Date.parse(`${res.json.notification.created_at}Z`) - Date.now())).toBeLessThan(120_000);
  });

  it("#162 the body has master's key order and json.dumps spacing", async () => {
    const h = await createHost(segment.uuid);
    const res = await notify({
      type: "COMPUTE_HOST",
      hostname: h.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload: PAYLOAD_162,
    });
    const n = res.json.notification;
    expect(Object.keys(n)).toEqual(NOTIFICATION_KEYS);
    expect(res.text).toBe(
      `{"notification": {"id": ${n.id}, "notification_uuid": "${n.notification_uuid}", ` +
        `"generated_time": "2026-01-01T10:00:00.000000", "source_host_uuid": "${h.uuid}", "type": "COMPUTE_HOST", ` +
        `"payload": {"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}, "status": "new", ` +
        `"failover_segment_uuid": "${segment.uuid}", "message": null, "created_at": "${n.created_at}", ` +
        `"updated_at": null, "deleted_at": null, "deleted": false}}`,
    );
  });

  it("#162 the row stores the payload as json.dumps text and generated_time in SQLAlchemy's form", async () => {
    const h = await createHost(segment.uuid);
    const res = await notify({
      type: "COMPUTE_HOST",
      hostname: h.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload: { event: "STOPPED", host_status: "NORMAL" },
    });
    expect(res.status).toBe(202);
    const n = res.json.notification;
    expect(await row("notifications", "notification_uuid", n.notification_uuid)).toEqual({
      created_at: n.created_at.replace("T", " "),
      updated_at: null,
      deleted_at: null,
      deleted: 0,
      id: n.id,
      notification_uuid: n.notification_uuid,
      generated_time: "2026-01-01 10:00:00.000000",
      source_host_uuid: h.uuid,
      type: "COMPUTE_HOST",
      payload: '{"event": "STOPPED", "host_status": "NORMAL"}',
      status: "new",
      failover_segment_uuid: segment.uuid,
      message: null,
    });
  });

  it("#162 the payload is stored in the order it was sent", async () => {
    const h = await createHost(segment.uuid);
    const res = await notify({
      type: "COMPUTE_HOST",
      hostname: h.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload: { cluster_status: "OFFLINE", event: "STOPPED" },
    });
    expect(res.status).toBe(202);
    expect(res.text).toContain('"payload": {"cluster_status": "OFFLINE", "event": "STOPPED"}');
    const stored = await row("notifications", "notification_uuid", res.json.notification.notification_uuid);
    expect(stored?.payload).toBe('{"cluster_status": "OFFLINE", "event": "STOPPED"}');
  });

  it("#162 the notification is recorded with the segment of its host, whichever segment that is", async () => {
    const other = await createSegment();
    const h = await createHost(other.uuid);
    const res = await notify({
      type: "COMPUTE_HOST",
      hostname: h.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload: { event: "STOPPED" },
    });
    expect(res.status).toBe(202);
    expect(res.json.notification.failover_segment_uuid).toBe(other.uuid);
    const stored = await row("notifications", "notification_uuid", res.json.notification.notification_uuid);
    expect(stored?.failover_segment_uuid).toBe(other.uuid);
  });

  it("#163 the same notification again is a 409 duplicate and stores nothing", async () => {
    const h = await createHost(segment.uuid);
    const body = {
      type: "COMPUTE_HOST",
      hostname: h.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload: PAYLOAD_162,
    };
    expect((await notify(body)).status).toBe(202);
    await expectRefused(() => notify(body), 409, "conflictingRequest", duplicateNotification(h.name, "COMPUTE_HOST"));
  });

  it("#164 the same host with another payload and the same generated_time is accepted", async () => {
    const h = await createHost(segment.uuid);
    const first = await notify({
      type: "COMPUTE_HOST",
      hostname: h.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload: PAYLOAD_162,
    });
    expect(first.status).toBe(202);
    const payload = { event: "STARTED", host_status: "NORMAL", cluster_status: "ONLINE" };
    const res = await notify({
      type: "COMPUTE_HOST",
      hostname: h.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload,
    });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 202,
      headers: successHeaders(),
      body: {
        notification: created(h, { type: "COMPUTE_HOST", payload, generated_time: "2026-01-01T10:00:00.000000" }),
      },
    });
    expect(res.json.notification.id).toBe(first.json.notification.id + 1);
  });

  it("#172 a generated_time without a zone is taken as UTC", async () => {
    const h = await createHost(segment.uuid);
    const res = await notify({
      type: "COMPUTE_HOST",
      hostname: h.name,
      generated_time: "2026-01-01T11:00:00",
      payload: { event: "STARTED" },
    });
    expect({ status: res.status, body: res.json }).toEqual({
      status: 202,
      body: {
        notification: created(h, {
          type: "COMPUTE_HOST",
          payload: { event: "STARTED" },
          generated_time: "2026-01-01T11:00:00.000000",
        }),
      },
    });
    const stored = await row("notifications", "notification_uuid", res.json.notification.notification_uuid);
    expect(stored?.generated_time).toBe("2026-01-01 11:00:00.000000");
  });

  it("an offset generated_time is converted to naive UTC", async () => {
    const h = await createHost(segment.uuid);
    const res = await notify({
      type: "COMPUTE_HOST",
      hostname: h.name,
      generated_time: "2026-01-01T19:00:00.250000+09:00",
      payload: { event: "STARTED" },
    });
    expect(res.status).toBe(202);
    expect(res.json.notification.generated_time).toBe("2026-01-01T10:00:00.250000");
    const stored = await row("notifications", "notification_uuid", res.json.notification.notification_uuid);
    expect(stored?.generated_time).toBe("2026-01-01 10:00:00.250000");
  });

  it("#176 a VM notification is accepted", async () => {
    const h = await createHost(segment.uuid);
    const payload = {
      instance_uuid: "11111111-2222-3333-4444-555555555555",
      vir_domain_event: "STOPPED_FAILED",
      event: "LIFECYCLE",
    };
    const res = await notify({ type: "VM", hostname: h.name, generated_time: "2026-01-01T10:00:00Z", payload });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 202,
      headers: successHeaders(),
      body: { notification: created(h, { type: "VM", payload, generated_time: "2026-01-01T10:00:00.000000" }) },
    });
    const stored = await row("notifications", "notification_uuid", res.json.notification.notification_uuid);
    expect(stored?.payload).toBe(
      '{"instance_uuid": "11111111-2222-3333-4444-555555555555", "vir_domain_event": "STOPPED_FAILED", "event": "LIFECYCLE"}',
    );
  });

  it("#178 a PROCESS notification is accepted", async () => {
    const h = await createHost(segment.uuid);
    const payload = { process_name: "/usr/sbin/libvirtd", event: "STOPPED" };
    const res = await notify({ type: "PROCESS", hostname: h.name, generated_time: "2026-01-01T10:00:00Z", payload });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 202,
      headers: successHeaders(),
      body: { notification: created(h, { type: "PROCESS", payload, generated_time: "2026-01-01T10:00:00.000000" }) },
    });
    const stored = await row("notifications", "notification_uuid", res.json.notification.notification_uuid);
    expect(stored?.payload).toBe('{"process_name": "/usr/sbin/libvirtd", "event": "STOPPED"}');
  });

  it.each(["1.1", "1.2", "1.3"])(
    "create at %s answers the same body, without recovery_workflow_details",
    async (version) => {
      const h = await createHost(segment.uuid);
      const res = await notify(
        {
          type: "COMPUTE_HOST",
          hostname: h.name,
          generated_time: "2026-01-01T10:00:00Z",
          payload: { event: "STOPPED" },
        },
        { version },
      );
      expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
        status: 202,
        headers: successHeaders(version),
        body: {
          notification: created(h, {
            type: "COMPUTE_HOST",
            payload: { event: "STOPPED" },
            generated_time: "2026-01-01T10:00:00.000000",
          }),
        },
      });
    },
  );

  it("a notification can be sent under /v1/{project_id}/notifications", async () => {
    const h = await createHost(segment.uuid);
    const res = await call("POST", "/v1/0123abcd/notifications", {
      body: {
        notification: {
          type: "COMPUTE_HOST",
          hostname: h.name,
          generated_time: "2026-01-01T10:00:00Z",
          payload: { event: "STOPPED" },
        },
      },
      headers: { "X-Project-Id": "0123abcd" },
    });
    expect({ status: res.status, body: res.json }).toEqual({
      status: 202,
      body: {
        notification: created(h, {
          type: "COMPUTE_HOST",
          payload: { event: "STOPPED" },
          generated_time: "2026-01-01T10:00:00.000000",
        }),
      },
    });
  });
});

describe("refused by the host (#165, #166)", () => {
  it.each(["COMPUTE_HOST", "VM", "PROCESS"])(
    "#165 a host on maintenance refuses a %s notification with 409, the type in quotes",
    async (type) => {
      const h = await createHost(segment.uuid, { on_maintenance: true });
      const payloads: Record<string, unknown> = {
        COMPUTE_HOST: PAYLOAD_162,
        VM: {
          instance_uuid: "11111111-2222-3333-4444-555555555555",
          vir_domain_event: "STOPPED_FAILED",
          event: "LIFECYCLE",
        },
        PROCESS: { process_name: "/usr/sbin/libvirtd", event: "STOPPED" },
      };
      await expectRefused(
        () => notify({ type, hostname: h.name, generated_time: "2026-01-01T10:00:00Z", payload: payloads[type] }),
        409,
        "conflictingRequest",
        `Notification received from host ${h.name} of type '${type}' is ignored as the host is already under maintenance.`,
      );
    },
  );

  // These two change a host, so its segment must not be in use by the
  // notifications of the other tests.
  it("#165 a host taken off maintenance accepts notifications again", async () => {
    const own = await createSegment();
    const h = await createHost(own.uuid, { on_maintenance: true });
    const body = {
      type: "COMPUTE_HOST",
      hostname: h.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload: PAYLOAD_162,
    };
    expect((await notify(body)).status).toBe(409);
    const update = await put(`/v1/segments/${own.uuid}/hosts/${h.uuid}`, { host: { on_maintenance: false } });
    expect(update.status).toBe(200);
    expect((await notify(body)).status).toBe(202);
  });

  it("#166 a hostname no host has is a 400", async () => {
    await expectRefused(
      () =>
        notify({
          type: "COMPUTE_HOST",
          hostname: "nosuchhost",
          generated_time: "2026-01-01T10:00:00Z",
          payload: PAYLOAD_162,
        }),
      400,
      "badRequest",
      "Host with name nosuchhost could not be found.",
    );
  });

  it("#166 the hostname is compared case-sensitively", async () => {
    const h = await createHost(segment.uuid);
    const hostname = h.name.toUpperCase();
    await expectRefused(
      () => notify({ type: "COMPUTE_HOST", hostname, generated_time: "2026-01-01T10:00:00Z", payload: PAYLOAD_162 }),
      400,
      "badRequest",
      `Host with name ${hostname} could not be found.`,
    );
  });

  it("#166 a deleted host is not found", async () => {
    const own = await createSegment();
    const h = await createHost(own.uuid);
    expect((await del(`/v1/segments/${own.uuid}/hosts/${h.uuid}`)).status).toBe(204);
    await expectRefused(
      () =>
        notify({
          type: "COMPUTE_HOST",
          hostname: h.name,
          generated_time: "2026-01-01T10:00:00Z",
          payload: PAYLOAD_162,
        }),
      400,
      "badRequest",
      `Host with name ${h.name} could not be found.`,
    );
  });
});

describe("validation (#167-#177)", () => {
  const valid = () => ({
    type: "COMPUTE_HOST",
    hostname: host.name,
    generated_time: "2026-01-01T10:00:00Z",
    payload: { ...PAYLOAD_162 },
  });

  it("#167 an unknown type", async () => {
    await expectRefused(
      () => notify({ ...valid(), type: "DISK" }),
      400,
      "badRequest",
      "Invalid input for field/attribute type. Value: DISK. 'DISK' is not one of ('COMPUTE_HOST', 'VM', 'PROCESS')",
    );
  });

  it("#168 a COMPUTE_HOST payload without event", async () => {
    await expectRefused(
      () => notify({ ...valid(), payload: { host_status: "NORMAL" } }),
      400,
      "badRequest",
      "'event' is a required property",
    );
  });

  it("#169 a COMPUTE_HOST payload with an unknown event", async () => {
    await expectRefused(
      () => notify({ ...valid(), payload: { event: "EXPLODED" } }),
      400,
      "badRequest",
      "Invalid input for field/attribute event. Value: EXPLODED. 'EXPLODED' is not one of ('STARTED', 'STOPPED')",
    );
  });

  it("#170 a COMPUTE_HOST payload with an extra key", async () => {
    await expectRefused(
      () => notify({ ...valid(), payload: { event: "STOPPED", foo: "bar" } }),
      400,
      "badRequest",
      "Additional properties are not allowed ('foo' was unexpected)",
    );
  });

  it("#171 a generated_time that is not a date", async () => {
    await expectRefused(
      () => notify({ ...valid(), generated_time: "yesterday" }),
      400,
      "badRequest",
      "Invalid input for field/attribute generated_time. Value: yesterday. 'yesterday' is not a 'date-time'",
    );
  });

  it("#173 a missing payload", async () => {
    await expectRefused(
      () => notify({ type: "COMPUTE_HOST", hostname: host.name, generated_time: "2026-01-01T10:00:00Z" }),
      400,
      "badRequest",
      `Invalid input for field/attribute notification. Value: {'type': 'COMPUTE_HOST', 'hostname': '${host.name}', ` +
        "'generated_time': '2026-01-01T10:00:00Z'}. 'payload' is a required property",
    );
  });

  it("#174 a hostname with a space", async () => {
    await expectRefused(
      () => notify({ ...valid(), hostname: "compute 1" }),
      400,
      "badRequest",
      "Invalid input for field/attribute hostname. Value: compute 1. 'compute 1' does not match '^[a-zA-Z0-9-._]*$'",
    );
  });

  it("#175 an extra field in the notification", async () => {
    await expectRefused(
      () => notify({ ...valid(), status: "new" }),
      400,
      "badRequest",
      `Invalid input for field/attribute notification. Value: {'type': 'COMPUTE_HOST', 'hostname': '${host.name}', ` +
        "'generated_time': '2026-01-01T10:00:00Z', 'payload': {'event': 'STOPPED', 'host_status': 'NORMAL', " +
        "'cluster_status': 'OFFLINE'}, 'status': 'new'}. Additional properties are not allowed ('status' was unexpected)",
    );
  });

  it("#177 a VM payload without instance_uuid", async () => {
    await expectRefused(
      () => notify({ ...valid(), type: "VM", payload: { vir_domain_event: "STOPPED_FAILED", event: "LIFECYCLE" } }),
      400,
      "badRequest",
      "'instance_uuid' is a required property",
    );
  });
});

describe("show (#194-#197, engine-stub appendix)", () => {
  let notification: Record<string, unknown>;
  let h: Host;

  beforeAll(async () => {
    h = await createHost(segment.uuid);
    const res = await notify({
      type: "COMPUTE_HOST",
      hostname: h.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload: PAYLOAD_162,
    });
    notification = mustAnswer(res, 202, "notification create").json.notification;
  });

  it("#194 show without a version header (1.0) answers the notification without recovery_workflow_details", async () => {
    const res = await get(`/v1/notifications/${notification.notification_uuid}`);
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 200,
      headers: successHeaders(),
      body: { notification },
    });
    expect(Object.keys(res.json.notification)).toEqual(NOTIFICATION_KEYS);
  });

  it("#194 show at 1.0 answers the notification without recovery_workflow_details", async () => {
    const res = await get(`/v1/notifications/${notification.notification_uuid}`, { version: "1.0" });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 200,
      headers: successHeaders("1.0"),
      body: { notification },
    });
  });

  it.each([
    ["1.1", "1.1"],
    ["1.2", "1.2"],
    ["1.3", "1.3"],
    ["latest", "1.3"],
  ])(
    "#195 D13: show at %s answers recovery_workflow_details right after status, [] before any flow ran (the reference without an engine: 500)",
    async (version, answered) => {
      const res = await get(`/v1/notifications/${notification.notification_uuid}`, { version });
      expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
        status: 200,
        headers: successHeaders(answered),
        body: { notification: { ...notification, recovery_workflow_details: [] } },
      });
      expect(Object.keys(res.json.notification)).toEqual(KEYS_WITH_DETAILS);
      expect(res.text).toContain('"status": "new", "recovery_workflow_details": [], "failover_segment_uuid": ');
    },
  );

  it("show answers the status the row has now", async () => {
    const h2 = await createHost(segment.uuid);
    const res = await notify({
      type: "COMPUTE_HOST",
      hostname: h2.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload: { event: "STOPPED" },
    });
    const id = res.json.notification.notification_uuid;
    await sql(
      "UPDATE notifications SET status = 'ignored', message = 'Recovery aboart: the segment HA is disabled.' WHERE notification_uuid = ?",
      id,
    );
    const shown = await get(`/v1/notifications/${id}`);
    expect(shown.json).toEqual({
      notification: {
        ...res.json.notification,
        status: "ignored",
        message: "Recovery aboart: the segment HA is disabled.",
      },
    });
  });

  it.each([undefined, "1.1"])("#196 show of an unknown uuid is a 404 (version %s)", async (version) => {
    const res = await get(`/v1/notifications/${UNKNOWN_UUID}`, { version });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 404,
      headers: faultHeaders(version ?? "1.0"),
      body: fault("itemNotFound", 404, `No notification with id ${UNKNOWN_UUID}.`),
    });
  });

  it("#197 show of a non-uuid id is a 404", async () => {
    const res = await get("/v1/notifications/abc");
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 404,
      headers: faultHeaders(),
      body: fault("itemNotFound", 404, "No notification with id abc."),
    });
  });

  it("show does not find the integer id", async () => {
    const res = await get(`/v1/notifications/${notification.id}`);
    expect({ status: res.status, body: res.json }).toEqual({
      status: 404,
      body: fault("itemNotFound", 404, `No notification with id ${notification.id}.`),
    });
  });

  it("show does not find a deleted notification", async () => {
    const h2 = await createHost(segment.uuid);
    const res = await notify({
      type: "COMPUTE_HOST",
      hostname: h2.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload: { event: "STOPPED" },
    });
    const id = res.json.notification.notification_uuid;
    await sql(
      "UPDATE notifications SET deleted = id, deleted_at = '2026-01-02 00:00:00.000000' WHERE notification_uuid = ?",
      id,
    );
    const shown = await get(`/v1/notifications/${id}`);
    expect({ status: shown.status, body: shown.json }).toEqual({
      status: 404,
      body: fault("itemNotFound", 404, `No notification with id ${id}.`),
    });
  });
});

describe("no update or delete, and no action but D21's (#198, #199)", () => {
  let id: string;
  let stored: Record<string, unknown> | undefined;

  beforeAll(async () => {
    const h = await createHost(segment.uuid);
    const res = await notify({
      type: "COMPUTE_HOST",
      hostname: h.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload: PAYLOAD_162,
    });
    id = res.json.notification.notification_uuid;
    stored = await row("notifications", "notification_uuid", id);
  });

  it("#198 PUT of a notification is a 405 badMethod and changes nothing", async () => {
    const res = await put(`/v1/notifications/${id}`, { notification: { status: "finished" } });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 405,
      headers: faultHeaders(),
      body: fault("badMethod", 405, "The request method: 'PUT' with action: 'update' is not allowed on this resource"),
    });
    expect(await row("notifications", "notification_uuid", id)).toEqual(stored);
  });

  it("#199 DELETE of a notification is a 405 badMethod and changes nothing", async () => {
    const res = await del(`/v1/notifications/${id}`);
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 405,
      headers: faultHeaders(),
      body: fault(
        "badMethod",
        405,
        "The request method: 'DELETE' with action: 'delete' is not allowed on this resource",
      ),
    });
    expect(await row("notifications", "notification_uuid", id)).toEqual(stored);
  });

  it("DELETE of an unknown notification is a 405 too (no lookup)", async () => {
    const res = await del(`/v1/notifications/${UNKNOWN_UUID}`);
    expect({ status: res.status, body: res.json }).toEqual({
      status: 405,
      body: fault(
        "badMethod",
        405,
        "The request method: 'DELETE' with action: 'delete' is not allowed on this resource",
      ),
    });
  });

  it("GET /v1/notifications/new is a 405 with action new", async () => {
    const res = await get("/v1/notifications/new");
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 405,
      headers: faultHeaders(),
      body: fault("badMethod", 405, "The request method: 'GET' with action: 'new' is not allowed on this resource"),
    });
  });

  it("GET /v1/notifications/{id}/edit is a 405 with action edit", async () => {
    const res = await get(`/v1/notifications/${id}/edit`);
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 405,
      headers: faultHeaders(),
      body: fault("badMethod", 405, "The request method: 'GET' with action: 'edit' is not allowed on this resource"),
    });
  });

  // Upstream answers POST /v1/notifications/{id}/action 405 (action
  // 'action'); here the route is D21's operator actions (README.md, "Where we
  // differ from Masakari", row D21), covered in test/steering-actions.test.ts.
  it("POST /v1/notifications/{id}/action is D21's, not a 405: {} is a 400 in Masakari's fault format and changes nothing", async () => {
    const res = await post(`/v1/notifications/${id}/action`, {});
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 400,
      headers: faultHeaders(),
      body: fault("badRequest", 400, "{} is not valid under any of the given schemas"),
    });
    expect(await row("notifications", "notification_uuid", id)).toEqual(stored);
  });

  it("the 405 carries the requested microversion", async () => {
    const res = await put(`/v1/notifications/${id}`, { notification: {} }, { version: "1.2" });
    expect({ status: res.status, headers: v1Headers(res) }).toEqual({ status: 405, headers: faultHeaders("1.2") });
  });
});
