import type { MiddlewareHandler } from "hono";
import { db, withSession } from "../db/client";
import { clientBookmark, RequestSession } from "../db/session";
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

/**
 * A response header of ours, not upstream Masakari's (OpenStack clients
 * ignore it): the D1 bookmark of the request's session, named as in
 * Cloudflare's D1 read replication documentation. A client that sends it
 * back on its next request reads at least what it has seen and written,
 * even from a read replica.
 */
export const BOOKMARK_HEADER = "x-d1-bookmark";

/**
 * One D1 session per request (D1's Sessions API), on which the isolate's
 * drizzle instance runs every query of the request.
 *
 * A GET starts from the bookmark the client sent, or anywhere
 * (`first-unconstrained`: the nearest replica) without one. Every other
 * method starts at the primary (`first-primary`), as D1's documentation
 * advises when a session needs the latest data: a write's preconditions are
 * read there, and the primary is at least as new as any bookmark, so the
 * client's is not needed. A header that is not a D1 bookmark is ignored, and
 * so is a bookmark D1 refuses (src/db/session.ts): the request is served as if
 * none had been sent, never refused, since a bookmark only asks for
 * freshness and a client has nothing to correct in an opaque value.
 *
 * Every response of a request whose session ran a query, faults included,
 * carries the session's bookmark in x-d1-bookmark.
 */
export const withDatabase: MiddlewareHandler<AppEnv> = async (c, next) => {
  const session =
    c.req.method === "GET"
      ? new RequestSession(c.env.DB, "first-unconstrained", clientBookmark(c.req.header(BOOKMARK_HEADER)))
      : new RequestSession(c.env.DB, "first-primary");
  c.set("db", db);
  await withSession(session, next);
  const bookmark = session.bookmark();
  if (bookmark !== null) c.res.headers.set(BOOKMARK_HEADER, bookmark);
};

/** Upstream's router has no HEAD routes; Hono would answer HEAD as GET. */
export const noHead: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.raw.method === "HEAD") throw new Fault(404, messages.resourceNotFound);
  await next();
};
