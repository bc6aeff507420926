import { Hono, type MiddlewareHandler } from "hono";
import type { Config } from "../config";
import { authentication, authorize } from "../http/auth";
import type { AppEnv } from "../http/context";
import { requestIds } from "../http/pipeline";
import { policies } from "../policy";
import { CONTENT_TYPES, negotiate, render } from "./exposition";
import { families } from "./families";
import { readCounts } from "./store";

// GET /metrics (docs/metrics.md). Outside /v1: no microversion, no project
// in the URL, not in the OpenAPI document. Two ways in:
//  - `Authorization: Bearer <METRICS_TOKEN>`, when that is set: what a
//    Prometheus server can send without a Keystone login;
//  - the API's own: the /v1 authentication middleware (X-Auth-Token
//    validated by Keystone, or noauth2's admin), then the policy rule
//    os_masakari_api:metrics, with the API's 401 and 403.
// A bearer token that does not match is no credential: the request goes
// the API's way, and without an X-Auth-Token Keystone's 401 answers it.

const sha256 = async (text: string) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));

/** Whether `header` carries `token` as a bearer token, compared in constant time. */
function bearerCheck(token: string | undefined): (header: string | undefined) => Promise<boolean> {
  if (token === undefined) return async () => false;
  // Digests have one length whatever was sent, so neither the comparison's
  // time nor its refusal tells the token's length; computed at the first
  // request (no crypto in the Worker's global scope).
  let expected: Promise<Uint8Array> | undefined;
  return async (header) => {
    const presented = /^Bearer +(\S+) *$/i.exec(header ?? "")?.[1];
    if (presented === undefined) return false;
    expected ??= sha256(token);
    return crypto.subtle.timingSafeEqual(await expected, await sha256(presented));
  };
}

export function metricsApp(config: Config): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const bearer = bearerCheck(config.metricsToken);
  // Its own instance: /metrics keeps its own token cache, scraped with the same token each time.
  const authenticate = authentication(config);
  const allowed: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (await bearer(c.req.header("authorization"))) return next();
    await authenticate(c, async () => {
      authorize(c, policies.metrics.read);
      await next();
    });
  };
  // GET only (anything else is the versions app's, as for /healthcheck):
  // each middleware its own GET handler, composed in this order as
  // app.use's are, so a fault thrown by one is rendered where it is thrown
  // and the request id still set.
  for (const middleware of [...requestIds, allowed]) app.get("/", middleware);
  app.get("/", async (c) => {
    // Read from the nearest replica: a scrape needs no read-your-writes.
    const counts = await readCounts(c.env.DB.withSession("first-unconstrained"));
    const format = negotiate(c.req.header("accept"));
    return c.body(render(families(counts), format), 200, {
      "Content-Type": CONTENT_TYPES[format],
      "Cache-Control": "no-store",
      Vary: "Accept",
    });
  });
  return app;
}
