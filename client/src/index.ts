import createClient, { type Client, type ClientOptions, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

// A typed client of the masakari-edge API (the OpenStack Masakari API v1),
// on openapi-fetch with the types openapi-typescript generates from the
// API's OpenAPI document (./schema.d.ts, `npm run client:generate`).
//
//   const masakari = createMasakariClient({ baseUrl: "http://localhost:8787", token });
//   const { data, error } = await masakari.GET("/v1/segments/{id}", { params: { path: { id } } });
//   const segment = await masakari.segments.get(id);   // or throws NotFound
//
// The typed GET/POST/PUT/DELETE answer openapi-fetch's { data, error,
// response }; unwrap() turns one into its data or a thrown MasakariError.
// The resource methods (segments, hosts, notifications, vmoves) unwrap
// for you and answer the resource itself; they include the extensions
// (notifications.act, segments.recoveryPlan, hosts.recoveryPlan).

export type { components, operations, paths } from "./schema.js";

type Schemas = components["schemas"];
export type Segment = Schemas["Segment"];
export type Host = Schemas["Host"];
export type Notification = Schemas["Notification"];
export type Vmove = Schemas["Vmove"];
/** D23: what the engine would do if a host failed now. */
export type HostRecoveryPlan = Schemas["HostRecoveryPlan"];
export type SegmentRecoveryPlan = Schemas["SegmentRecoveryPlan"];

type JsonBody<Operation> = Operation extends { requestBody?: { content: { "application/json": infer Body } } }
  ? Body
  : never;
type Query<Operation> = Operation extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

/** The newest microversion's bodies; an older microversion may refuse a newer field (400). */
export type SegmentCreate = JsonBody<paths["/v1/segments"]["post"]>["segment"];
export type SegmentUpdate = JsonBody<paths["/v1/segments/{id}"]["put"]>["segment"];
export type HostCreate = JsonBody<paths["/v1/segments/{segment_id}/hosts"]["post"]>["host"];
export type HostUpdate = JsonBody<paths["/v1/segments/{segment_id}/hosts/{id}"]["put"]>["host"];
export type NotificationCreate = JsonBody<paths["/v1/notifications"]["post"]>["notification"];
/** D21: exactly one of retry, abort, ignore, release. */
export type NotificationAction = JsonBody<paths["/v1/notifications/{id}/action"]["post"]>;
export type SegmentQuery = Query<paths["/v1/segments"]["get"]>;
export type HostQuery = Query<paths["/v1/segments/{segment_id}/hosts"]["get"]>;
export type NotificationQuery = Query<paths["/v1/notifications"]["get"]>;
export type VmoveQuery = Query<paths["/v1/notifications/{notification_id}/vmoves"]["get"]>;

/** The header that asks for a microversion (and names the response's). */
export const MICROVERSION_HEADER = "OpenStack-API-Version";
/** The microversion asked for unless told otherwise: the newest this API serves. */
export const DEFAULT_MICROVERSION = "1.3";

export interface MasakariClientOptions extends Omit<ClientOptions, "baseUrl"> {
  /**
   * The service root (`https://masakari.example.com`) or its v1 endpoint
   * (`.../v1`, or `.../v1/<project_id>` as a Keystone catalog lists it).
   */
  baseUrl: string;
  /** A Keystone token for X-Auth-Token, or a function answering a current one (called per request). */
  token?: string | (() => string | Promise<string>);
  /** Send every /v1 request to `/v1/<projectId>/...`, as upstream's router also serves them. */
  projectId?: string;
  /** `X.Y` (1.0-1.3) or `latest`; "1.3" by default. A request's own OpenStack-API-Version header wins. */
  microversion?: string;
}

/** A fault the API answered (4xx or 5xx): `{"<fault>": {"code": N, "message": "..."}}`. */
export class MasakariError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** The fault's name (`itemNotFound`, `conflictingRequest`, `badRequest`, ...), when the body had one. */
  readonly fault: string | undefined;
  /** The response's x-openstack-request-id. */
  readonly requestId: string | undefined;
  /** The response body: the parsed JSON, or its text. */
  readonly body: unknown;

  constructor(
    status: number,
    message: string,
    details: { fault?: string | undefined; requestId?: string | undefined; body?: unknown } = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.fault = details.fault;
    this.requestId = details.requestId;
    this.body = details.body;
  }

  /** The error for a fault response, of the subclass its status has (NotFound, Conflict, ...). */
  static from(response: Response, body: unknown): MasakariError {
    const { fault, message } = readFault(body);
    const Kind = ERRORS[response.status] ?? MasakariError;
    return new Kind(response.status, message ?? `${response.status} ${response.statusText}`.trim(), {
      fault,
      requestId: response.headers.get("x-openstack-request-id") ?? undefined,
      body,
    });
  }
}

export class BadRequest extends MasakariError {
  declare readonly status: 400;
}
export class Unauthorized extends MasakariError {
  declare readonly status: 401;
}
export class Forbidden extends MasakariError {
  declare readonly status: 403;
}
export class NotFound extends MasakariError {
  declare readonly status: 404;
}
export class Conflict extends MasakariError {
  declare readonly status: 409;
}
export class ServiceUnavailable extends MasakariError {
  declare readonly status: 503;
}

const ERRORS: Record<number, typeof MasakariError> = {
  400: BadRequest,
  401: Unauthorized,
  403: Forbidden,
  404: NotFound,
  409: Conflict,
  503: ServiceUnavailable,
};

/** The name and message of a Masakari fault body, or of keystonemiddleware's 401 (`{"error": {...}}`). */
function readFault(body: unknown): { fault?: string; message?: string } {
  if (typeof body === "string") return body.trim() === "" ? {} : { message: body.trim() };
  if (!body || typeof body !== "object") return {};
  const entries = Object.entries(body);
  const [name, inner] = entries[0] ?? [];
  if (entries.length !== 1 || name === undefined || !inner || typeof inner !== "object") return {};
  const message = (inner as { message?: unknown }).message;
  return { fault: name, ...(typeof message === "string" ? { message } : {}) };
}

type Outcome = { data?: unknown; error?: unknown; response: Response };

/** The data of a typed call, or its fault thrown as a MasakariError (NotFound, Conflict, ...). */
export async function unwrap<R extends Outcome>(call: R | Promise<R>): Promise<Exclude<R["data"], undefined>> {
  const { data, error, response } = await call;
  if (!response.ok) throw MasakariError.from(response, error);
  return data as Exclude<R["data"], undefined>;
}

/** The service root of a base URL: without a trailing slash, `/v1` or `/v1/<project_id>`. */
export function serviceRoot(baseUrl: string): { root: string; projectId?: string } {
  const url = new URL(baseUrl);
  url.search = "";
  url.hash = "";
  const path = url.pathname.replace(/\/+$/, "");
  const v1 = /^(.*)\/v1(?:\/([0-9a-f-]+))?$/.exec(path);
  url.pathname = v1 ? (v1[1] ?? "") : path;
  const root = url.href.replace(/\/+$/, "");
  return v1?.[2] ? { root, projectId: v1[2] } : { root };
}

export interface MasakariClient extends Client<paths> {
  /** The service root every path is relative to. */
  readonly baseUrl: string;
  readonly segments: {
    list(query?: SegmentQuery): Promise<Segment[]>;
    get(id: string): Promise<Segment>;
    create(segment: SegmentCreate): Promise<Segment>;
    update(id: string, changes: SegmentUpdate): Promise<Segment>;
    delete(id: string): Promise<void>;
    /** D23: every host's failure planned on its own. */
    recoveryPlan(id: string): Promise<SegmentRecoveryPlan>;
  };
  readonly hosts: {
    list(segmentId: string, query?: HostQuery): Promise<Host[]>;
    get(segmentId: string, id: string): Promise<Host>;
    create(segmentId: string, host: HostCreate): Promise<Host>;
    update(segmentId: string, id: string, changes: HostUpdate): Promise<Host>;
    delete(segmentId: string, id: string): Promise<void>;
    /** D23: what the engine would do if this host failed now. */
    recoveryPlan(segmentId: string, id: string): Promise<HostRecoveryPlan>;
  };
  readonly notifications: {
    list(query?: NotificationQuery): Promise<Notification[]>;
    get(id: string): Promise<Notification>;
    create(notification: NotificationCreate): Promise<Notification>;
    /** D21: an operator action, e.g. `{ abort: { reason: "..." } }`; 409 (Conflict) when the status does not allow it. */
    act(id: string, action: NotificationAction): Promise<Notification>;
  };
  /** A host failure's recovery, instance by instance (microversion 1.3). */
  readonly vmoves: {
    list(notificationId: string, query?: VmoveQuery): Promise<Vmove[]>;
    get(notificationId: string, id: string): Promise<Vmove>;
  };
}

/** A typed client of the masakari-edge API (or of any Masakari API v1). */
export function createMasakariClient(options: MasakariClientOptions): MasakariClient {
  const { baseUrl, token, projectId: explicitProject, microversion = DEFAULT_MICROVERSION, ...rest } = options;
  const { root, projectId: urlProject } = serviceRoot(baseUrl);
  const projectId = explicitProject ?? urlProject;
  const rootPath = new URL(root).pathname.replace(/\/$/, "");

  const client = createClient<paths>({ ...rest, baseUrl: root });
  const headers: Middleware = {
    async onRequest({ request, schemaPath }) {
      if (token !== undefined && !request.headers.has("X-Auth-Token")) {
        request.headers.set("X-Auth-Token", typeof token === "function" ? await token() : token);
      }
      if (!request.headers.has(MICROVERSION_HEADER)) {
        request.headers.set(MICROVERSION_HEADER, `instance-ha ${microversion}`);
      }
      // `/v1/segments` -> `/v1/<project>/segments`; `/v1` itself has no project form.
      if (projectId === undefined || !schemaPath.startsWith("/v1/") || schemaPath.startsWith("/v1/{project_id}/")) {
        return undefined;
      }
      const url = new URL(request.url);
      const tail = url.pathname.slice(`${rootPath}/v1/`.length);
      url.pathname = `${rootPath}/v1/${encodeURIComponent(projectId)}/${tail}`;
      return new Request(url, request);
    },
  };
  client.use(headers);

  const segment = (id: string) => ({ params: { path: { id } } });
  const host = (segment_id: string, id: string) => ({ params: { path: { segment_id, id } } });
  return Object.assign(client, {
    baseUrl: root,
    segments: {
      list: async (query?: SegmentQuery) => (await unwrap(client.GET("/v1/segments", { params: { query } }))).segments,
      get: async (id: string) => (await unwrap(client.GET("/v1/segments/{id}", segment(id)))).segment,
      create: async (body: SegmentCreate) =>
        (await unwrap(client.POST("/v1/segments", { body: { segment: body } }))).segment,
      update: async (id: string, changes: SegmentUpdate) =>
        (await unwrap(client.PUT("/v1/segments/{id}", { ...segment(id), body: { segment: changes } }))).segment,
      delete: async (id: string) => {
        await unwrap(client.DELETE("/v1/segments/{id}", segment(id)));
      },
      recoveryPlan: async (id: string) =>
        (await unwrap(client.GET("/v1/segments/{id}/recovery-plan", segment(id)))).recovery_plan,
    },
    hosts: {
      list: async (segment_id: string, query?: HostQuery) =>
        (await unwrap(client.GET("/v1/segments/{segment_id}/hosts", { params: { path: { segment_id }, query } })))
          .hosts,
      get: async (segmentId: string, id: string) =>
        (await unwrap(client.GET("/v1/segments/{segment_id}/hosts/{id}", host(segmentId, id)))).host,
      create: async (segment_id: string, body: HostCreate) =>
        (
          await unwrap(
            client.POST("/v1/segments/{segment_id}/hosts", { params: { path: { segment_id } }, body: { host: body } }),
          )
        ).host,
      update: async (segmentId: string, id: string, changes: HostUpdate) =>
        (
          await unwrap(
            client.PUT("/v1/segments/{segment_id}/hosts/{id}", { ...host(segmentId, id), body: { host: changes } }),
          )
        ).host,
      delete: async (segmentId: string, id: string) => {
        await unwrap(client.DELETE("/v1/segments/{segment_id}/hosts/{id}", host(segmentId, id)));
      },
      recoveryPlan: async (segmentId: string, id: string) =>
        (await unwrap(client.GET("/v1/segments/{segment_id}/hosts/{id}/recovery-plan", host(segmentId, id))))
          .recovery_plan,
    },
    notifications: {
      list: async (query?: NotificationQuery) =>
        (await unwrap(client.GET("/v1/notifications", { params: { query } }))).notifications,
      get: async (id: string) =>
        (await unwrap(client.GET("/v1/notifications/{id}", { params: { path: { id } } }))).notification,
      create: async (body: NotificationCreate) =>
        (await unwrap(client.POST("/v1/notifications", { body: { notification: body } }))).notification,
      // openapi-fetch's Writable<> drops a property whose only type is null
      // (NonNullable<null> is never), so `{retry: null}` needs the cast.
      act: async (id: string, action: NotificationAction) =>
        (
          await unwrap(
            client.POST("/v1/notifications/{id}/action", { params: { path: { id } }, body: action as never }),
          )
        ).notification,
    },
    vmoves: {
      list: async (notification_id: string, query?: VmoveQuery) =>
        (
          await unwrap(
            client.GET("/v1/notifications/{notification_id}/vmoves", { params: { path: { notification_id }, query } }),
          )
        ).vmoves,
      get: async (notification_id: string, id: string) =>
        (
          await unwrap(
            client.GET("/v1/notifications/{notification_id}/vmoves/{id}", {
              params: { path: { notification_id, id } },
            }),
          )
        ).vmove,
    },
  });
}
