import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { database } from "../db/database";
import { clientBookmark, RequestSession } from "../db/session";
import { logFor } from "../log";
import type { AppEnv } from "./context";
import { Fault, messages } from "./faults";
import { MAX_REQUEST_BODY_SIZE, requestTooLarge } from "./request";

// The middleware of upstream's v1 pipeline that runs for every /v1 path, routed
// or not (docs/upstream.md, "The v1 pipeline"), in front of authentication.

/**
 * oslo's request_id: `req-<uuid>` on every /v1 response and in the request's
 * log lines, never the client's own. Set after the handler, so that responses
 * built whole (413, 401) carry it too.
 */
export const requestIds: MiddlewareHandler<AppEnv>[] = [
  requestId({ headerName: "", generator: () => `req-${crypto.randomUUID()}` }),
  async (c, next) => {
    c.set("log", logFor(c.get("requestId")));
    await next();
    c.res.headers.set("x-openstack-request-id", c.get("requestId"));
  },
];

/**
 * oslo's sizelimit: a body over the limit is refused, whether its
 * Content-Length says so at once or it only turns out longer when read.
 */
export const sizeLimit = bodyLimit({ maxSize: MAX_REQUEST_BODY_SIZE, onError: () => requestTooLarge() });

/** Ours, not Masakari's (docs/api.md, "Read replicas: the x-d1-bookmark header"). */
const BOOKMARK_HEADER = "x-d1-bookmark";

/**
 * The request's database, `c.get("db")`: drizzle on one D1 session. A GET
 * starts from the client's bookmark, or at the nearest replica without one;
 * any other method at the primary, where a write's preconditions are read
 * and which is newer than any bookmark. A bookmark D1 refuses is ignored
 * (src/db/session.ts). The response carries the session's bookmark once the
 * request queried D1, faults included.
 */
export const withDatabase: MiddlewareHandler<AppEnv> = async (c, next) => {
  const warn = (message: string, error: unknown) => c.get("log").warn(message, error);
  const session =
    c.req.method === "GET"
      ? new RequestSession(c.env.DB, "first-unconstrained", clientBookmark(c.req.header(BOOKMARK_HEADER)), warn)
      : new RequestSession(c.env.DB, "first-primary", null, warn);
  c.set("db", database(session));
  await next();
  const bookmark = session.bookmark();
  if (bookmark !== null) c.res.headers.set(BOOKMARK_HEADER, bookmark);
};

/** Upstream's router has no HEAD routes; Hono would answer HEAD as GET. */
export const noHead: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.raw.method === "HEAD") throw new Fault(404, messages.resourceNotFound);
  await next();
};
