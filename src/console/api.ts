import { type Context, Hono } from "hono";
import type { Config, Env } from "../config";
import { credentials, ownTarget } from "../http/auth";
import type { AppEnv, RequestContext } from "../http/context";
import { Fault, messages } from "../http/faults";
import { TokenCache } from "../http/token-cache";
import { KeystoneUnavailable, keystoneClient, Unauthenticated } from "../openstack/keystone";
import { policies } from "../policy";
import { login, revoke } from "./keystone";
import { CSRF_HEADER, clearedCookie, csrfToken, readSession, refusal, type Session, sessionCookie } from "./session";

// The console's own API under /console/api (docs/console.md), the path its
// cookie is sent to:
//   GET    /session         who is signed in, what policy lets them do, the CSRF token
//   POST   /session         sign in (keystone): Keystone v3 password auth, the cookie set
//   DELETE /session         sign out: the cookie cleared, the token revoked
//   ANY    /v1, /v1/...     the API itself: the same app, with the cookie's token
//   POST   /demo/fail       demo mode only: a host of the Nova stand-in taken down, and reported
// Anything else here is a 404 fault.

/** What the proxy forwards to: the Worker's own app, so policy, faults and microversions are the API's. */
export interface Forward {
  fetch(request: Request, env: Env, ctx?: ExecutionContext): Response | Promise<Response>;
}

/** The request headers the API reads that the page may send; everything else stays behind (cookies above all). */
const FORWARDED = ["accept", "content-type", "openstack-api-version", "x-d1-bookmark", "last-event-id"];

/** Every rule the API enforces, so the page can hide what it would refuse. */
const RULES = Object.values(policies).flatMap((group) => Object.values(group) as string[]);

const NO_STORE = { "Cache-Control": "no-store" };

const json = (c: Context<AppEnv>, status: 200 | 201, body: unknown, headers: Record<string, string> = {}) =>
  c.json(body, status, { ...NO_STORE, ...headers });

/** Who is calling, by the strategy: noauth2's admin, a Keystone token's owner, or nobody. */
type Caller =
  | { kind: "noauth2"; context: RequestContext }
  | { kind: "keystone"; context: RequestContext; session: Session }
  | { kind: "anonymous"; stale: boolean };

export function consoleApi(config: Config, forward: Forward): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  // Validations are cached as the API caches them (its own cache: the console asks once per page load).
  const cache = new TokenCache(config.tokenCacheSeconds);

  /** The Worker's Keystone, or the configuration error the API answers with. */
  const keystone = () => {
    if (config.unservable !== undefined || !config.keystone) {
      throw new Fault(500, config.unservable ?? "AUTH_STRATEGY=keystone needs the Worker's Keystone identity");
    }
    return config.keystone;
  };

  async function caller(c: Context<AppEnv>): Promise<Caller> {
    if (config.authStrategy === "noauth2") {
      return {
        kind: "noauth2",
        context: { userId: null, projectId: null, roles: [], isAdmin: true, authToken: null },
      };
    }
    const settings = keystone();
    const session = readSession(c);
    if (!session) return { kind: "anonymous", stale: false };
    try {
      const client = keystoneClient(settings);
      const identity = await cache.identity(
        session.token,
        (t) => client.validate(t),
        () => new Unauthenticated(),
      );
      const creds = {
        user_id: identity.userId,
        project_id: identity.projectId,
        roles: identity.roles,
        is_admin: false,
      };
      const isAdmin = config.policy.allows("context_is_admin", creds, {
        project_id: identity.projectId,
        user_id: identity.userId,
      });
      const context = { ...identity, isAdmin, authToken: session.token };
      return { kind: "keystone", context, session };
    } catch (error) {
      if (error instanceof Unauthenticated) return { kind: "anonymous", stale: true };
      if (error instanceof KeystoneUnavailable) throw new Fault(503, messages.identityUnavailable(error.message));
      throw error;
    }
  }

  const allowed = (context: RequestContext, rule: string) =>
    config.policy.allows(rule, credentials(context), ownTarget(context));

  async function sessionInfo(context: RequestContext | undefined, session: Session | undefined) {
    return {
      auth_strategy: config.authStrategy,
      demo: config.demo,
      signed_in: context !== undefined,
      ...(context
        ? {
            user: { id: context.userId, name: session?.user ?? null },
            project: { id: context.projectId, name: session?.project ?? null },
            domain: session?.domain ?? null,
            roles: context.roles,
            csrf_token: await csrfToken(session),
            permissions: Object.fromEntries(RULES.map((rule) => [rule, allowed(context, rule)])),
          }
        : {}),
    };
  }

  /** 403 in the API's fault shape unless the request may change state for this caller. */
  async function guard(c: Context<AppEnv>, session: Session | undefined, withCsrf = true): Promise<void> {
    const why = await refusal(c, config, withCsrf ? await csrfToken(session) : undefined);
    if (why !== undefined) throw new Fault(403, `The console refused this request: ${why}.`);
  }

  /** The request to the API for `path`, with the caller's token and the headers it reads. */
  function apiRequest(c: Context<AppEnv>, path: string, session: Session | undefined, body?: BodyInit): Request {
    const url = new URL(c.req.url);
    const headers = new Headers();
    for (const name of FORWARDED) {
      const value = c.req.header(name);
      if (value !== undefined) headers.set(name, value);
    }
    if (session) headers.set("x-auth-token", session.token);
    const method = c.req.method;
    return new Request(`${url.origin}${path}${url.search}`, {
      method,
      headers,
      body: body ?? (method === "GET" || method === "HEAD" ? undefined : c.req.raw.body),
    });
  }

  function executionContext(c: Context<AppEnv>): ExecutionContext | undefined {
    try {
      return c.executionCtx as ExecutionContext;
    } catch {
      return undefined;
    }
  }

  api.get("/session", async (c) => {
    const who = await caller(c);
    if (who.kind === "anonymous") {
      return json(c, 200, await sessionInfo(undefined, undefined), who.stale ? { "Set-Cookie": clearedCookie() } : {});
    }
    return json(c, 200, await sessionInfo(who.context, who.kind === "keystone" ? who.session : undefined));
  });

  api.post("/session", async (c) => {
    if (config.authStrategy === "noauth2") throw new Fault(404, "No sign-in under AUTH_STRATEGY=noauth2.");
    const settings = keystone();
    // Sign-in has no session yet: its origin is what keeps another site from signing a browser in.
    await guard(c, undefined, false);
    const body = await c.req.json().catch(() => undefined);
    const field = (name: string, fallback?: string) => {
      const value = body?.[name] ?? fallback;
      if (typeof value !== "string" || value.trim() === "" || value.length > 255)
        throw new Fault(400, `${name} must be a non-empty string of at most 255 characters.`);
      return value.trim();
    };
    const credentials = {
      username: field("username"),
      password: body?.password,
      project: field("project"),
      domain: field("domain", "Default"),
    };
    if (typeof credentials.password !== "string" || credentials.password === "" || credentials.password.length > 4096)
      throw new Fault(400, "password must be a non-empty string.");
    const result = await login(settings, credentials);
    if (result === "refused")
      throw new Fault(401, "Keystone refused these credentials: check the user name, password, project and domain.");
    if ("unavailable" in result) throw new Fault(503, messages.identityUnavailable(result.unavailable));
    const session = {
      token: result.token,
      user: result.userName,
      project: result.projectName,
      domain: credentials.domain,
    };
    const creds = { user_id: result.userId, project_id: result.projectId, roles: result.roles, is_admin: false };
    const isAdmin = config.policy.allows("context_is_admin", creds, {
      project_id: result.projectId,
      user_id: result.userId,
    });
    const context = {
      userId: result.userId,
      projectId: result.projectId,
      roles: result.roles,
      isAdmin,
      authToken: result.token,
    };
    const cookie = sessionCookie(session, (result.expiresAt - Date.now()) / 1000);
    return json(c, 201, await sessionInfo(context, session), { "Set-Cookie": cookie });
  });

  api.delete("/session", async (c) => {
    if (config.authStrategy === "noauth2") throw new Fault(404, "No sign-in under AUTH_STRATEGY=noauth2.");
    const session = readSession(c);
    await guard(c, session);
    if (session && config.keystone) {
      const settings = config.keystone;
      const revoked = revoke(settings, session.token).catch(() => {});
      const ctx = executionContext(c);
      if (ctx) ctx.waitUntil(revoked);
      else await revoked;
    }
    return c.body(null, 204, { ...NO_STORE, "Set-Cookie": clearedCookie() });
  });

  const proxy = async (c: Context<AppEnv>) => {
    const session = config.authStrategy === "keystone" ? readSession(c) : undefined;
    if (c.req.method !== "GET" && c.req.method !== "HEAD") await guard(c, session);
    const path = c.req.path.slice("/console/api".length);
    return forward.fetch(apiRequest(c, path, session), c.env, executionContext(c));
  };
  api.all("/v1", proxy);
  api.all("/v1/*", proxy);

  api.post("/demo/fail", async (c) => {
    if (!config.demo || !config.novaUrl) throw new Fault(404, messages.resourceNotFound);
    const who = await caller(c);
    const session = who.kind === "keystone" ? who.session : undefined;
    await guard(c, session);
    if (who.kind === "anonymous") throw new Fault(401, "Sign in first.");
    // Nothing is taken down for a caller the API would then refuse the report of.
    if (!allowed(who.context, policies.notifications.create))
      throw new Fault(403, messages.policyDenied(policies.notifications.create));
    const body = await c.req.json().catch(() => undefined);
    const host = body?.host;
    if (typeof host !== "string" || host === "" || host.length > 255)
      throw new Fault(400, "host must be the name of a host.");
    // As a monitor sees it: the host's nova-compute goes down in Nova...
    const control = await fetch(`${new URL(config.novaUrl).origin}/_control/hosts`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: host, state: "down" }),
      signal: AbortSignal.timeout(config.novaTimeoutMs),
    }).catch(() => undefined);
    if (!control?.ok)
      throw new Fault(503, `The Nova stand-in did not take ${host} down (${control?.status ?? "no answer"}).`);
    // ...then reports it through the API, as masakari-monitors' host monitor does.
    const report = {
      notification: {
        type: "COMPUTE_HOST",
        hostname: host,
        generated_time: new Date().toISOString().slice(0, 19),
        payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" },
      },
    };
    const request = apiRequest(c, "/v1/notifications", session, JSON.stringify(report));
    request.headers.set("content-type", "application/json");
    return forward.fetch(request, c.env, executionContext(c));
  });

  api.all("*", () => {
    throw new Fault(404, messages.resourceNotFound);
  });
  return api;
}

export { CSRF_HEADER };
