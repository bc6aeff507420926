import { beforeAll, describe, expect, it } from "vitest";
import {
  call,
  createSegment,
  expectFault,
  fault,
  faultHeaders,
  holdRecoveries,
  mustAnswer,
  post,
  row,
  sql,
  successHeaders,
  unique,
  v1Headers,
} from "./helpers";

holdRecoveries();

// Every rule of a notification body (docs/upstream.md, "Notification bodies"
// and "Validation messages"): the create schema (type, hostname,
// generated_time, generic payload), then the payload schema of the
// notification's type, then the host checks. Messages are upstream's exactly:
// jsonschema's first error, with "Invalid input for field/attribute" only when
// the failing value sits at a named field.

const UUID = "11111111-2222-3333-4444-555555555555";
const KEY_PATTERN = "'^[a-zA-Z0-9-_:. ]{1,255}$'";

interface Host {
  uuid: string;
  name: string;
  failover_segment_id: string;
}

let segment: { uuid: string };
/** A registered host, so a 400 can only come from validation. */
let host: Host;

async function createHost(name = unique("compute"), fields: Record<string, unknown> = {}): Promise<Host> {
  const res = await post(`/v1/segments/${segment.uuid}/hosts`, {
    host: { name, type: "COMPUTE", control_attributes: "SSH", ...fields },
  });
  return mustAnswer(res, 201, "host create").json.host;
}

beforeAll(async () => {
  segment = await createSegment();
  host = await createHost();
});

const notify = (notification: unknown) => post("/v1/notifications", { notification });
const count = async () => (await sql<{ n: number }>("SELECT count(*) AS n FROM notifications"))[0]?.n ?? Number.NaN;

const computeHost = (fields: Record<string, unknown> = {}) => ({
  type: "COMPUTE_HOST",
  hostname: host.name,
  generated_time: "2026-01-01T10:00:00Z",
  payload: { event: "STOPPED" },
  ...fields,
});

/** Asserts a 400 with exactly `message` for the body `body`, and that nothing was stored. */
async function expectInvalidBody(body: unknown, message: string) {
  const before = await count();
  const res = await post("/v1/notifications", body);
  expectFault(res, 400, "badRequest", message);
  expect(await count()).toBe(before);
}

const expectInvalid = (notification: unknown, message: string) => expectInvalidBody({ notification }, message);

/** Asserts a 202 and returns the notification with its stored row. */
async function expectAccepted(notification: Record<string, unknown>) {
  const res = await notify(notification);
  expect({ status: res.status, headers: v1Headers(res) }).toEqual({ status: 202, headers: successHeaders() });
  const stored = await row("notifications", "notification_uuid", res.json.notification.notification_uuid);
  return { notification: res.json.notification, stored };
}

describe("the body", () => {
  it("an empty object lacks notification", async () => {
    await expectInvalidBody({}, "'notification' is a required property");
  });

  it("an extra top-level key is refused bare", async () => {
    await expectInvalidBody(
      { notification: computeHost(), extra: 1 },
      "Additional properties are not allowed ('extra' was unexpected)",
    );
  });

  it.each([
    [null, "None is not of type 'object'"],
    [[], "[] is not of type 'object'"],
    ["str", "'str' is not of type 'object'"],
  ])("a body of %j is not an object", async (body, message) => {
    await expectInvalidBody(body, message);
  });

  it.each([
    ["str", "Invalid input for field/attribute notification. Value: str. 'str' is not of type 'object'"],
    [null, "Invalid input for field/attribute notification. Value: None. None is not of type 'object'"],
  ])("a notification of %j is not an object", async (notification, message) => {
    await expectInvalid(notification, message);
  });

  it("an empty notification reports type first among the required fields", async () => {
    await expectInvalid({}, "Invalid input for field/attribute notification. Value: {}. 'type' is a required property");
  });

  it("a missing hostname is reported with the notification as value", async () => {
    await expectInvalid(
      { type: "VM", extra: 1 },
      "Invalid input for field/attribute notification. Value: {'type': 'VM', 'extra': 1}. 'hostname' is a required property",
    );
  });

  it("a missing generated_time", async () => {
    await expectInvalid(
      { type: "VM", hostname: "h", payload: {} },
      "Invalid input for field/attribute notification. Value: {'type': 'VM', 'hostname': 'h', 'payload': {}}. " +
        "'generated_time' is a required property",
    );
  });

  it("a bad field is reported before a missing one", async () => {
    await expectInvalid(
      { hostname: "bad host" },
      "Invalid input for field/attribute hostname. Value: bad host. 'bad host' does not match '^[a-zA-Z0-9-._]*$'",
    );
  });

  it("type is checked before hostname", async () => {
    await expectInvalid(
      computeHost({ type: "DISK", hostname: "bad host" }),
      "Invalid input for field/attribute type. Value: DISK. 'DISK' is not one of ('COMPUTE_HOST', 'VM', 'PROCESS')",
    );
  });
});

describe("type", () => {
  it.each([
    [
      "DISK",
      "Invalid input for field/attribute type. Value: DISK. 'DISK' is not one of ('COMPUTE_HOST', 'VM', 'PROCESS')",
    ],
    [
      "compute_host",
      "Invalid input for field/attribute type. Value: compute_host. 'compute_host' is not one of ('COMPUTE_HOST', 'VM', 'PROCESS')",
    ],
    ["", "Invalid input for field/attribute type. Value: . '' is not one of ('COMPUTE_HOST', 'VM', 'PROCESS')"],
    // The notification schema lists type before enum.
    [5, "Invalid input for field/attribute type. Value: 5. 5 is not of type 'string'"],
    [null, "Invalid input for field/attribute type. Value: None. None is not of type 'string'"],
  ])("type %j is refused", async (type, message) => {
    await expectInvalid(computeHost({ type }), message);
  });
});

describe("hostname", () => {
  it.each([
    [
      "compute 1",
      "Invalid input for field/attribute hostname. Value: compute 1. 'compute 1' does not match '^[a-zA-Z0-9-._]*$'",
    ],
    [
      "host/1",
      "Invalid input for field/attribute hostname. Value: host/1. 'host/1' does not match '^[a-zA-Z0-9-._]*$'",
    ],
    ["hôte", "Invalid input for field/attribute hostname. Value: hôte. 'hôte' does not match '^[a-zA-Z0-9-._]*$'"],
    ["", "Invalid input for field/attribute hostname. Value: . '' is too short"],
    [5, "Invalid input for field/attribute hostname. Value: 5. 5 is not of type 'string'"],
    [null, "Invalid input for field/attribute hostname. Value: None. None is not of type 'string'"],
  ])("hostname %j is refused", async (hostname, message) => {
    await expectInvalid(computeHost({ hostname }), message);
  });

  it("a hostname of 256 characters is too long", async () => {
    const hostname = "a".repeat(256);
    await expectInvalid(
      computeHost({ hostname }),
      `Invalid input for field/attribute hostname. Value: ${hostname}. '${hostname}' is too long`,
    );
  });

  it("a hostname of 255 characters passes the schema", async () => {
    const h = await createHost(`${unique("h")}-`.padEnd(255, "x"));
    expect(h.name).toHaveLength(255);
    const { notification } = await expectAccepted(computeHost({ hostname: h.name }));
    expect(notification.source_host_uuid).toBe(h.uuid);
  });

  it("hyphens, dots and underscores are allowed in a hostname", async () => {
    const h = await createHost(`${unique("a-b.c_d")}.example_1`);
    const { notification } = await expectAccepted(computeHost({ hostname: h.name }));
    expect(notification.source_host_uuid).toBe(h.uuid);
  });

  it("a hostname with one final newline passes the pattern (Python's $) and is looked up as sent", async () => {
    const hostname = `${host.name}\n`;
    await expectInvalid(computeHost({ hostname }), `Host with name ${hostname} could not be found.`);
  });
});

describe("generated_time: accepted forms, stored as naive UTC", () => {
  it.each([
    ["2017-04-24 08:34:46", "2017-04-24T08:34:46.000000"],
    ["2017-04-24T08:34:46.523726", "2017-04-24T08:34:46.523726"],
    ["2017-04-24T08:34:46.523726Z", "2017-04-24T08:34:46.523726"],
    ["2017-04-24T08:34:46+09:00", "2017-04-23T23:34:46.000000"],
    ["2017-04-24T08:34:46-05:30", "2017-04-24T14:04:46.000000"],
    ["2017-04-24T08:34:46+0900", "2017-04-23T23:34:46.000000"],
    ["2020-01-01", "2020-01-01T00:00:00.000000"],
    ["2020-01-01T10:00", "2020-01-01T10:00:00.000000"],
    ["2020-01-01T10", "2020-01-01T10:00:00.000000"],
    ["20200101T100000Z", "2020-01-01T10:00:00.000000"],
    ["2026", "2026-01-01T00:00:00.000000"],
    ["2017-04-24T08:34:46.5", "2017-04-24T08:34:46.500000"],
    ["2017-04-24T08:34:46.1234567", "2017-04-24T08:34:46.123456"],
    ["2020-02-29T23:59:59", "2020-02-29T23:59:59.000000"],
  ])("%s is accepted as %s", async (generated_time, utc) => {
    // A host of its own: the same instant from another test would be a duplicate.
    const h = await createHost();
    const { notification, stored } = await expectAccepted(computeHost({ hostname: h.name, generated_time }));
    expect(notification.generated_time).toBe(utc);
    expect(stored?.generated_time).toBe(utc.replace("T", " "));
  });
});

describe("generated_time: refused forms", () => {
  it.each([
    "yesterday",
    "2020-13-01T10:00:00",
    "2020-02-30",
    "2019-02-29",
    "2020-01-01T24:00:00",
    "2020-01-01T10:60:00",
    "2020-01-01T10:00:00+24:00",
    "",
    "01/01/2020",
  ])("%j is not a date-time", async (generated_time) => {
    await expectInvalid(
      computeHost({ generated_time }),
      `Invalid input for field/attribute generated_time. Value: ${generated_time}. '${generated_time}' is not a 'date-time'`,
    );
  });

  it.each([
    [20200101, "Invalid input for field/attribute generated_time. Value: 20200101. 20200101 is not of type 'string'"],
    [null, "Invalid input for field/attribute generated_time. Value: None. None is not of type 'string'"],
  ])("%j is not a string", async (generated_time, message) => {
    await expectInvalid(computeHost({ generated_time }), message);
  });
});

describe("payload: the generic rules", () => {
  it.each([
    ["x", "Invalid input for field/attribute payload. Value: x. 'x' is not of type 'object'"],
    [null, "Invalid input for field/attribute payload. Value: None. None is not of type 'object'"],
    [["event"], "Invalid input for field/attribute payload. Value: ['event']. ['event'] is not of type 'object'"],
  ])("a payload of %j is not an object", async (payload, message) => {
    await expectInvalid(computeHost({ payload }), message);
  });

  it("a key outside the pattern is refused with the payload as value", async () => {
    await expectInvalid(
      computeHost({ payload: { event: "STOPPED", "bad key!": "x" } }),
      "Invalid input for field/attribute payload. Value: {'event': 'STOPPED', 'bad key!': 'x'}. " +
        `'bad key!' does not match any of the regexes: ${KEY_PATTERN}`,
    );
  });

  it("several keys outside the pattern are listed sorted, with 'do'", async () => {
    await expectInvalid(
      computeHost({ payload: { "z!": "1", "a!": "2" } }),
      "Invalid input for field/attribute payload. Value: {'z!': '1', 'a!': '2'}. " +
        `'a!', 'z!' do not match any of the regexes: ${KEY_PATTERN}`,
    );
  });

  it("an empty key is outside the pattern", async () => {
    await expectInvalid(
      computeHost({ payload: { "": "x" } }),
      `Invalid input for field/attribute payload. Value: {'': 'x'}. '' does not match any of the regexes: ${KEY_PATTERN}`,
    );
  });

  it("a key of 256 characters is outside the pattern", async () => {
    const key = "k".repeat(256);
    await expectInvalid(
      computeHost({ payload: { [key]: "x" } }),
      `Invalid input for field/attribute payload. Value: {'${key}': 'x'}. '${key}' does not match any of the regexes: ${KEY_PATTERN}`,
    );
  });

  it("the generic rules come before the type's: a non-string event is 'not of type string'", async () => {
    // parameter_types.payload (in the create schema) sees the value first,
    // so the payload schema's enum-before-type order is never reached.
    await expectInvalid(
      computeHost({ payload: { event: 5 } }),
      "Invalid input for field/attribute event. Value: 5. 5 is not of type 'string'",
    );
  });

  it.each([
    [true, "Invalid input for field/attribute event. Value: True. True is not of type 'string'"],
    [null, "Invalid input for field/attribute event. Value: None. None is not of type 'string'"],
    [["STOPPED"], "Invalid input for field/attribute event. Value: ['STOPPED']. ['STOPPED'] is not of type 'string'"],
    [{ a: "b" }, "Invalid input for field/attribute event. Value: {'a': 'b'}. {'a': 'b'} is not of type 'string'"],
  ])("a payload value of %j is not a string", async (value, message) => {
    await expectInvalid(computeHost({ payload: { event: value } }), message);
  });

  it("a payload value over 255 characters is too long, before the type's rules", async () => {
    const value = "x".repeat(256);
    await expectInvalid(
      computeHost({ payload: { event: value } }),
      `Invalid input for field/attribute event. Value: ${value}. '${value}' is too long`,
    );
  });

  it("a PROCESS process_name over 255 characters is refused by the generic rule (the type allows 4096)", async () => {
    const value = "p".repeat(256);
    await expectInvalid(
      computeHost({ type: "PROCESS", payload: { process_name: value, event: "STOPPED" } }),
      `Invalid input for field/attribute process_name. Value: ${value}. '${value}' is too long`,
    );
  });

  it("a key outside the pattern is reported before the type's missing event", async () => {
    await expectInvalid(
      computeHost({ payload: { "bad key!": "x" } }),
      `Invalid input for field/attribute payload. Value: {'bad key!': 'x'}. 'bad key!' does not match any of the regexes: ${KEY_PATTERN}`,
    );
  });
});

describe("payload: COMPUTE_HOST", () => {
  it.each([
    [{ host_status: "NORMAL" }, "'event' is a required property"],
    [{}, "'event' is a required property"],
    [{ foo: "bar" }, "'event' is a required property"],
    [
      { event: "stopped" },
      "Invalid input for field/attribute event. Value: stopped. 'stopped' is not one of ('STARTED', 'STOPPED')",
    ],
    [
      { event: "EXPLODED" },
      "Invalid input for field/attribute event. Value: EXPLODED. 'EXPLODED' is not one of ('STARTED', 'STOPPED')",
    ],
    [
      { event: "STOPPED", host_status: "normal" },
      "Invalid input for field/attribute host_status. Value: normal. 'normal' is not one of ('NORMAL', 'UNKNOWN')",
    ],
    [
      { event: "STOPPED", cluster_status: "DOWN" },
      "Invalid input for field/attribute cluster_status. Value: DOWN. 'DOWN' is not one of ('ONLINE', 'OFFLINE')",
    ],
    // Properties (host_status, cluster_status, event) before required and additionalProperties.
    [
      { event: "BAD", host_status: "BAD" },
      "Invalid input for field/attribute host_status. Value: BAD. 'BAD' is not one of ('NORMAL', 'UNKNOWN')",
    ],
    [
      { host_status: "BAD", foo: "bar" },
      "Invalid input for field/attribute host_status. Value: BAD. 'BAD' is not one of ('NORMAL', 'UNKNOWN')",
    ],
    [{ event: "STOPPED", foo: "bar" }, "Additional properties are not allowed ('foo' was unexpected)"],
    [{ event: "STOPPED", process_name: "x" }, "Additional properties are not allowed ('process_name' was unexpected)"],
  ])("payload %j is refused", async (payload, message) => {
    await expectInvalid(computeHost({ payload }), message);
  });

  it.each([
    [{ event: "STARTED" }],
    [{ event: "STOPPED", host_status: "UNKNOWN" }],
    [{ event: "STOPPED", host_status: "NORMAL", cluster_status: "ONLINE" }],
    [{ cluster_status: "OFFLINE", host_status: "NORMAL", event: "STOPPED" }],
  ])("payload %j is accepted", async (payload) => {
    const h = await createHost();
    const { notification, stored } = await expectAccepted(computeHost({ hostname: h.name, payload }));
    expect(notification.payload).toEqual(payload);
    expect(stored?.payload).toBe(
      `{${Object.entries(payload)
        .map(([k, v]) => `"${k}": "${v}"`)
        .join(", ")}}`,
    );
  });
});

describe("payload: PROCESS", () => {
  const process = (payload: unknown) => computeHost({ type: "PROCESS", payload });

  it.each([
    [{ event: "STOPPED" }, "'process_name' is a required property"],
    [{ process_name: "nova-compute" }, "'event' is a required property"],
    [
      { process_name: "", event: "STOPPED" },
      "Invalid input for field/attribute process_name. Value: . '' is too short",
    ],
    [
      { process_name: "nova-compute", event: "stopped" },
      "Invalid input for field/attribute event. Value: stopped. 'stopped' is not one of ('STARTED', 'STOPPED')",
    ],
    [
      { process_name: "nova-compute", event: "STARTED", pid: "1" },
      "Additional properties are not allowed ('pid' was unexpected)",
    ],
  ])("payload %j is refused", async (payload, message) => {
    await expectInvalid(process(payload), message);
  });

  it.each([
    [{ process_name: "n", event: "STARTED" }],
    [{ process_name: "/usr/sbin/libvirtd", event: "STOPPED" }],
    [{ process_name: "p".repeat(255), event: "STOPPED" }],
  ])("payload %j is accepted", async (payload) => {
    // Each process name differs, so none of these is a duplicate of another.
    const { notification } = await expectAccepted(process(payload));
    expect(notification).toMatchObject({ type: "PROCESS", payload, source_host_uuid: host.uuid });
  });
});

describe("payload: VM", () => {
  const vm = (payload: unknown, hostname = host.name) => computeHost({ type: "VM", hostname, payload });
  const fields = { vir_domain_event: "STOPPED_FAILED", event: "LIFECYCLE" };

  it.each([
    [{ ...fields }, "'instance_uuid' is a required property"],
    [{ instance_uuid: UUID, event: "LIFECYCLE" }, "'vir_domain_event' is a required property"],
    [{ instance_uuid: UUID, vir_domain_event: "STOPPED_FAILED" }, "'event' is a required property"],
    [
      { instance_uuid: "not-a-uuid", ...fields },
      "Invalid input for field/attribute instance_uuid. Value: not-a-uuid. 'not-a-uuid' is not a 'uuid'",
    ],
    [
      { instance_uuid: "11111111-2222-3333-4444-55555555555", ...fields },
      "Invalid input for field/attribute instance_uuid. Value: 11111111-2222-3333-4444-55555555555. " +
        "'11111111-2222-3333-4444-55555555555' is not a 'uuid'",
    ],
    [{ instance_uuid: "", ...fields }, "Invalid input for field/attribute instance_uuid. Value: . '' is not a 'uuid'"],
    [
      { instance_uuid: UUID, vir_domain_event: "", event: "LIFECYCLE" },
      "Invalid input for field/attribute vir_domain_event. Value: . '' is too short",
    ],
    [
      { instance_uuid: UUID, vir_domain_event: "STOPPED_FAILED", event: "" },
      "Invalid input for field/attribute event. Value: . '' is too short",
    ],
    [{ instance_uuid: UUID, ...fields, x: "y" }, "Additional properties are not allowed ('x' was unexpected)"],
  ])("payload %j is refused", async (payload, message) => {
    await expectInvalid(vm(payload), message);
  });

  it.each([
    "11111111-2222-3333-4444-555555555555",
    "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE",
    "11111111222233334444555555555555",
    "{11111111-2222-3333-4444-555555555555}",
    "urn:uuid:11111111-2222-3333-4444-555555555555",
  ])("instance_uuid %s is uuid-like and kept as sent", async (instance_uuid) => {
    const h = await createHost();
    const payload = { instance_uuid, ...fields };
    const { notification, stored } = await expectAccepted(vm(payload, h.name));
    expect(notification.payload).toEqual(payload);
    expect(stored?.payload).toBe(
      `{"instance_uuid": "${instance_uuid}", "vir_domain_event": "STOPPED_FAILED", "event": "LIFECYCLE"}`,
    );
  });

  it("event and vir_domain_event are free strings", async () => {
    const h = await createHost();
    const payload = { instance_uuid: UUID, vir_domain_event: "anything at all", event: "not an enum" };
    const { notification } = await expectAccepted(vm(payload, h.name));
    expect(notification.payload).toEqual(payload);
  });
});

describe("order of the checks", () => {
  it("a schema error wins over an unknown host", async () => {
    await expectInvalid(
      computeHost({ type: "DISK", hostname: "nosuchhost" }),
      "Invalid input for field/attribute type. Value: DISK. 'DISK' is not one of ('COMPUTE_HOST', 'VM', 'PROCESS')",
    );
  });

  it("a payload error wins over an unknown host", async () => {
    await expectInvalid(computeHost({ hostname: "nosuchhost", payload: {} }), "'event' is a required property");
  });

  it("a payload error wins over a host on maintenance", async () => {
    const h = await createHost(unique("compute"), { on_maintenance: true });
    await expectInvalid(
      computeHost({ hostname: h.name, payload: { event: "STOPPED", foo: "bar" } }),
      "Additional properties are not allowed ('foo' was unexpected)",
    );
  });

  it("the payload is checked against the schema of the notification's own type", async () => {
    // A valid COMPUTE_HOST payload in a VM notification.
    await expectInvalid(
      computeHost({ type: "VM", payload: { event: "STOPPED" } }),
      "'instance_uuid' is a required property",
    );
  });

  it("a valid body for an unknown host is the business 400", async () => {
    await expectInvalid(computeHost({ hostname: "nosuchhost" }), "Host with name nosuchhost could not be found.");
  });

  it("a malformed JSON body is a 400 before anything else", async () => {
    const before = await count();
    const res = await call("POST", "/v1/notifications", {
      raw: '{"notification": ',
      headers: { "content-type": "application/json" },
    });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 400,
      headers: faultHeaders(),
      body: fault("badRequest", 400, "Malformed request body"),
    });
    expect(await count()).toBe(before);
  });
});
