import { beforeAll, describe, expect, it } from "vitest";
import {
  BOOLEAN_ENUM,
  call,
  createSegment,
  del,
  type Exchange,
  expectFault,
  expectSuccess,
  fault,
  faultHeaders,
  get,
  INVALID_NAME,
  type Json,
  post,
  put,
  row,
  sql,
  storedHostRow,
  TIMESTAMP,
  UNKNOWN_UUID,
  UUID4,
  unique,
  v1Headers,
} from "./helpers";

// POST /v1/segments/{segment_id}/hosts: exchanges #115-#128, the validation
// rules (docs/upstream.md, "Hosts", "Validation messages" and
// "Boolean inputs") and the deviation D6 (null type / control_attributes). The
// Worker under test has no NOVA_URL, so every host name is accepted (D10; the
// Nova check itself is in hosts-compute-check.test.ts).

interface HostFields {
  name: string;
  type?: string;
  control_attributes?: string;
  reserved?: boolean;
  on_maintenance?: boolean;
}

const hostsPath = (segment: Json) => `/v1/segments/${segment.uuid}/hosts`;
const create = (segment: Json, host: unknown, version?: string) => post(hostsPath(segment), { host }, { version });

const hostCount = async () => (await sql<{ n: number }>("SELECT count(*) AS n FROM hosts"))[0]?.n ?? Number.NaN;
const rowsNamed = (name: string) => sql("SELECT * FROM hosts WHERE name = ?", name);

/** The host body a create answers, with the segment embedded as it is now. */
function hostBody(segment: Json, fields: HostFields) {
  return {
    id: expect.any(Number),
    uuid: expect.stringMatching(UUID4),
    name: fields.name,
    failover_segment_id: segment.uuid,
    failover_segment: segment,
    type: fields.type ?? "COMPUTE",
    reserved: fields.reserved ?? false,
    control_attributes: fields.control_attributes ?? "SSH",
    on_maintenance: fields.on_maintenance ?? false,
    created_at: expect.stringMatching(TIMESTAMP),
    updated_at: null,
    deleted_at: null,
    deleted: false,
  };
}

/** Asserts a 201 create of `fields` in `segment` at `version`, and its D1 row. */
async function expectCreated(res: Exchange, segment: Json, fields: HostFields, version = "1.0") {
  expectSuccess(res, 201, { host: hostBody(segment, fields) }, version);
  const host = res.json.host;
  expect(await row("hosts", "uuid", host.uuid)).toEqual(storedHostRow(host));
  expect(Math.abs(Date.parse(`${host.created_at}Z`) - Date.now())).toBeLessThan(120_000);
  return host;
}

/** Asserts a fault answer and that no host row was written. */
async function expectNoWrite(
  send: () => Promise<Exchange>,
  status: number,
  name: string,
  message: string,
  version = "1.0",
) {
  const before = await hostCount();
  const res = await send();
  expectFault(res, status, name, message, version);
  expect(await hostCount()).toBe(before);
}

const expectRefused = (send: () => Promise<Exchange>, message: string, version = "1.0") =>
  expectNoWrite(send, 400, "badRequest", message, version);

describe("create (#115-#117)", () => {
  let segA: Json;
  beforeAll(async () => {
    segA = await createSegment({ name: unique("seg-a") });
  });

  it("#115 a host is created with 201, the segment embedded and failover_segment_id = segment uuid", async () => {
    const name = unique("compute1");
    const res = await create(segA, { name, type: "COMPUTE", control_attributes: "SSH" });
    await expectCreated(res, segA, { name });
  });

  it("#115 the body keeps upstream's key order and json.dumps spacing", async () => {
    const name = unique("compute-order");
    const res = await create(segA, { name, type: "COMPUTE", control_attributes: "SSH" });
    const h = res.json.host;
    const s = segA;
    expect(res.text).toBe(
      `{"host": {"id": ${h.id}, "uuid": "${h.uuid}", "name": "${name}", "failover_segment_id": "${s.uuid}", ` +
        `"failover_segment": {"id": ${s.id}, "uuid": "${s.uuid}", "name": "${s.name}", "service_type": "COMPUTE", ` +
        `"enabled": true, "description": null, "recovery_method": "auto", "created_at": "${s.created_at}", ` +
        `"updated_at": null, "deleted_at": null, "deleted": false}, "type": "COMPUTE", "reserved": false, ` +
        `"control_attributes": "SSH", "on_maintenance": false, "created_at": "${h.created_at}", ` +
        `"updated_at": null, "deleted_at": null, "deleted": false}}`,
    );
  });

  it('#116 reserved="True" and on_maintenance=false are stored as true and false', async () => {
    const name = unique("compute2");
    const res = await create(segA, {
      name,
      type: "COMPUTE",
      control_attributes: "SSH",
      reserved: "True",
      on_maintenance: false,
    });
    await expectCreated(res, segA, { name, reserved: true, on_maintenance: false });
  });

  it("#117 on_maintenance=true in a renamed segment embeds the segment as it is now", async () => {
    const segB = await createSegment({ name: unique("seg-b") });
    const renamed = await put(`/v1/segments/${segB.uuid}`, { segment: { name: unique("seg-b2") } });
    expect(renamed.status).toBe(200);
    const now = renamed.json.segment;
    expect(now.updated_at).toMatch(TIMESTAMP);
    const name = unique("compute3");
    const res = await create(now, { name, type: "COMPUTE", control_attributes: "SSH", on_maintenance: true });
    await expectCreated(res, now, { name, on_maintenance: true });
  });

  it("a create at 1.2 answers with the masakari 1.2 header", async () => {
    const name = unique("compute12");
    const res = await create(segA, { name, type: "COMPUTE", control_attributes: "SSH" }, "1.2");
    await expectCreated(res, segA, { name }, "1.2");
  });

  it("a create at latest answers with the masakari 1.3 header", async () => {
    const name = unique("compute13");
    const res = await create(segA, { name, type: "COMPUTE", control_attributes: "SSH" }, "latest");
    await expectCreated(res, segA, { name }, "1.3");
  });

  it("an empty type and an empty control_attributes are accepted", async () => {
    const name = unique("compute-empty");
    const res = await create(segA, { name, type: "", control_attributes: "" });
    await expectCreated(res, segA, { name, type: "", control_attributes: "" });
  });

  it("control_attributes may hold newlines and printable characters", async () => {
    const name = unique("compute-ca");
    const control_attributes = "ssh user@host\nport 22 \u00e9";
    const res = await create(segA, { name, type: "COMPUTE", control_attributes });
    await expectCreated(res, segA, { name, control_attributes });
  });

  it("a type of 255 letters and digits is accepted", async () => {
    const name = unique("compute-type255");
    const type = `${"T1".repeat(127)}X`;
    const res = await create(segA, { name, type, control_attributes: "SSH" });
    await expectCreated(res, segA, { name, type });
  });

  it("a name of 255 characters is accepted", async () => {
    const name = unique("c").padEnd(255, "n");
    const res = await create(segA, { name, type: "COMPUTE", control_attributes: "SSH" });
    await expectCreated(res, segA, { name });
  });

  it("a name with an inner space and non-ASCII characters is accepted", async () => {
    const name = `${unique("comp\u00fcte")} x\u00a0y`;
    const res = await create(segA, { name, type: "COMPUTE", control_attributes: "SSH" });
    await expectCreated(res, segA, { name });
    expect(res.text).toContain(`"name": "comp\\u00fcte-`);
  });

  it("a host can be created in a disabled segment", async () => {
    const disabled = await createSegment({ name: unique("seg-off"), enabled: false });
    const name = unique("compute-off");
    const res = await create(disabled, { name, type: "COMPUTE", control_attributes: "SSH" });
    await expectCreated(res, disabled, { name });
  });
});

describe("duplicate names (#118-#119)", () => {
  let segA: Json;
  let segB: Json;
  let existing: Json;
  beforeAll(async () => {
    segA = await createSegment({ name: unique("seg-a") });
    segB = await createSegment({ name: unique("seg-b2") });
    const res = await create(segA, { name: unique("compute1"), type: "COMPUTE", control_attributes: "SSH" });
    expect(res.status).toBe(201);
    existing = res.json.host;
  });

  it("#118 the same name in the same segment is 409 and writes no row", async () => {
    await expectNoWrite(
      () => create(segA, { name: existing.name, type: "COMPUTE", control_attributes: "SSH" }),
      409,
      "conflictingRequest",
      `Host with name ${existing.name} already exists.`,
    );
    expect(await rowsNamed(existing.name)).toEqual([storedHostRow(existing)]);
  });

  it("#119 the same name in another segment is 409 and writes no row", async () => {
    await expectNoWrite(
      () => create(segB, { name: existing.name, type: "COMPUTE", control_attributes: "SSH" }),
      409,
      "conflictingRequest",
      `Host with name ${existing.name} already exists.`,
    );
    expect(await rowsNamed(existing.name)).toEqual([storedHostRow(existing)]);
  });

  it("a duplicate with other field values is still 409", async () => {
    await expectNoWrite(
      () => create(segB, { name: existing.name, type: "CONTROLLER", control_attributes: "TCP", reserved: true }),
      409,
      "conflictingRequest",
      `Host with name ${existing.name} already exists.`,
    );
  });

  it("names are compared case-sensitively: the upper-case name is another host", async () => {
    const name = existing.name.toUpperCase();
    const res = await create(segA, { name, type: "COMPUTE", control_attributes: "SSH" });
    await expectCreated(res, segA, { name });
  });
});

describe("validation (#121-#127)", () => {
  let segA: Json;
  beforeAll(async () => {
    segA = await createSegment({ name: unique("seg-a") });
  });

  it("#121 a missing type is reported with the whole host object", async () => {
    await expectRefused(
      () => create(segA, { name: "compute9", control_attributes: "SSH" }),
      "Invalid input for field/attribute host. Value: {'name': 'compute9', 'control_attributes': 'SSH'}. 'type' is a required property",
    );
  });

  it("#122 a missing control_attributes is reported", async () => {
    await expectRefused(
      () => create(segA, { name: "compute9", type: "COMPUTE" }),
      "Invalid input for field/attribute host. Value: {'name': 'compute9', 'type': 'COMPUTE'}. 'control_attributes' is a required property",
    );
  });

  it("#123 a missing name is reported", async () => {
    await expectRefused(
      () => create(segA, { type: "COMPUTE", control_attributes: "SSH" }),
      "Invalid input for field/attribute host. Value: {'type': 'COMPUTE', 'control_attributes': 'SSH'}. 'name' is a required property",
    );
  });

  it("#124 a type with a space does not match the pattern", async () => {
    await expectRefused(
      () => create(segA, { name: "compute9", type: "COM PUTE", control_attributes: "SSH" }),
      "Invalid input for field/attribute type. Value: COM PUTE. 'COM PUTE' does not match '^[a-zA-Z0-9]*$'",
    );
  });

  it("a type with a dash does not match the pattern", async () => {
    await expectRefused(
      () => create(segA, { name: "compute9", type: "COM-PUTE", control_attributes: "SSH" }),
      "Invalid input for field/attribute type. Value: COM-PUTE. 'COM-PUTE' does not match '^[a-zA-Z0-9]*$'",
    );
  });

  it("a type of 256 characters is too long", async () => {
    const type = "T".repeat(256);
    await expectRefused(
      () => create(segA, { name: "compute9", type, control_attributes: "SSH" }),
      `Invalid input for field/attribute type. Value: ${type}. '${type}' is too long`,
    );
  });

  it('#125 reserved="maybe" is not one of the boolean values', async () => {
    await expectRefused(
      () => create(segA, { name: "compute9", type: "COMPUTE", control_attributes: "SSH", reserved: "maybe" }),
      `Invalid input for field/attribute reserved. Value: maybe. 'maybe' is not one of ${BOOLEAN_ENUM}`,
    );
  });

  it('on_maintenance="maybe" is not one of the boolean values', async () => {
    await expectRefused(
      () => create(segA, { name: "compute9", type: "COMPUTE", control_attributes: "SSH", on_maintenance: "maybe" }),
      `Invalid input for field/attribute on_maintenance. Value: maybe. 'maybe' is not one of ${BOOLEAN_ENUM}`,
    );
  });

  it("#126 an extra field in host is not allowed", async () => {
    await expectRefused(
      () => create(segA, { name: "compute9", type: "COMPUTE", control_attributes: "SSH", foo: 1 }),
      "Invalid input for field/attribute host. Value: {'name': 'compute9', 'type': 'COMPUTE', 'control_attributes': 'SSH', 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)",
    );
  });

  it("two extra fields are listed together", async () => {
    await expectRefused(
      () => create(segA, { name: "compute9", type: "COMPUTE", control_attributes: "SSH", x: 1, y: "z" }),
      "Invalid input for field/attribute host. Value: {'name': 'compute9', 'type': 'COMPUTE', 'control_attributes': 'SSH', 'x': 1, 'y': 'z'}. Additional properties are not allowed ('x', 'y' were unexpected)",
    );
  });

  it("failover_segment_id is not an accepted input", async () => {
    await expectRefused(
      () =>
        create(segA, { name: "compute9", type: "COMPUTE", control_attributes: "SSH", failover_segment_id: segA.uuid }),
      `Invalid input for field/attribute host. Value: {'name': 'compute9', 'type': 'COMPUTE', 'control_attributes': 'SSH', 'failover_segment_id': '${segA.uuid}'}. Additional properties are not allowed ('failover_segment_id' was unexpected)`,
    );
  });

  it("#127 a body without the host wrapper is refused", async () => {
    await expectRefused(
      () => post(hostsPath(segA), { name: "compute9", type: "COMPUTE", control_attributes: "SSH" }),
      "'host' is a required property",
    );
  });

  it("an extra top-level field is not allowed", async () => {
    await expectRefused(
      () => post(hostsPath(segA), { host: { name: "compute9", type: "COMPUTE", control_attributes: "SSH" }, x: 1 }),
      "Additional properties are not allowed ('x' was unexpected)",
    );
  });

  it("host as a string is not an object", async () => {
    await expectRefused(
      () => post(hostsPath(segA), { host: "compute9" }),
      "Invalid input for field/attribute host. Value: compute9. 'compute9' is not of type 'object'",
    );
  });

  it("a JSON array body is not an object", async () => {
    await expectRefused(() => post(hostsPath(segA), []), "[] is not of type 'object'");
  });

  it("an empty body is validated as None", async () => {
    await expectRefused(
      () => call("POST", hostsPath(segA), { raw: "", headers: { "content-type": "application/json" } }),
      "None is not of type 'object'",
    );
  });

  it("malformed JSON is a malformed request body", async () => {
    await expectRefused(
      () => call("POST", hostsPath(segA), { raw: '{"host": ', headers: { "content-type": "application/json" } }),
      "Malformed request body",
    );
  });

  it("an empty name is too short", async () => {
    await expectRefused(
      () => create(segA, { name: "", type: "COMPUTE", control_attributes: "SSH" }),
      "Invalid input for field/attribute name. Value: . '' is too short",
    );
  });

  it("a name of 256 characters is too long", async () => {
    const name = "n".repeat(256);
    await expectRefused(
      () => create(segA, { name, type: "COMPUTE", control_attributes: "SSH" }),
      `Invalid input for field/attribute name. Value: ${name}. '${name}' is too long`,
    );
  });

  it.each([
    ["a leading space", " compute9"],
    ["a trailing space", "compute9 "],
    ["a tab inside", "comp\tute9"],
    ["a character above the BMP", "compute\u{1F600}"],
    ["only a space", " "],
  ])("a name with %s is an invalid name", async (_what, name) => {
    await expectRefused(() => create(segA, { name, type: "COMPUTE", control_attributes: "SSH" }), INVALID_NAME);
  });

  it("a name that is a number is not a string", async () => {
    await expectRefused(
      () => create(segA, { name: 123, type: "COMPUTE", control_attributes: "SSH" }),
      "Invalid input for field/attribute name. Value: 123. 123 is not of type 'string'",
    );
  });

  it("a null name is not a string", async () => {
    await expectRefused(
      () => create(segA, { name: null, type: "COMPUTE", control_attributes: "SSH" }),
      "Invalid input for field/attribute name. Value: None. None is not of type 'string'",
    );
  });

  it("type 5 keeps upstream's nullable-string message", async () => {
    await expectRefused(
      () => create(segA, { name: "compute9", type: 5, control_attributes: "SSH" }),
      "Invalid input for field/attribute type. Value: 5. 5 is not of type 'string', 'null'",
    );
  });

  it("control_attributes 5 keeps upstream's nullable-string message", async () => {
    await expectRefused(
      () => create(segA, { name: "compute9", type: "COMPUTE", control_attributes: 5 }),
      "Invalid input for field/attribute control_attributes. Value: 5. 5 is not of type 'string', 'null'",
    );
  });

  it("control_attributes with a tab does not match its pattern", async () => {
    const before = await hostCount();
    const res = await create(segA, { name: "compute9", type: "COMPUTE", control_attributes: "a\tb" });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 400,
      headers: faultHeaders(),
      body: fault(
        "badRequest",
        400,
        expect.stringMatching(
          /^Invalid input for field\/attribute control_attributes\. Value: a\tb\. 'a\\tb' does not match /,
        ),
      ),
    });
    expect(await hostCount()).toBe(before);
  });

  it("the first failing property in schema order is reported (name before type)", async () => {
    await expectRefused(() => create(segA, { type: "A B", name: " x", control_attributes: "SSH" }), INVALID_NAME);
  });

  it("a bad property is reported before an extra field", async () => {
    await expectRefused(
      () => create(segA, { foo: 1, name: "compute9", type: "A B", control_attributes: "SSH" }),
      "Invalid input for field/attribute type. Value: A B. 'A B' does not match '^[a-zA-Z0-9]*$'",
    );
  });

  it("an extra field is reported before a missing required field", async () => {
    await expectRefused(
      () => create(segA, { name: "compute9", foo: 1 }),
      "Invalid input for field/attribute host. Value: {'name': 'compute9', 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)",
    );
  });

  it("the body is validated before the segment is looked up", async () => {
    await expectRefused(
      () => post(`/v1/segments/${UNKNOWN_UUID}/hosts`, { host: { name: "compute9" } }),
      "Invalid input for field/attribute host. Value: {'name': 'compute9'}. 'type' is a required property",
    );
  });
});

describe("D6: null type and control_attributes", () => {
  let segA: Json;
  beforeAll(async () => {
    segA = await createSegment({ name: unique("seg-a") });
  });

  it("D6: type null on create is 400 (upstream 500) and writes no row", async () => {
    await expectRefused(
      () => create(segA, { name: unique("compute-null"), type: null, control_attributes: "SSH" }),
      "Invalid input for field/attribute type. Value: None. None is not of type 'string'",
    );
  });

  it("D6: control_attributes null on create is 400 (upstream 500) and writes no row", async () => {
    await expectRefused(
      () => create(segA, { name: unique("compute-null"), type: "COMPUTE", control_attributes: null }),
      "Invalid input for field/attribute control_attributes. Value: None. None is not of type 'string'",
    );
  });
});

describe("boolean inputs", () => {
  let segA: Json;
  beforeAll(async () => {
    segA = await createSegment({ name: unique("seg-bool") });
  });

  const TRUE_FORMS: unknown[] = [true, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes"];
  const FALSE_FORMS: unknown[] = [false, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"];
  const cases = (["reserved", "on_maintenance"] as const).flatMap((field) => [
    ...TRUE_FORMS.map((value) => [field, value, true] as const),
    ...FALSE_FORMS.map((value) => [field, value, false] as const),
  ]);

  it.each(cases)("%s=%j is accepted and stored as %s", async (field, value, stored) => {
    const name = unique("compute-bool");
    const opposite = !stored;
    const other = field === "reserved" ? "on_maintenance" : "reserved";
    // The other flag is set to the opposite, so the two cannot be mixed up.
    const res = await create(segA, {
      name,
      type: "COMPUTE",
      control_attributes: "SSH",
      [field]: value,
      [other]: opposite,
    });
    await expectCreated(res, segA, { name, [field]: stored, [other]: opposite });
  });

  it.each(
    (["reserved", "on_maintenance"] as const).flatMap((field) =>
      ["y", "n", "t", "f", "tRue", "fAlse", "Y", "oN", "", " true", "true "].map((value) => [field, value] as const),
    ),
  )("%s=%j is not one of the accepted strings", async (field, value) => {
    await expectRefused(
      () => create(segA, { name: "compute9", type: "COMPUTE", control_attributes: "SSH", [field]: value }),
      `Invalid input for field/attribute ${field}. Value: ${value}. '${value}' is not one of ${BOOLEAN_ENUM}`,
    );
  });

  it.each(["reserved", "on_maintenance"])("%s=1 (a number) is neither boolean nor string", async (field) => {
    await expectRefused(
      () => create(segA, { name: "compute9", type: "COMPUTE", control_attributes: "SSH", [field]: 1 }),
      `Invalid input for field/attribute ${field}. Value: 1. 1 is not of type 'boolean', 'string'`,
    );
  });

  it.each(["reserved", "on_maintenance"])("%s=null is neither boolean nor string", async (field) => {
    await expectRefused(
      () => create(segA, { name: "compute9", type: "COMPUTE", control_attributes: "SSH", [field]: null }),
      `Invalid input for field/attribute ${field}. Value: None. None is not of type 'boolean', 'string'`,
    );
  });

  it("reserved and on_maintenance default to false", async () => {
    const name = unique("compute-default");
    const res = await create(segA, { name, type: "COMPUTE", control_attributes: "SSH" });
    await expectCreated(res, segA, { name, reserved: false, on_maintenance: false });
  });
});

describe("unknown segments (#128)", () => {
  const body = { name: "compute9", type: "COMPUTE", control_attributes: "SSH" };

  it("#128 create in an unknown segment is 404 and writes no row", async () => {
    await expectNoWrite(
      () => post(`/v1/segments/${UNKNOWN_UUID}/hosts`, { host: body }),
      404,
      "itemNotFound",
      `No failover segment with id ${UNKNOWN_UUID}.`,
    );
  });

  it("create in a non-uuid segment is 404 with the id as given", async () => {
    await expectNoWrite(
      () => post("/v1/segments/abc/hosts", { host: body }),
      404,
      "itemNotFound",
      "No failover segment with id abc.",
    );
  });

  it("create under a segment's integer id is 404", async () => {
    const segment = await createSegment({ name: unique("seg-int") });
    await expectNoWrite(
      () => post(`/v1/segments/${segment.id}/hosts`, { host: body }),
      404,
      "itemNotFound",
      `No failover segment with id ${segment.id}.`,
    );
  });

  it("create in a deleted segment is 404 and writes no row", async () => {
    const segment = await createSegment({ name: unique("seg-gone") });
    expect((await del(`/v1/segments/${segment.uuid}`)).status).toBe(204);
    await expectNoWrite(
      () => create(segment, { ...body, name: unique("compute-gone") }),
      404,
      "itemNotFound",
      `No failover segment with id ${segment.uuid}.`,
    );
  });

  it("the 404 carries the request's microversion", async () => {
    await expectNoWrite(
      () => post(`/v1/segments/${UNKNOWN_UUID}/hosts`, { host: body }, { version: "1.2" }),
      404,
      "itemNotFound",
      `No failover segment with id ${UNKNOWN_UUID}.`,
      "1.2",
    );
  });

  it("a created host is then shown under its segment", async () => {
    const segment = await createSegment({ name: unique("seg-show") });
    const res = await create(segment, { ...body, name: unique("compute-show") });
    const host = await expectCreated(res, segment, { name: res.json.host.name });
    const shown = await get(`${hostsPath(segment)}/${host.uuid}`);
    expect({ status: shown.status, body: shown.json }).toEqual({ status: 200, body: { host } });
  });
});
