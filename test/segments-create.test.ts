import { describe, expect, it } from "vitest";
import {
  BOOLEAN_ENUM,
  call,
  del,
  type Exchange,
  expectFault,
  expectSuccess,
  fault,
  faultHeaders,
  INVALID_NAME,
  post,
  row,
  sql,
  successHeaders,
  TIMESTAMP,
  UUID4,
  unique,
  v1Headers,
} from "./helpers";

// POST /v1/segments: exchanges #28-#58, the deviations D2 (202), D3
// (recovery_method in any case) and D6 (invalid UTF-8), and the details of the
// name and description formats (docs/upstream.md,
// "Name and description formats").

interface Fields {
  name: string;
  recovery_method?: string;
  service_type?: string;
  description?: string | null;
  enabled?: boolean;
}

const count = async () => (await sql<{ n: number }>("SELECT count(*) AS n FROM failover_segments"))[0]?.n ?? Number.NaN;

/**
 * Asserts a 202 create at `version` answering `fields` (defaults: auto,
 * COMPUTE, enabled, no description), and the D1 row behind it.
 */
async function expectCreated(res: Exchange, fields: Fields, version = "1.0") {
  const expected = {
    name: fields.name,
    service_type: fields.service_type ?? "COMPUTE",
    enabled: fields.enabled ?? true,
    description: fields.description ?? null,
    recovery_method: fields.recovery_method ?? "auto",
  };
  expectSuccess(
    res,
    202,
    {
      segment: {
        id: expect.any(Number),
        uuid: expect.stringMatching(UUID4),
        ...expected,
        created_at: expect.stringMatching(TIMESTAMP),
        updated_at: null,
        deleted_at: null,
        deleted: false,
      },
    },
    version,
  );
  const segment = res.json.segment;
  expect(await row("failover_segments", "uuid", segment.uuid)).toEqual({
    created_at: segment.created_at.replace("T", " "),
    updated_at: null,
    deleted_at: null,
    deleted: 0,
    id: segment.id,
    uuid: segment.uuid,
    name: expected.name,
    service_type: expected.service_type,
    description: expected.description,
    recovery_method: expected.recovery_method,
    enabled: expected.enabled ? 1 : 0,
  });
  // created_at is now, in UTC, seconds precision.
  expect(Math.abs(Date.parse(`${segment.created_at}Z`) - Date.now())).toBeLessThan(120_000);
  return segment;
}

/** Asserts a 400 with `message` at `version` and that no row was written. */
async function expectRefused(send: () => Promise<Exchange>, message: string, version = "1.0") {
  const before = await count();
  const res = await send();
  expectFault(res, 400, "badRequest", message, version);
  expect(await count()).toBe(before);
}

const create = (segment: unknown, version?: string) => post("/v1/segments", { segment }, { version });
const rawCreate = (
  raw: string | Uint8Array,
  headers: Record<string, string> = { "content-type": "application/json" },
) => call("POST", "/v1/segments", { raw, headers });

describe("create (#28-#31)", () => {
  it("#28 D2: a minimal segment is created with 202 (upstream 201) and stored", async () => {
    const name = unique("seg-a");
    const res = await create({ name, recovery_method: "auto", service_type: "COMPUTE" });
    await expectCreated(res, { name });
  });

  it("#28 the body keeps upstream's key order and json.dumps spacing", async () => {
    const name = unique("seg-order");
    const res = await create({ name, recovery_method: "auto", service_type: "COMPUTE" });
    const s = res.json.segment;
    expect(res.text).toBe(
      `{"segment": {"id": ${s.id}, "uuid": "${s.uuid}", "name": "${name}", "service_type": "COMPUTE", ` +
        `"enabled": true, "description": null, "recovery_method": "auto", "created_at": "${s.created_at}", ` +
        `"updated_at": null, "deleted_at": null, "deleted": false}}`,
    );
  });

  it("#29 a description is stored and returned", async () => {
    const name = unique("seg-b");
    const res = await create({
      name,
      recovery_method: "reserved_host",
      service_type: "COMPUTE",
      description: "second segment",
    });
    await expectCreated(res, { name, recovery_method: "reserved_host", description: "second segment" });
  });

  it("#30 enabled=false is accepted at 1.2", async () => {
    const name = unique("seg-c");
    const res = await create(
      { name, recovery_method: "auto_priority", service_type: "COMPUTE", enabled: false },
      "1.2",
    );
    await expectCreated(res, { name, recovery_method: "auto_priority", enabled: false }, "1.2");
  });

  it('#31 enabled="yes" with description null at latest (1.3) is stored as true', async () => {
    const name = unique("seg-d");
    const res = await create(
      { name, recovery_method: "rh_priority", service_type: "COMPUTE", description: null, enabled: "yes" },
      "latest",
    );
    await expectCreated(res, { name, recovery_method: "rh_priority", enabled: true }, "1.3");
  });

  it.each([
    ["no", false],
    ["False", false],
    ["0", false],
    ["OFF", false],
    ["TRUE", true],
    ["On", true],
    ["1", true],
  ])("enabled=%j at 1.2 is converted strictly to %s", async (enabled, stored) => {
    const name = unique("seg-bool");
    const res = await create({ name, recovery_method: "auto", service_type: "COMPUTE", enabled }, "1.2");
    await expectCreated(res, { name, enabled: stored }, "1.2");
  });

  it("enabled is accepted at 1.3", async () => {
    const name = unique("seg-13");
    const res = await create({ name, recovery_method: "auto", service_type: "COMPUTE", enabled: false }, "1.3");
    await expectCreated(res, { name, enabled: false }, "1.3");
  });

  it.each([
    ["AUTO", "auto"],
    ["Reserved_Host", "reserved_host"],
    ["AUTO_PRIORITY", "auto_priority"],
    ["RH_Priority", "rh_priority"],
  ])("D3: recovery_method %j is accepted and stored lower-case", async (given, stored) => {
    const name = unique("seg-d3");
    const res = await create({ name, recovery_method: given, service_type: "COMPUTE" });
    await expectCreated(res, { name, recovery_method: stored });
  });

  it("non-ASCII characters are written as \\uXXXX escapes (ensure_ascii)", async () => {
    const name = `${unique("s\u00e9g")}\u00a0x`;
    const res = await create({ name, recovery_method: "auto", service_type: "COMPUTE", description: "caf\u00e9" });
    await expectCreated(res, { name, description: "caf\u00e9" });
    expect(res.text).toContain(`"name": "s\\u00e9g-`);
    expect(res.text).toContain('\\u00a0x"');
    expect(res.text).toContain('"description": "caf\\u00e9"');
  });
});

describe("enabled before 1.2 and bad booleans (#32-#34)", () => {
  const body = { name: "seg-x", recovery_method: "auto", service_type: "COMPUTE", enabled: true };
  const message =
    "Invalid input for field/attribute segment. Value: {'name': 'seg-x', 'recovery_method': 'auto', " +
    "'service_type': 'COMPUTE', 'enabled': True}. Additional properties are not allowed ('enabled' was unexpected)";

  it("#32 enabled at 1.0 is an unexpected property", async () => {
    await expectRefused(() => create(body), message);
  });

  it("#33 enabled at 1.1 is an unexpected property", async () => {
    await expectRefused(() => create(body, "1.1"), message, "1.1");
  });

  it('#34 enabled="maybe" at 1.2 is not one of the boolean values', async () => {
    await expectRefused(
      () => create({ ...body, enabled: "maybe" }, "1.2"),
      `Invalid input for field/attribute enabled. Value: maybe. 'maybe' is not one of ${BOOLEAN_ENUM}`,
      "1.2",
    );
  });

  it('enabled="y" at 1.2 is refused (only upstream\'s exact strings)', async () => {
    await expectRefused(
      () => create({ ...body, enabled: "y" }, "1.2"),
      `Invalid input for field/attribute enabled. Value: y. 'y' is not one of ${BOOLEAN_ENUM}`,
      "1.2",
    );
  });

  it("enabled=1 (a number) at 1.2 is not of type boolean or string", async () => {
    await expectRefused(
      () => create({ ...body, enabled: 1 }, "1.2"),
      "Invalid input for field/attribute enabled. Value: 1. 1 is not of type 'boolean', 'string'",
      "1.2",
    );
  });
});

describe("duplicates, deleted names and ids (#35, #113)", () => {
  it("#35 a live name is refused with 409 and no second row is stored", async () => {
    const name = unique("seg-dup");
    await expectCreated(await create({ name, recovery_method: "auto", service_type: "COMPUTE" }), { name });
    const res = await create({ name, recovery_method: "rh_priority", service_type: "OTHER" });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 409,
      headers: faultHeaders("1.0"),
      body: fault("conflictingRequest", 409, `Failover segment with name ${name} already exists.`),
    });
    expect(await sql("SELECT recovery_method, service_type FROM failover_segments WHERE name = ?", name)).toEqual([
      { recovery_method: "auto", service_type: "COMPUTE" },
    ]);
  });

  it("names are compared case-sensitively", async () => {
    const name = unique("Seg-Case");
    await expectCreated(await create({ name, recovery_method: "auto", service_type: "COMPUTE" }), { name });
    const lower = name.toLowerCase();
    await expectCreated(await create({ name: lower, recovery_method: "auto", service_type: "COMPUTE" }), {
      name: lower,
    });
  });

  it("#113 the name of a deleted segment can be used again", async () => {
    const name = unique("seg-reuse");
    const first = await expectCreated(await create({ name, recovery_method: "auto", service_type: "COMPUTE" }), {
      name,
    });
    expect((await del(`/v1/segments/${first.uuid}`)).status).toBe(204);
    const second = await expectCreated(await create({ name, recovery_method: "auto", service_type: "COMPUTE" }), {
      name,
    });
    expect(second.uuid).not.toBe(first.uuid);
    expect(await sql("SELECT id, deleted FROM failover_segments WHERE name = ? ORDER BY id", name)).toEqual([
      { id: first.id, deleted: first.id },
      { id: second.id, deleted: 0 },
    ]);
  });

  it("a refused duplicate consumes no id: the next segment gets the next id", async () => {
    const name = unique("seg-id");
    const first = await expectCreated(await create({ name, recovery_method: "auto", service_type: "COMPUTE" }), {
      name,
    });
    expect((await create({ name, recovery_method: "auto", service_type: "COMPUTE" })).status).toBe(409);
    const next = unique("seg-id");
    const second = await expectCreated(await create({ name: next, recovery_method: "auto", service_type: "COMPUTE" }), {
      name: next,
    });
    expect(second.id).toBe(first.id + 1);
  });
});

describe("schema validation (#36-#53)", () => {
  it("#36 a missing name", async () => {
    await expectRefused(
      () => create({ recovery_method: "auto", service_type: "COMPUTE" }),
      "Invalid input for field/attribute segment. Value: {'recovery_method': 'auto', 'service_type': 'COMPUTE'}. 'name' is a required property",
    );
  });

  it("#37 a missing recovery_method", async () => {
    await expectRefused(
      () => create({ name: "seg-x", service_type: "COMPUTE" }),
      "Invalid input for field/attribute segment. Value: {'name': 'seg-x', 'service_type': 'COMPUTE'}. 'recovery_method' is a required property",
    );
  });

  it("#38 a missing service_type", async () => {
    await expectRefused(
      () => create({ name: "seg-x", recovery_method: "auto" }),
      "Invalid input for field/attribute segment. Value: {'name': 'seg-x', 'recovery_method': 'auto'}. 'service_type' is a required property",
    );
  });

  it("#39 a recovery_method outside the enum", async () => {
    await expectRefused(
      () => create({ name: "seg-x", recovery_method: "manual", service_type: "COMPUTE" }),
      "Invalid input for field/attribute recovery_method. Value: manual. 'manual' is not one of ['auto', 'reserved_host', 'auto_priority', 'rh_priority']",
    );
  });

  it("#40 a name of 256 characters is too long", async () => {
    const name = "n".repeat(256);
    await expectRefused(
      () => create({ name, recovery_method: "auto", service_type: "COMPUTE" }),
      `Invalid input for field/attribute name. Value: ${name}. '${name}' is too long`,
    );
  });

  it("#41/#58 a name of 255 characters is accepted, and the segment deleted with 204", async () => {
    const prefix = unique("m");
    const name = prefix + "m".repeat(255 - prefix.length);
    expect(name.length).toBe(255);
    const segment = await expectCreated(await create({ name, recovery_method: "auto", service_type: "COMPUTE" }), {
      name,
    });
    const res = await del(`/v1/segments/${segment.uuid}`);
    expect({ status: res.status, text: res.text, headers: v1Headers(res) }).toEqual({
      status: 204,
      text: "",
      headers: successHeaders("1.0"),
    });
    expect((await row("failover_segments", "uuid", segment.uuid))?.deleted).toBe(segment.id);
  });

  it("#42 an empty name is too short", async () => {
    await expectRefused(
      () => create({ name: "", recovery_method: "auto", service_type: "COMPUTE" }),
      "Invalid input for field/attribute name. Value: . '' is too short",
    );
  });

  it("#43 a name with a leading space is an invalid name", async () => {
    await expectRefused(
      () => create({ name: " seg-x", recovery_method: "auto", service_type: "COMPUTE" }),
      INVALID_NAME,
    );
  });

  it.each([
    ["a trailing space", "seg-x "],
    ["a newline alone", "\n"],
    ["two trailing newlines", "seg-x\n\n"],
    ["a newline inside", "seg\nx"],
    ["a tab inside", "seg\tx"],
    ["an emoji (outside the BMP)", "seg-\u{1F600}-x"],
    ["a trailing no-break space", "seg-x\u00a0"],
    ["a leading ideographic space", "\u3000seg-x"],
  ])("a name with %s is an invalid name", async (_what, name) => {
    await expectRefused(() => create({ name, recovery_method: "auto", service_type: "COMPUTE" }), INVALID_NAME);
  });

  it("a name with one trailing newline is accepted (Python's `$` matches before a final newline)", async () => {
    const name = `${unique("seg-nl")}\n`;
    const res = await create({ name, recovery_method: "auto", service_type: "COMPUTE" });
    await expectCreated(res, { name });
    expect(res.text).toContain(`"name": "${name.slice(0, -1)}\\n"`);
  });

  it("a name with a space or a no-break space inside is accepted", async () => {
    const name = `${unique("seg")} a\u00a0b`;
    await expectCreated(await create({ name, recovery_method: "auto", service_type: "COMPUTE" }), { name });
  });

  it("service_type follows the name format", async () => {
    await expectRefused(
      () => create({ name: "seg-x", recovery_method: "auto", service_type: "COMPUTE " }),
      INVALID_NAME,
    );
  });

  it("#44 an extra field in the segment", async () => {
    await expectRefused(
      () => create({ name: "seg-x", recovery_method: "auto", service_type: "COMPUTE", color: "red" }),
      "Invalid input for field/attribute segment. Value: {'name': 'seg-x', 'recovery_method': 'auto', 'service_type': 'COMPUTE', 'color': 'red'}. Additional properties are not allowed ('color' was unexpected)",
    );
  });

  it("several extra fields are listed together", async () => {
    await expectRefused(
      () => create({ name: "seg-x", recovery_method: "auto", service_type: "COMPUTE", a: 1, b: 2, c: 3 }),
      "Invalid input for field/attribute segment. Value: {'name': 'seg-x', 'recovery_method': 'auto', 'service_type': 'COMPUTE', 'a': 1, 'b': 2, 'c': 3}. Additional properties are not allowed ('a', 'b', 'c' were unexpected)",
    );
  });

  it("__proto__ in the segment is an extra field like any other", async () => {
    const name = unique("seg-proto");
    await expectRefused(
      () =>
        rawCreate(
          `{"segment": {"name": "${name}", "recovery_method": "auto", "service_type": "COMPUTE", "__proto__": {"x": 1}}}`,
        ),
      `Invalid input for field/attribute segment. Value: {'name': '${name}', 'recovery_method': 'auto', 'service_type': 'COMPUTE', '__proto__': {'x': 1}}. Additional properties are not allowed ('__proto__' was unexpected)`,
    );
  });

  it("__proto__ at the top level is an extra field like any other", async () => {
    const name = unique("seg-proto");
    await expectRefused(
      () =>
        rawCreate(
          `{"segment": {"name": "${name}", "recovery_method": "auto", "service_type": "COMPUTE"}, "__proto__": 1}`,
        ),
      "Additional properties are not allowed ('__proto__' was unexpected)",
    );
  });

  it("#45 an extra top-level field", async () => {
    await expectRefused(
      () =>
        post("/v1/segments", { segment: { name: "seg-x", recovery_method: "auto", service_type: "COMPUTE" }, x: 1 }),
      "Additional properties are not allowed ('x' was unexpected)",
    );
  });

  it("#46 a name that is a number", async () => {
    await expectRefused(
      () => create({ name: 123, recovery_method: "auto", service_type: "COMPUTE" }),
      "Invalid input for field/attribute name. Value: 123. 123 is not of type 'string'",
    );
  });

  it("#47 a description that is a number", async () => {
    await expectRefused(
      () => create({ name: "seg-x", recovery_method: "auto", service_type: "COMPUTE", description: 5 }),
      "Invalid input for field/attribute description. Value: 5. 5 is not of type 'string', 'null'",
    );
  });

  it("#48 a null service_type", async () => {
    await expectRefused(
      () => create({ name: "seg-x", recovery_method: "auto", service_type: null }),
      "Invalid input for field/attribute service_type. Value: None. None is not of type 'string'",
    );
  });

  it("#49 a segment that is a string", async () => {
    await expectRefused(
      () => create("seg-x"),
      "Invalid input for field/attribute segment. Value: seg-x. 'seg-x' is not of type 'object'",
    );
  });

  it("#50 a body without the segment wrapper", async () => {
    await expectRefused(
      () => post("/v1/segments", { name: "seg-x", recovery_method: "auto", service_type: "COMPUTE" }),
      "'segment' is a required property",
    );
  });

  it("#51 a body that is a JSON array", async () => {
    await expectRefused(() => rawCreate("[]"), "[] is not of type 'object'");
  });

  it("a body that is JSON null", async () => {
    await expectRefused(() => rawCreate("null"), "None is not of type 'object'");
  });

  it("a body that is a JSON string", async () => {
    await expectRefused(() => rawCreate('"str"'), "'str' is not of type 'object'");
  });

  it("#52 malformed JSON", async () => {
    await expectRefused(() => rawCreate('{"segment": {'), "Malformed request body");
  });

  it("JSON followed by garbage is malformed", async () => {
    await expectRefused(
      () => rawCreate('{"segment": {"name": "seg-x", "recovery_method": "auto", "service_type": "COMPUTE"}} x'),
      "Malformed request body",
    );
  });

  it("#53 an empty body (Content-Length 0) validates as None", async () => {
    await expectRefused(() => rawCreate(""), "None is not of type 'object'");
  });

  it("D6: a body that is not valid UTF-8 is a malformed body (upstream 14.0.2: 500)", async () => {
    const json = new TextEncoder().encode(
      '{"segment": {"name": "seg-\u0001", "recovery_method": "auto", "service_type": "COMPUTE"}}',
    );
    const bytes = json.map((b) => (b === 0x01 ? 0xff : b));
    await expectRefused(() => rawCreate(bytes), "Malformed request body");
  });

  it("the first error in schema order wins: a bad name before a bad recovery_method", async () => {
    await expectRefused(
      () => create({ name: 7, recovery_method: "manual", service_type: "COMPUTE" }),
      "Invalid input for field/attribute name. Value: 7. 7 is not of type 'string'",
    );
  });

  it("the first error in schema order wins: an extra field before a missing name", async () => {
    await expectRefused(
      () => create({ recovery_method: "auto", service_type: "COMPUTE", color: "red" }),
      "Invalid input for field/attribute segment. Value: {'recovery_method': 'auto', 'service_type': 'COMPUTE', 'color': 'red'}. Additional properties are not allowed ('color' was unexpected)",
    );
  });

  it("a Content-Type that is not JSON is refused with 415 and nothing is stored", async () => {
    const before = await count();
    const res = await rawCreate(
      JSON.stringify({ segment: { name: unique("seg-xml"), recovery_method: "auto", service_type: "COMPUTE" } }),
      { "content-type": "application/xml" },
    );
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 415,
      headers: faultHeaders("1.0"),
      body: fault("badMediaType", 415, "Unsupported Content-Type"),
    });
    expect(await count()).toBe(before);
  });
});

describe("descriptions", () => {
  it("a description with newlines is accepted", async () => {
    const name = unique("seg-desc");
    const description = "line one\nline two\n";
    await expectCreated(await create({ name, recovery_method: "auto", service_type: "COMPUTE", description }), {
      name,
      description,
    });
  });

  it("an empty description is accepted and kept empty", async () => {
    const name = unique("seg-desc");
    await expectCreated(await create({ name, recovery_method: "auto", service_type: "COMPUTE", description: "" }), {
      name,
      description: "",
    });
  });

  it("a description longer than 255 characters is accepted (no maximum)", async () => {
    const name = unique("seg-desc");
    const description = "d".repeat(1000);
    await expectCreated(await create({ name, recovery_method: "auto", service_type: "COMPUTE", description }), {
      name,
      description,
    });
  });

  it.each([
    ["a tab", "a\tb"],
    ["a carriage return", "a\rb"],
  ])("a description with %s is refused", async (_what, description) => {
    const before = await count();
    const res = await create({ name: "seg-x", recovery_method: "auto", service_type: "COMPUTE", description });
    expect({ status: res.status, headers: v1Headers(res) }).toEqual({ status: 400, headers: faultHeaders("1.0") });
    expect(res.json.badRequest.code).toBe(400);
    expect(
      res.json.badRequest.message.startsWith(`Invalid input for field/attribute description. Value: ${description}.`),
    ).toBe(true);
    expect(await count()).toBe(before);
  });
});

describe("bodies without a JSON Content-Type (#54-#57)", () => {
  it("#54/#56 a valid body without Content-Type is read as JSON; the segment deletes with 204", async () => {
    const name = unique("seg-noct");
    const res = await rawCreate(
      new TextEncoder().encode(JSON.stringify({ segment: { name, recovery_method: "auto", service_type: "COMPUTE" } })),
      {},
    );
    const segment = await expectCreated(res, { name });
    const deleted = await del(`/v1/segments/${segment.uuid}`);
    expect({ status: deleted.status, text: deleted.text, headers: v1Headers(deleted) }).toEqual({
      status: 204,
      text: "",
      headers: successHeaders("1.0"),
    });
  });

  it("#55/#57 a valid body with Content-Type text/plain is read as JSON; the segment deletes with 204", async () => {
    const name = unique("seg-text");
    const res = await rawCreate(
      JSON.stringify({ segment: { name, recovery_method: "auto", service_type: "COMPUTE" } }),
      {
        "content-type": "text/plain",
      },
    );
    const segment = await expectCreated(res, { name });
    const deleted = await del(`/v1/segments/${segment.uuid}`);
    expect({ status: deleted.status, text: deleted.text, headers: v1Headers(deleted) }).toEqual({
      status: 204,
      text: "",
      headers: successHeaders("1.0"),
    });
  });

  it("a charset parameter on the JSON type is ignored", async () => {
    const name = unique("seg-charset");
    const res = await rawCreate(
      JSON.stringify({ segment: { name, recovery_method: "auto", service_type: "COMPUTE" } }),
      {
        "content-type": "application/json; charset=UTF-8",
      },
    );
    await expectCreated(res, { name });
  });
});
