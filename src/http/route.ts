import { zValidator } from "@hono/zod-validator";
import { Context, Hono, type MiddlewareHandler } from "hono";
import type { ParamKeys } from "hono/types";
import type * as z from "zod";
import type { JsonSchema } from "../validation/json-schema";
import { firstError } from "../validation/messages";
import { authorize } from "./auth";
import type { AppEnv } from "./context";
import { Fault } from "./faults";
import { type ApiVersion, atLeast, parseVersion } from "./microversion";
import { Query, type QueryParams } from "./query";
import { notAllowed, prepare } from "./request";

// One way to declare a /v1 route. A declaration says what a route is (method,
// path and so its path parameters, policy, request body per microversion,
// query parameters, handler); `router` turns declarations into Hono routes
// that always run, in upstream's order (docs/upstream.md, "Order of checks"):
// microversion, Content-Type, body parsing and the URL's project (`prepare`),
// then the body's schema, then policy, then the handler. No route can skip a
// step, and the same declarations are the API's OpenAPI document
// (src/openapi/document.ts).

export type Method = "GET" | "POST" | "PUT" | "DELETE";

/** Request body schemas by the microversion from which each applies ("1.0", "1.2"...). */
export type BodySchemas = Readonly<Record<string, z.ZodType>>;

type BodyOf<B> = B extends BodySchemas ? z.output<B[keyof B]> : undefined;

/** What a route's documentation says beyond what its declaration already does. */
export interface RouteDocs {
  readonly summary: string;
  /** The resource it belongs to: segments, hosts, notifications, vmoves, extensions, versions. */
  readonly tag: string;
  /** Its success: status, and the body's schema (none for 204). */
  readonly ok: { readonly status: number; readonly schema?: JsonSchema };
  /** The faults it answers besides those of every /v1 route (http/faults.ts, openapi/document.ts). */
  readonly faults?: readonly number[];
  /** More about it, e.g. what depends on the microversion. */
  readonly description?: string;
}

/** What a handler is given besides the context: the request's parameters and its checked body. */
export interface RouteInput<P extends string, Q extends QueryParams, B> {
  /** The path's parameters (`:id` in the path is `params.id`), decoded. */
  readonly params: Readonly<Record<ParamKeys<P>, string>>;
  readonly query: Query<Q>;
  readonly body: B;
}

export interface RouteSpec<P extends string, Q extends QueryParams, B extends BodySchemas | undefined> {
  readonly method: Method;
  /** Hono's path under /v1, e.g. `/segments/:id`. */
  readonly path: P;
  /** The policy rule the caller must pass; none for the version document. */
  readonly policy?: string;
  readonly body?: B;
  readonly query?: Q;
  readonly docs: RouteDocs;
  readonly handler: (c: Context<AppEnv>, input: RouteInput<P, Q, BodyOf<B>>) => Response | Promise<Response>;
}

type AnyInput = RouteInput<string, QueryParams, unknown>;

export interface Route {
  readonly method: Method;
  readonly path: string;
  readonly policy: string | undefined;
  readonly body: BodySchemas | undefined;
  readonly query: QueryParams;
  /** Set for the routes python-routes generates for an action the controller lacks (405). */
  readonly notAllowed: string | undefined;
  readonly docs: RouteDocs | undefined;
  readonly handler: ((c: Context<AppEnv>, input: AnyInput) => Response | Promise<Response>) | undefined;
}

const NO_QUERY: QueryParams = {};

/** A /v1 route. */
export function route<
  const P extends string,
  const Q extends QueryParams = Record<never, never>,
  const B extends BodySchemas | undefined = undefined,
>(spec: RouteSpec<P, Q, B>): Route {
  return {
    method: spec.method,
    path: spec.path,
    policy: spec.policy,
    body: spec.body,
    query: spec.query ?? NO_QUERY,
    notAllowed: undefined,
    docs: spec.docs,
    handler: spec.handler as unknown as Route["handler"],
  };
}

/**
 * A route python-routes generates for a resource whose controller lacks the
 * action (`new`, `edit`, `update`...): 405 once the microversion and
 * Content-Type are checked, before the body is read.
 */
export function refused(method: Method, path: string, action: string): Route {
  return {
    method,
    path,
    policy: undefined,
    body: undefined,
    query: NO_QUERY,
    notAllowed: action,
    docs: undefined,
    handler: undefined,
  };
}

const JSON_TYPE = { "Content-Type": "application/json" };

/**
 * The body check of a route: zValidator with the schema of the request's
 * microversion; its first error is upstream's 400 (docs/upstream.md,
 * "Validation messages"). Upstream parses a body as JSON whatever its
 * Content-Type, Hono's json validator only a JSON-typed request: so the
 * validator gets a JSON request of the text `prepare` read and checked.
 */
function bodyCheck(schemas: BodySchemas): (c: Context<AppEnv>) => Promise<unknown> {
  const byVersion = Object.entries(schemas)
    .map(([since, schema]) => ({
      since: parseVersion(since),
      validator: zValidator(
        "json",
        schema,
        (result) => {
          if (!result.success) throw new Fault(400, firstError(result.error, result.data));
        },
        {
          validationFunction: (s, value) => (s as z.ZodType).safeParseAsync(value, { reportInput: true }) as never,
        },
      ) as MiddlewareHandler<AppEnv>,
    }))
    // Newest first: a request takes the first schema its version reaches.
    .sort((a, b) => b.since.major - a.since.major || b.since.minor - a.since.minor);
  const pick = (version: ApiVersion) =>
    byVersion.find(({ since }) => atLeast(version, since.major, since.minor))?.validator;
  return async (c) => {
    const validator = pick(c.get("apiVersion"));
    if (!validator) throw new Error(`no body schema for ${c.req.method} ${c.req.path} at this version`);
    const json = new Context<AppEnv>(
      new Request(c.req.url, { method: c.req.method, headers: JSON_TYPE, body: c.get("jsonBody") }),
    );
    await validator(json, async () => {});
    return json.req.valid("json" as never);
  };
}

/** The Hono router of `routes`, each composed as the module comment says. */
export function router(routes: readonly Route[]): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  for (const r of routes) {
    if (r.notAllowed !== undefined || !r.handler) {
      app.on(r.method, r.path, notAllowed(r.notAllowed ?? "index"));
      continue;
    }
    const { handler, policy, query } = r;
    const checkBody = r.body ? bodyCheck(r.body) : undefined;
    app.on(r.method, r.path, prepare, async (c) => {
      const body = checkBody ? await checkBody(c) : undefined;
      if (policy !== undefined) authorize(c, policy);
      return handler(c, { params: c.req.param(), query: new Query(query, c.req), body });
    });
  }
  return app;
}
