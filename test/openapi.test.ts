import { describe, expect, it } from "vitest";
import { v1Routes } from "../src/resources";
import { get, type Json, ORIGIN } from "./helpers";
import { checkAgainstDocument } from "./openapi-conformance";

// GET /openapi.json: an OpenAPI 3.1 document generated from the route
// declarations. Every exchange of every suite is also checked against it
// (test/openapi-conformance.ts, through helpers.ts's call()).

const doc = async () => (await get("/openapi.json")).json;

describe("GET /openapi.json", () => {
  it("is public, JSON, OpenAPI 3.1, with Keystone's token as its security scheme", async () => {
    const res = await get("/openapi.json");
    expect([res.status, res.headers.get("content-type"), res.json.openapi, res.json.info.version]).toEqual([
      200,
      "application/json",
      "3.1.0",
      "1.3",
    ]);
    expect(res.json.components.securitySchemes.keystone).toMatchObject({
      type: "apiKey",
      in: "header",
      name: "X-Auth-Token",
    });
    expect(res.json.security).toEqual([{ keystone: [] }, {}]);
  });

  it("every /v1 route in both URL forms, and the public paths", async () => {
    const paths: Record<string, Json> = (await doc()).paths;
    for (const route of v1Routes) {
      const path = route.path === "/" ? "" : route.path.replace(/:([a-z_]+)/g, "{$1}");
      expect(paths[`/v1${path}`]?.[route.method.toLowerCase()], `${route.method} /v1${path}`).toBeDefined();
      if (path !== "") expect(paths[`/v1/{project_id}${path}`]?.[route.method.toLowerCase()]).toBeDefined();
    }
    for (const path of ["/", "/healthcheck", "/openapi.json", "/docs"]) expect(paths[path]?.get, path).toBeDefined();
  });

  it("the microversion header on every /v1 operation, and what depends on it", async () => {
    const d = await doc();
    for (const [path, methods] of Object.entries(d.paths as Record<string, Json>)) {
      if (!path.startsWith("/v1")) continue;
      for (const op of Object.values(methods as Record<string, Json>)) {
        expect(op.parameters, `${path}`).toContainEqual({ $ref: "#/components/parameters/microversion" });
      }
    }
    const create = d.paths["/v1/segments"].post.requestBody.content["application/json"];
    expect(create["x-openstack-microversions"].map((v: Json) => v.since)).toEqual(["1.0", "1.2"]);
    expect(d.components.schemas["SegmentCreate_1.2"].properties.segment.properties.enabled).toBeDefined();
    expect(d.components.schemas["SegmentCreate_1.0"].properties.segment.properties.enabled).toBeUndefined();
    expect(d.components.schemas.Notification.properties.recovery_workflow_details.description).toContain("1.1");
  });

  it("the query parameters of every list, sort keys and directions with their values", async () => {
    const list: Json = (await doc()).paths["/v1/notifications"].get;
    const names = list.parameters.filter((p: Json) => p.in === "query").map((p: Json) => p.name);
    expect(names).toEqual([
      "status",
      "source_host_uuid",
      "type",
      "generated-since",
      "limit",
      "marker",
      "sort_key",
      "sort_dir",
      "page_size",
    ]);
    const sortKey = list.parameters.find((p: Json) => p.name === "sort_key");
    expect(sortKey).toMatchObject({ style: "form", explode: true });
    expect(sortKey.schema.items.enum).toContain("generated_time");
    expect(list.parameters.find((p: Json) => p.name === "sort_dir").schema.items.enum).toEqual(["asc", "desc"]);
  });

  it("upstream's request schemas: the validation primitives' keywords", async () => {
    const schemas: Json = (await doc()).components.schemas;
    expect(schemas.Name).toMatchObject({ type: "string", minLength: 1, maxLength: 255 });
    // D6: null refused for a host's type, where upstream's schema lets it through.
    expect(schemas.HostCreate.properties.host.properties.type).toMatchObject({
      type: "string",
      maxLength: 255,
      pattern: "^[a-zA-Z0-9]*\\n?$",
    });
    expect(schemas.HostCreate.properties.host.required).toEqual(["name", "type", "control_attributes"]);
    expect(schemas.HostCreate.properties.host.additionalProperties).toBe(false);
    expect(schemas["SegmentUpdate_1.0"].properties.segment.anyOf).toHaveLength(4);
    expect(schemas.NotificationPayload_COMPUTE_HOST.properties.event).toEqual({
      type: "string",
      enum: ["STARTED", "STOPPED"],
    });
  });

  it("the fault of every status an operation can answer", async () => {
    const op: Json = (await doc()).paths["/v1/segments/{id}"].put;
    expect(Object.keys(op.responses).sort()).toEqual([
      "200",
      "400",
      "401",
      "403",
      "404",
      "406",
      "409",
      "413",
      "415",
      "500",
      "503",
    ]);
    const d = await doc();
    expect(d.components.responses.Fault_409.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/Fault_409",
    });
    expect(d.components.schemas.Fault_409.properties.conflictingRequest.properties.code).toEqual({ const: 409 });
  });
});

describe("the conformance check itself", () => {
  const request = new Request(`${ORIGIN}/v1/segments`);
  const base = { method: "GET", url: request.url, body: undefined, request };

  it("refuses a field the document does not name", () => {
    const segment = {
      id: 1,
      uuid: "u",
      name: "n",
      service_type: "COMPUTE",
      enabled: true,
      description: null,
      recovery_method: "auto",
      created_at: "2026-01-01T00:00:00.000000",
      updated_at: null,
      deleted_at: null,
      deleted: false,
    };
    expect(() => checkAgainstDocument({ ...base, status: 200, json: { segments: [segment] } })).not.toThrow();
    expect(() =>
      checkAgainstDocument({ ...base, status: 200, json: { segments: [{ ...segment, extra: 1 }] } }),
    ).toThrow(/does not match the document/);
  });

  it("refuses a status the document does not list", () => {
    expect(() => checkAgainstDocument({ ...base, status: 418, json: {} })).toThrow(/not a documented status/);
  });

  it("refuses a request body whose verdict differs from the API's", () => {
    const post = new Request(`${ORIGIN}/v1/segments`, { method: "POST" });
    const body = { segment: { name: "a", recovery_method: "auto", service_type: "C", color: "red" } };
    expect(() =>
      checkAgainstDocument({ method: "POST", url: post.url, request: post, body, status: 202, json: undefined }),
    ).toThrow(/accepts|refuses/);
  });
});
