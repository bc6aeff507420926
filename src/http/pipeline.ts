import type { MiddlewareHandler } from "hono";
import { database } from "../db/client";
import type { AppEnv } from "./context";
import { Fault, messages } from "./faults";
import { MAX_REQUEST_BODY_SIZE, requestTooLarge } from "./request";

// The middleware of upstream's v1 pipeline that runs for every /v1 path,
// routed or not (spec §1.1), in front of authentication.

/** oslo's request_id: every /v1 response carries x-openstack-request-id. */
export const requestId: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  c.res.headers.set("x-openstack-request-id", `req-${crypto.randomUUID()}`);
};

/** oslo's sizelimit: a declared body over the limit is refused at once. */
export const sizeLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (Number(c.req.header("content-length") ?? 0) > MAX_REQUEST_BODY_SIZE) {
    c.res = requestTooLarge();
    return;
  }
  await next();
};

/** A Drizzle instance on the request's D1 binding. */
export const withDatabase: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set("db", database(c.env.DB));
  await next();
};

/** Upstream's router has no HEAD routes; Hono would answer HEAD as GET. */
export const noHead: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.raw.method === "HEAD") throw new Fault(404, messages.resourceNotFound);
  await next();
};
