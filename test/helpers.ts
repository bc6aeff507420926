import { introspectWorkflow } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterAll, beforeAll, expect } from "vitest";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { checkAgainstDocument } from "./openapi-conformance";

/** The origin every test request is sent to; links in bodies start with it. */
export const ORIGIN = "http://masakari.test";

/** A datetime as the API writes it: ISO 8601 in seconds, six zero fraction digits. */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000000$/;

/** A datetime as D1 stores it (SQLAlchemy's SQLite text), in whole seconds. */
export const DB_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.000000$/;

/** A datetime as D1 stores it, to the microsecond (deleted_at). */
export const DB_TIMESTAMP_MICROS = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/;

/** A uuid as the API generates it: version 4, lower case. */
export const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A well-formed uuid no segment, host, notification or vmove has. */
export const UNKNOWN_UUID = "00000000-0000-0000-0000-000000000000";

/**
 * Upstream's 400 message for a segment or host name that breaks the name format
 * (docs/upstream.md, "Name and description formats").
 */
export const INVALID_NAME =
  "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.";

/**
 * The values a boolean body field accepts, as upstream's "is not one of" message lists them
 * (docs/upstream.md, "Boolean inputs").
 */
export const BOOLEAN_ENUM =
  "[True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']";

/**
 * The end of upstream's 400 for a boolean list filter (reserved,
 * on_maintenance; enabled by D5) given a value that is not boolean-like.
 */
export const BOOLEAN_FILTER_VALUES =
  "acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'";

/** Upstream's 409 for updating a segment in use by notifications (docs/upstream.md, "Segments in use"). */
export const segmentUpdateInUse = (uuid: string) =>
  `Failover segment ${uuid} can't be updated as it is in-use to process notifications.`;

/**
 * Upstream's 409 for deleting a segment in use by notifications: the uuid in parentheses
 * (docs/upstream.md, "Segments in use").
 */
export const segmentDeleteInUse = (uuid: string) =>
  `Failover segment (${uuid}) can't be deleted as it is in-use to process notifications.`;

/**
 * Upstream's 409 for updating a host of a segment in use by notifications
 * (docs/upstream.md, "Host operations and order of checks").
 */
export const hostUpdateInUse = (uuid: string) =>
  `Host ${uuid} can't be updated as it is in-use to process notifications.`;

/**
 * Upstream's 409 for deleting a host of a segment in use by notifications
 * (docs/upstream.md, "Host operations and order of checks").
 */
export const hostDeleteInUse = (uuid: string) =>
  `Host ${uuid} can't be deleted as it is in-use to process notifications.`;

/**
 * Upstream's 409 for a notification that repeats a recent one from the same host
 * (docs/upstream.md, "Duplicate notifications").
 */
export const duplicateNotification = (hostname: string, type: string) =>
  `Notification received from host ${hostname} of type ${type} is duplicate.`;

/**
 * Upstream's 404 for a host id that is not a live host of the segment `segment`
 * (docs/upstream.md, "Host operations and order of checks").
 */
export const hostNotUnder = (host: string, segment: string) =>
  `Host '${host}' under failover_segment '${segment}' could not be found.`;

/**
 * AUTH_STRATEGY=keystone against the fake Keystone of test/fakes/openstack.mjs,
 * with a service user, and a short timeout so "Keystone does not answer" tests
 * are quick.
 */
export const KEYSTONE_SETTINGS = {
  AUTH_STRATEGY: "keystone",
  KEYSTONE_URL: "http://keystone.test",
  KEYSTONE_SERVICE_USER: "masakari",
  KEYSTONE_SERVICE_PASSWORD: "masakari-secret",
  KEYSTONE_SERVICE_PROJECT: "service",
  KEYSTONE_TIMEOUT_MS: "300",
};

/** An API object or body: asserted whole with toEqual, or field by field. */
// biome-ignore lint/suspicious/noExplicitAny: API objects are asserted whole with toEqual
export type Json = any;

export interface Exchange {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: Json;
}

export interface CallOptions {
  /** Sent as JSON with Content-Type: application/json. */
  readonly body?: unknown;
  /** Sent as is (no Content-Type unless given in headers). */
  readonly raw?: string | Uint8Array;
  readonly headers?: Record<string, string>;
  /** Sets OpenStack-API-Version: instance-ha <version>. */
  readonly version?: string;
}

type Handler = (request: Request) => Response | Promise<Response>;

/** One request through the Worker's own fetch handler (or `handler`). */
export async function call(
  method: string,
  path: string,
  options: CallOptions = {},
  handler: Handler = (request) => exports.default.fetch(request),
): Promise<Exchange> {
  const headers = new Headers(options.headers);
  let body: BodyInit | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  if (options.version !== undefined) headers.set("OpenStack-API-Version", `instance-ha ${options.version}`);
  const request = new Request(`${ORIGIN}${path}`, { method, headers, body });
  const response = await handler(request.clone());
  const text = await response.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  // Every exchange is what the OpenAPI document says (test/openapi-conformance.ts).
  checkAgainstDocument({ method, url: request.url, status: response.status, json, body: sentJson(options), request });
  return { status: response.status, headers: response.headers, text, json };
}

/** The JSON a request sent, as the API decodes it; undefined when it sent none or not JSON. */
function sentJson(options: CallOptions): unknown {
  if (options.body !== undefined) return options.body;
  if (typeof options.raw !== "string") return undefined;
  try {
    return JSON.parse(options.raw);
  } catch {
    return undefined;
  }
}

export const get = (path: string, options?: CallOptions) => call("GET", path, options);
export const post = (path: string, body: unknown, options?: CallOptions) => call("POST", path, { ...options, body });
export const put = (path: string, body: unknown, options?: CallOptions) => call("PUT", path, { ...options, body });
export const del = (path: string, options?: CallOptions) => call("DELETE", path, options);

/**
 * For a request that sets a test up rather than one it checks: `res` when it
 * answered `status`; otherwise an Error naming `what`, with the answer.
 */
export function mustAnswer(res: Exchange, status: number, what: string): Exchange {
  if (res.status !== status) throw new Error(`${what} answered ${res.status}, not ${status}: ${res.text}`);
  return res;
}

/** A fault body as Masakari writes it. */
export const fault = (name: string, code: number, message: string) => ({ [name]: { code, message } });

/** Runs SQL straight against the Worker's D1 database. */
export async function sql<T = Record<string, unknown>>(query: string, ...params: unknown[]): Promise<T[]> {
  const result = await env.DB.prepare(query)
    .bind(...params)
    .all<T>();
  return result.results;
}

/** The stored row of a segment, host or notification, byte for byte. */
export async function row(table: "failover_segments" | "hosts" | "notifications", uuidColumn: string, uuid: string) {
  const [found] = await sql(`SELECT * FROM ${table} WHERE ${uuidColumn} = ?`, uuid);
  return found;
}

let counter = 0;
/** A name no other test in the file uses. */
export const unique = (prefix: string) => `${prefix}-${++counter}-${crypto.randomUUID().slice(0, 8)}`;

export interface SegmentInput {
  name?: string;
  recovery_method?: string;
  service_type?: string;
  description?: string | null;
  enabled?: boolean | string;
}

/** Creates a segment through the API and returns it. */
export async function createSegment(fields: SegmentInput = {}) {
  const segment = { name: unique("seg"), recovery_method: "auto", service_type: "COMPUTE", ...fields };
  const response = await post(
    "/v1/segments",
    { segment },
    { version: fields.enabled === undefined ? undefined : "1.2" },
  );
  return mustAnswer(response, 202, "segment create").json.segment;
}

/** Creates a host in the segment through the API and returns it. */
export async function createHost(segmentUuid: string, fields: Record<string, unknown> = {}) {
  const host = { name: unique("compute"), type: "COMPUTE", control_attributes: "SSH", ...fields };
  const response = await post(`/v1/segments/${segmentUuid}/hosts`, { host });
  return mustAnswer(response, 201, "host create").json.host;
}

/** Stores a notification for a host straight in D1, as an engine or a test would. */
export async function seedNotification(
  hostUuid: string,
  status: string,
  fields: { type?: string; payload?: string; generated_time?: string } = {},
) {
  const uuid = crypto.randomUUID();
  await sql(
    `INSERT INTO notifications (created_at, deleted, notification_uuid, generated_time, source_host_uuid, type, payload, status)
     VALUES ('2026-01-01 10:00:00.000000', 0, ?, ?, ?, ?, ?, ?)`,
    uuid,
    fields.generated_time ?? "2026-01-01 10:00:00.000000",
    hostUuid,
    fields.type ?? "COMPUTE_HOST",
    fields.payload ?? '{"event": "STOPPED"}',
    status,
  );
  return uuid;
}

/** Notification statuses that put their host's segment and its hosts in use (docs/upstream.md, "Segments in use"). */
export const BLOCKING = ["new", "running", "error"] as const;

/** Notification statuses that leave the segment and its hosts free. */
export const NOT_BLOCKING = ["failed", "ignored", "finished"] as const;

/** The headers that matter on a v1 response, for toEqual. */
export function v1Headers(exchange: Exchange) {
  const h = exchange.headers;
  return {
    "content-type": h.get("content-type"),
    "openstack-api-version": h.get("openstack-api-version"),
    vary: h.get("vary"),
    requestId: /^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(
      h.get("x-openstack-request-id") ?? "",
    ),
  };
}

/** What v1Headers gives for a success at `version`. */
export const successHeaders = (version = "1.0") => ({
  "content-type": "application/json",
  "openstack-api-version": `masakari ${version}`,
  vary: "OpenStack-API-Version",
  requestId: true,
});

/** What v1Headers gives for a fault at `version`. */
export const faultHeaders = (version = "1.0") => ({
  "content-type": "application/json; charset=UTF-8",
  "openstack-api-version": `instance-ha ${version}`,
  vary: "OpenStack-API-Version",
  requestId: true,
});

/** A way to send a request: the Worker's `call`, or an app from appWith. */
export type Client = (method: string, path: string, options?: CallOptions) => Promise<Exchange>;

/** A compute endpoint the fake Nova of test/fakes/openstack.mjs answers at (D10). */
export const NOVA_URL = "http://nova.test/v2.1";

/** A Worker app built with other configuration, reached like the Worker. */
export function appWith(settings: Partial<Record<string, string>>): Client {
  const app = createApp(loadConfig({ ...env, ...settings }));
  return async (method: string, path: string, options: CallOptions = {}): Promise<Exchange> =>
    call(method, path, options, (request) => app.fetch(request, env));
}

/** How many calls the fake OpenStack saw for `key` (test/fakes/openstack.mjs). */
export async function fakeCalls(key: string): Promise<number> {
  const response = await env.FAKE_OPENSTACK.fetch(`http://control.test/calls?key=${encodeURIComponent(key)}`);
  const body = (await response.json()) as { calls: number };
  return body.calls;
}

/** Asserts a v1 success: `status`, the success headers at `version`, and exactly `body`. */
export function expectSuccess(res: Exchange, status: number, body: unknown, version = "1.0") {
  expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
    status,
    headers: successHeaders(version),
    body,
  });
}

/** Asserts a 200: the success headers at `version` and exactly `body`. */
export function expectOk(res: Exchange, body: unknown, version = "1.0") {
  expectSuccess(res, 200, body, version);
}

/** Asserts a 200 list: the success headers at `version` and a body of exactly `{ [key]: items }`, in order. */
export function expectList(res: Exchange, key: string, items: readonly unknown[], version = "1.0") {
  expectOk(res, { [key]: items }, version);
}

/**
 * GETs `path` at `version` and asserts what expectList does, keyed by the
 * collection the path names (its last segment); "latest" answers 1.3.
 * Returns the exchange.
 */
export async function expectListAt(path: string, items: readonly unknown[], version?: string): Promise<Exchange> {
  const res = await get(path, { version });
  const collection = new URL(path, ORIGIN).pathname.split("/").at(-1) ?? "";
  expectList(res, collection, items, version === "latest" ? "1.3" : (version ?? "1.0"));
  return res;
}

/** Asserts a v1 fault: status, upstream's headers at `version`, the body. */
export function expectFault(res: Exchange, status: number, name: string, message: string, version = "1.0") {
  expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
    status,
    headers: faultHeaders(version),
    body: fault(name, status, message),
  });
}

/** GETs `path` at `version` and asserts the fault, as expectFault does. */
export async function expectFaultAt(path: string, status: number, name: string, message: string, version?: string) {
  expectFault(await get(path, { version }), status, name, message, version ?? "1.0");
}

/** A notification's keys in upstream master's order (docs/upstream.md, "Resource fields and timestamps"). */
export const NOTIFICATION_KEYS = [
  "id",
  "notification_uuid",
  "generated_time",
  "source_host_uuid",
  "type",
  "payload",
  "status",
  "failover_segment_uuid",
  "message",
  "created_at",
  "updated_at",
  "deleted_at",
  "deleted",
];

/** The notifications table's columns (master; docs/upstream.md, "Tables"): its valid sort keys. */
export const NOTIFICATION_COLUMNS = [
  "created_at",
  "updated_at",
  "deleted_at",
  "deleted",
  "id",
  "notification_uuid",
  "generated_time",
  "source_host_uuid",
  "type",
  "payload",
  "status",
  "failover_segment_uuid",
  "message",
];

/** The host a create of `fields` in `segment` answers. */
export function expectedHost(segment: { uuid: string }, fields: Record<string, unknown>) {
  return {
    id: expect.any(Number),
    uuid: expect.any(String),
    name: expect.any(String),
    failover_segment_id: segment.uuid,
    failover_segment: segment,
    type: "COMPUTE",
    reserved: false,
    control_attributes: "SSH",
    on_maintenance: false,
    created_at: expect.any(String),
    updated_at: null,
    deleted_at: null,
    deleted: false,
    ...fields,
  };
}

/** The D1 row of `host` as the API showed it: SQLite datetimes, 0/1 booleans. */
export function storedHostRow(host: Json) {
  return {
    created_at: host.created_at.replace("T", " "),
    updated_at: host.updated_at === null ? null : host.updated_at.replace("T", " "),
    deleted_at: null,
    deleted: 0,
    id: host.id,
    uuid: host.uuid,
    name: host.name,
    reserved: host.reserved ? 1 : 0,
    type: host.type,
    control_attributes: host.control_attributes,
    failover_segment_id: host.failover_segment_id,
    on_maintenance: host.on_maintenance ? 1 : 0,
  };
}

/**
 * For the suites of the API itself: every run of the recovery engine
 * started in the file ends at once, as a run does that finds the
 * notification no longer its to claim (its opening step mocked), so
 * notifications stay as the API stored them, `new`, as
 * upstream's API tests leave the engine out. The engine's own suites
 * (test/engine-*) do not hold it.
 */
export function holdRecoveries(): void {
  let held: Awaited<ReturnType<typeof introspectWorkflow>> | undefined;
  beforeAll(async () => {
    held = await introspectWorkflow(env.RECOVERY);
    await held.modifyAll(async (m) => {
      // A step's result as the engine's steps record it (src/engine/steps.ts): the value, and its subrequests.
      await m.mockStepResult({ name: "start" }, { v: { outcome: "skipped" }, u: 0 });
    });
  });
  afterAll(async () => {
    await held?.dispose();
  });
}
