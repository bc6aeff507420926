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
 * oslo's request_id: every /v1 response carries x-openstack-request-id,
 * `req-<uuid>`, and every log line of the request names it. Hono's
 * requestId makes the id; it is set on the response here, after the
 * handler, so that responses built whole (413, 401) carry it too. oslo
 * never takes a client's id as its own, so no incoming header is read.
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

/**
 * A response header of ours, not upstream Masakari's (OpenStack clients
 * ignore it): the D1 bookmark of the request's session, named as in
 * Cloudflare's D1 read replication documentation. A client that sends it
 * back on its next request reads at least what it has seen and written,
 * even from a read replica.
 */
export const BOOKMARK_HEADER = "x-d1-bookmark";

/**
 * The request's database, `c.get("db")`: drizzle on one D1 session (D1's
 * Sessions API) that runs every query of the request.
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
