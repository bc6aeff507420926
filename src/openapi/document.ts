import { faultName } from "../http/faults";
import { HEADER, MAX_VERSION, MIN_VERSION, versionString } from "../http/microversion";
import type { Route } from "../http/route";
import { v1Routes } from "../resources";
import { payloadSchemas } from "../resources/notifications/schemas";
import { versionListSchema } from "../resources/versions/documents";
import { componentName, type JsonSchema, jsonSchemaOf, named } from "../validation/json-schema";

// The OpenAPI 3.1 document of the API (GET /openapi.json), generated from
// the route declarations (src/resources/*/routes.ts): their paths, policies,
// request schemas per microversion (the zod schemas that validate, through
// the JSON Schema keywords each primitive carries) and the response schemas
// declared beside the views. Nothing here is written by hand per route, so
// the document cannot drift from what is served.

/** The microversions from which a request body's schema applies, beside the newest one in `schema`. */
export const MICROVERSIONS = "x-openstack-microversions";

const TAGS = [
  { name: "versions", description: "The API's versions and microversions (public at `/`; `/v1` needs a token)." },
  { name: "segments", description: "Failover segments: hosts that recover for each other, and how." },
  { name: "hosts", description: "The hypervisor hosts of a segment." },
  { name: "notifications", description: "Failures monitors report; the recovery engine processes each (D13)." },
  { name: "vmoves", description: "What a host failure's recovery did with each instance (microversion 1.3)." },
  { name: "extensions", description: "The API's extensions, as upstream lists them." },
  { name: "not-implemented", description: "Routes upstream's router answers with 405." },
  { name: "service", description: "This service's own documents." },
];

/** The faults every /v1 route may answer: malformed version or URL project, no token, 406, 415, 500, Keystone down. */
const EVERY_ROUTE = [400, 401, 406, 415, 500, 503];

const FAULT_TEXT: Record<number, string> = {
  400: "Bad request: a malformed microversion, URL project, query parameter or body",
  401: "No valid Keystone token (AUTH_STRATEGY=keystone)",
  403: "The policy does not allow the caller",
  404: "Not found",
  405: "Not implemented",
  406: "A microversion outside 1.0-1.3",
  409: "Conflict: in use by notifications, a name taken, a host on maintenance or a duplicate notification",
  413: "The body is larger than 114688 bytes",
  415: "A Content-Type other than JSON",
  500: "An unexpected error, or the Worker is not configured",
  503: "Keystone or Nova did not answer in time, or failed",
};

/** A Masakari fault body for `status`: `{"<name>": {"code": N, "message": "..."}}`. */
function faultSchema(status: number): JsonSchema {
  faults[status] ??= named(`Fault_${status}`, fault(status));
  return faults[status];
}
const faults: Record<number, JsonSchema> = {};

function fault(status: number): JsonSchema {
  const name = faultName(status);
  return {
    type: "object",
    properties: {
      [name]: {
        type: "object",
        properties: { code: { const: status }, message: { type: "string" } },
        required: ["code", "message"],
        additionalProperties: false,
      },
    },
    required: [name],
    additionalProperties: false,
  };
}

/** keystonemiddleware's 401 body. */
const UNAUTHORIZED: JsonSchema = named("Unauthorized", {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: { code: { const: 401 }, title: { type: "string" }, message: { type: "string" } },
      required: ["code", "title", "message"],
      additionalProperties: false,
    },
  },
  required: ["error"],
  additionalProperties: false,
});

const REQUEST_ID = {
  description: "oslo's request id of the response",
  schema: { type: "string", pattern: "^req-[0-9a-f-]{36}$" },
};
const BOOKMARK = {
  description: "The D1 bookmark of the request's session, when it queried D1 (ours, not Masakari's)",
  schema: { type: "string" },
};
const VERSION_HEADER = {
  description: "The microversion of the response: `masakari X.Y` on success, `instance-ha X.Y` on faults (as upstream)",
  schema: { type: "string" },
};

/** The response headers, each defined once under components/headers. */
const HEADERS = {
  success: {
    "x-openstack-request-id": { $ref: "#/components/headers/RequestId" },
    [HEADER]: { $ref: "#/components/headers/Microversion" },
    "x-d1-bookmark": { $ref: "#/components/headers/Bookmark" },
  },
  fault: {
    "x-openstack-request-id": { $ref: "#/components/headers/RequestId" },
    [HEADER]: { $ref: "#/components/headers/Microversion" },
  },
};

/** The response of a fault status: defined once under components/responses. */
function faultResponse(status: number): JsonSchema {
  const name = status === 401 ? "Unauthorized" : `Fault_${status}`;
  faultResponses[name] ??= faultResponseBody(status);
  return { $ref: `#/components/responses/${name}` };
}
const faultResponses: Record<string, JsonSchema> = {};

function faultResponseBody(status: number): JsonSchema {
  if (status === 413) {
    return {
      description: FAULT_TEXT[413],
      content: { "text/plain": { schema: { type: "string" } } },
    };
  }
  return {
    description: FAULT_TEXT[status] ?? "Fault",
    headers: HEADERS.fault,
    content: { "application/json": { schema: status === 401 ? UNAUTHORIZED : faultSchema(status) } },
  };
}

/** `/segments/:segment_id/hosts` as OpenAPI writes it, and its path parameters. */
function openApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const converted = path.replace(/:([a-z_]+)/g, (_, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: converted === "/" ? "" : converted, params };
}

const PARAMETERS: Record<string, JsonSchema> = {
  microversion: {
    name: HEADER,
    in: "header",
    required: false,
    description: `The microversion asked for: \`instance-ha X.Y\` (${versionString(MIN_VERSION)}-${versionString(MAX_VERSION)}) or \`instance-ha latest\`; ${versionString(MIN_VERSION)} without it.`,
    schema: { type: "string", examples: ["instance-ha 1.3"] },
    example: "instance-ha 1.3",
  },
  bookmark: {
    name: "x-d1-bookmark",
    in: "header",
    required: false,
    description: "A bookmark from an earlier response: a GET then reads at least that new (read replicas; ours).",
    schema: { type: "string" },
  },
  project_id: {
    name: "project_id",
    in: "path",
    required: true,
    description: "The caller's project, as upstream's router also accepts it; must match the token's project.",
    schema: { type: "string", pattern: "^[0-9a-f-]+$" },
  },
};

function pathParameter(name: string): JsonSchema {
  return { name, in: "path", required: true, schema: { type: "string" } };
}

/** The request body of a route: its newest schema, and every microversion's in the extension. */
function requestBody(route: Route): JsonSchema | undefined {
  if (!route.body) return undefined;
  const versions = Object.entries(route.body).sort(([a], [b]) => (a < b ? -1 : 1));
  const schemaOf = (schema: Parameters<typeof jsonSchemaOf>[0]) =>
    route.path === "/notifications" ? withPayloads(jsonSchemaOf(schema)) : jsonSchemaOf(schema);
  const [, newest] = versions[versions.length - 1] ?? [];
  if (!newest) return undefined;
  return {
    required: true,
    content: {
      "application/json": {
        schema: schemaOf(newest),
        [MICROVERSIONS]: versions.map(([since, schema]) => ({ since, schema: schemaOf(schema) })),
      },
    },
  };
}

/**
 * The notification create schema with each type's payload schema applied
 * by type, as upstream checks the payload after the body.
 */
function withPayloads(schema: JsonSchema): JsonSchema {
  return {
    ...schema,
    allOf: Object.keys(payloadSchemas).map((type) => ({
      if: {
        properties: { notification: { properties: { type: { const: type } }, required: ["type"] } },
        required: ["notification"],
      },
      // JSON Schema's if/then, not a thenable.
      // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword
      then: {
        properties: {
          notification: { properties: { payload: { $ref: `#/components/schemas/NotificationPayload_${type}` } } },
        },
      },
    })),
  };
}

function operation(route: Route, projectForm: boolean): JsonSchema {
  const { params } = openApiPath(route.path);
  const parameters: JsonSchema[] = [
    ...(projectForm ? [{ $ref: "#/components/parameters/project_id" }] : []),
    ...params.map(pathParameter),
    { $ref: "#/components/parameters/microversion" },
    { $ref: "#/components/parameters/bookmark" },
    // A repeatable parameter (an array) is sent as ?key=a&key=b: form, exploded.
    ...Object.entries(route.query).map(([name, q]) => ({
      name,
      in: "query",
      required: false,
      ...(q.schema.type === "array" ? { style: "form", explode: true } : {}),
      schema: q.schema,
      description: q.description,
    })),
  ];
  const statuses = new Set<number>(EVERY_ROUTE);
  const responses: Record<string, JsonSchema> = {};
  const docs = route.docs;
  if (docs) {
    const { status, schema } = docs.ok;
    responses[String(status)] = {
      description: "Success",
      headers: HEADERS.success,
      ...(schema ? { content: { "application/json": { schema } } } : {}),
    };
    for (const fault of docs.faults ?? []) statuses.add(fault);
  } else {
    statuses.add(405);
  }
  if (route.policy !== undefined) statuses.add(403);
  if (route.body) statuses.add(413);
  for (const status of [...statuses].sort()) responses[String(status)] = faultResponse(status);
  const id = operationId(route) + (projectForm ? ":project" : "");
  return {
    operationId: id,
    summary: docs?.summary ?? `Not implemented (405: upstream's ${route.notAllowed} action)`,
    ...(docs?.description ? { description: docs.description } : {}),
    tags: [docs?.tag ?? "not-implemented"],
    ...(route.policy ? { "x-policy": route.policy } : {}),
    parameters,
    ...(requestBody(route) ? { requestBody: requestBody(route) } : {}),
    responses,
  };
}

function operationId(route: Route): string {
  const words = route.path
    .split("/")
    .filter(Boolean)
    .map((w) => w.replace(/^:/, "by-"));
  const id = [route.method.toLowerCase(), ...(words.length > 0 ? words : ["v1"])].join(":");
  return route.notAllowed === undefined ? id : `${id}:not-implemented`;
}

let built: JsonSchema | undefined;

/** The OpenAPI 3.1 document, built once per isolate. */
export function openApiDocument(): JsonSchema {
  built ??= build();
  return built;
}

/**
 * The public operations outside /v1: the versions, the healthcheck, this
 * document and its page. A function: the fault responses are defined in the
 * order operations first refer to them, after the /v1 routes'.
 */
const serviceOperations = (): [string, JsonSchema][] => [
  [
    "/",
    {
      operationId: "get:root",
      summary: "The API's versions (public)",
      tags: ["versions"],
      security: [],
      responses: {
        "200": { description: "The versions", content: { "application/json": { schema: versionListSchema } } },
        "415": faultResponse(415),
      },
    },
  ],
  [
    "/healthcheck",
    {
      operationId: "get:healthcheck",
      summary: "oslo.middleware's healthcheck (public)",
      tags: ["service"],
      security: [],
      responses: { "200": { description: "OK", content: { "text/plain": { schema: { const: "OK" } } } } },
    },
  ],
  [
    "/openapi.json",
    {
      operationId: "get:openapi",
      summary: "This document (public)",
      tags: ["service"],
      security: [],
      responses: {
        "200": {
          description: "The OpenAPI document",
          content: { "application/json": { schema: { type: "object" } } },
        },
      },
    },
  ],
  [
    "/docs",
    {
      operationId: "get:docs",
      summary: "The API reference page, rendered from this document (public)",
      tags: ["service"],
      security: [],
      responses: { "200": { description: "An HTML page", content: { "text/html": { schema: { type: "string" } } } } },
    },
  ],
];

/** Every operation by path and method: the /v1 routes in both URL forms, then the service's own. */
function operations(): Record<string, Record<string, JsonSchema>> {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const add = (path: string, method: string, op: JsonSchema) => {
    paths[path] ??= {};
    (paths[path] as Record<string, JsonSchema>)[method] = op;
  };
  for (const route of v1Routes) {
    const { path } = openApiPath(route.path);
    add(`/v1${path}`, route.method.toLowerCase(), operation(route, false));
    // Upstream's router registers every resource with and without the project.
    if (path !== "") add(`/v1/{project_id}${path}`, route.method.toLowerCase(), operation(route, true));
  }
  for (const [path, op] of serviceOperations()) add(path, "get", op);
  return paths;
}

function build(): JsonSchema {
  const paths = operations();
  const doc: JsonSchema = {
    openapi: "3.1.0",
    info: {
      title: "masakari-edge: OpenStack Masakari (instance high availability) API v1",
      version: versionString(MAX_VERSION),
      description:
        "The OpenStack Masakari API v1, microversions 1.0-1.3, served by a Cloudflare Worker on D1, with its recovery engine on Cloudflare Workflows. Every /v1 route is also served under /v1/{project_id}. Where it differs from Masakari, the README's table of differences (D1, D2, ...) says so. Any other path outside /v1 answers 300 with the versions (`choices`).",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    servers: [{ url: "/" }],
    tags: TAGS,
    security: [{ keystone: [] }, {}],
    paths,
    components: {
      securitySchemes: {
        keystone: {
          type: "apiKey",
          in: "header",
          name: "X-Auth-Token",
          description:
            "A Keystone v3 token (AUTH_STRATEGY=keystone, the default). Under noauth2 (local development) no token is checked and the caller is admin.",
        },
      },
      parameters: PARAMETERS,
      headers: { RequestId: REQUEST_ID, Microversion: VERSION_HEADER, Bookmark: BOOKMARK },
      responses: {},
      schemas: {},
    },
  };
  // Every named schema is defined once, under components/schemas, and
  // referred to wherever it appears (the payloads are referred to by name).
  const components = (doc.components as { schemas: Record<string, JsonSchema> }).schemas;
  for (const [type, schema] of Object.entries(payloadSchemas)) {
    components[`NotificationPayload_${type}`] = withRefs(jsonSchemaOf(schema), components, true);
  }
  doc.paths = withRefs(paths, components);
  (doc.components as { responses: JsonSchema }).responses = withRefs(faultResponses, components);
  return doc;
}

/** `value` with every named schema in it replaced by a reference, each defined once in `components`. */
function withRefs(value: unknown, components: Record<string, JsonSchema>, root = false): JsonSchema {
  if (Array.isArray(value)) return value.map((item) => withRefs(item, components)) as unknown as JsonSchema;
  if (!value || typeof value !== "object") return value as JsonSchema;
  const name = root ? undefined : componentName(value);
  if (name !== undefined) {
    if (!(name in components)) {
      components[name] = {};
      components[name] = withRefs(value, components, true);
    }
    return { $ref: `#/components/schemas/${name}` };
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withRefs(v, components)]));
}
