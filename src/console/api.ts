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

/** A `RequestContext` for a Keystone identity, with policy's verdict on whether it is an admin. */
function identityContext(
  config: Config,
  identity: Pick<RequestContext, "userId" | "projectId" | "roles">,
  token: string,
): RequestContext {
  const creds = { user_id: identity.userId, project_id: identity.projectId, roles: identity.roles, is_admin: false };
  const isAdmin = config.policy.allows("context_is_admin", creds, {
    project_id: identity.projectId,
    user_id: identity.userId,
  });
  return { userId: identity.userId, projectId: identity.projectId, roles: identity.roles, isAdmin, authToken: token };
}

function executionContext(c: Context<AppEnv>): ExecutionContext | undefined {
  try {
    return c.executionCtx as ExecutionContext;
  } catch {
    return undefined;
  }
}

/** A string field of a sign-in body, trimmed, or a 400. */
function field(body: Record<string, unknown> | undefined, name: string, fallback?: string): string {
  const value = body?.[name] ?? fallback;
  if (typeof value !== "string" || value.trim() === "" || value.length > 255)
    throw new Fault(400, `${name} must be a non-empty string of at most 255 characters.`);
  return value.trim();
}

/** The console API's handlers, sharing the Worker's settings and a token cache. */
class ConsoleRoutes {
  // Validations are cached as the API caches them (its own cache: the console asks once per page load).
  private readonly cache: TokenCache;

  constructor(
    private readonly config: Config,
    private readonly forward: Forward,
  ) {
    this.cache = new TokenCache(config.tokenCacheSeconds);
  }

  /** The Worker's Keystone, or the configuration error the API answers with. */
  private keystone() {
    const { config } = this;
    if (config.unservable !== undefined || !config.keystone) {
      throw new Fault(500, config.unservable ?? "AUTH_STRATEGY=keystone needs the Worker's Keystone identity");
    }
    return config.keystone;
  }

  private async caller(c: Context<AppEnv>): Promise<Caller> {
    if (this.config.authStrategy === "noauth2") {
      return {
        kind: "noauth2",
        context: { userId: null, projectId: null, roles: [], isAdmin: true, authToken: null },
      };
    }
    const settings = this.keystone();
    const session = readSession(c);
    if (!session) return { kind: "anonymous", stale: false };
    try {
      const client = keystoneClient(settings);
      const identity = await this.cache.identity(
        session.token,
        (t) => client.validate(t),
        () => new Unauthenticated(),
      );
      return { kind: "keystone", context: identityContext(this.config, identity, session.token), session };
    } catch (error) {
      if (error instanceof Unauthenticated) return { kind: "anonymous", stale: true };
      if (error instanceof KeystoneUnavailable) throw new Fault(503, messages.identityUnavailable(error.message));
      throw error;
    }
  }

  private allowed(context: RequestContext, rule: string): boolean {
    return this.config.policy.allows(rule, credentials(context), ownTarget(context));
  }

  private async sessionInfo(context: RequestContext | undefined, session: Session | undefined) {
    return {
      auth_strategy: this.config.authStrategy,
      demo: this.config.demo,
      signed_in: context !== undefined,
      ...(context
        ? {
            user: { id: context.userId, name: session?.user ?? null },
            project: { id: context.projectId, name: session?.project ?? null },
            domain: session?.domain ?? null,
            roles: context.roles,
            csrf_token: await csrfToken(session),
            permissions: Object.fromEntries(RULES.map((rule) => [rule, this.allowed(context, rule)])),
          }
        : {}),
    };
  }

  /** 403 in the API's fault shape unless the request may change state for this caller. */
  private async guard(c: Context<AppEnv>, session: Session | undefined, withCsrf = true): Promise<void> {
    const why = await refusal(c, this.config, withCsrf ? await csrfToken(session) : undefined);
    if (why !== undefined) throw new Fault(403, `The console refused this request: ${why}.`);
  }

  /** The request to the API for `path`, with the caller's token and the headers it reads. */
  private apiRequest(c: Context<AppEnv>, path: string, session: Session | undefined, body?: BodyInit): Request {
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

  /** GET /session */
  async session(c: Context<AppEnv>): Promise<Response> {
    const who = await this.caller(c);
    if (who.kind === "anonymous") {
      const headers: Record<string, string> = who.stale ? { "Set-Cookie": clearedCookie() } : {};
      return json(c, 200, await this.sessionInfo(undefined, undefined), headers);
    }
    return json(c, 200, await this.sessionInfo(who.context, who.kind === "keystone" ? who.session : undefined));
  }

  /** POST /session */
  async signIn(c: Context<AppEnv>): Promise<Response> {
    if (this.config.authStrategy === "noauth2") throw new Fault(404, "No sign-in under AUTH_STRATEGY=noauth2.");
    const settings = this.keystone();
    // Sign-in has no session yet: its origin is what keeps another site from signing a browser in.
    await this.guard(c, undefined, false);
    const body = await c.req.json().catch(() => undefined);
    const given = {
      username: field(body, "username"),
      password: body?.password,
      project: field(body, "project"),
      domain: field(body, "domain", "Default"),
    };
    if (typeof given.password !== "string" || given.password === "" || given.password.length > 4096)
      throw new Fault(400, "password must be a non-empty string.");
    const result = await login(settings, given);
    if (result === "refused")
      throw new Fault(401, "Keystone refused these credentials: check the user name, password, project and domain.");
    if ("unavailable" in result) throw new Fault(503, messages.identityUnavailable(result.unavailable));
    const session = { token: result.token, user: result.userName, project: result.projectName, domain: given.domain };
    const context = identityContext(this.config, result, result.token);
    const cookie = sessionCookie(session, (result.expiresAt - Date.now()) / 1000);
    return json(c, 201, await this.sessionInfo(context, session), { "Set-Cookie": cookie });
  }

  /** DELETE /session */
  async signOut(c: Context<AppEnv>): Promise<Response> {
    if (this.config.authStrategy === "noauth2") throw new Fault(404, "No sign-in under AUTH_STRATEGY=noauth2.");
    const session = readSession(c);
    await this.guard(c, session);
    if (session && this.config.keystone) {
      const revoked = revoke(this.config.keystone, session.token).catch(() => {});
      const ctx = executionContext(c);
      if (ctx) ctx.waitUntil(revoked);
      else await revoked;
    }
    return c.body(null, 204, { ...NO_STORE, "Set-Cookie": clearedCookie() });
  }

  /** ANY /v1, /v1/... */
  async proxy(c: Context<AppEnv>): Promise<Response> {
    const session = this.config.authStrategy === "keystone" ? readSession(c) : undefined;
    if (c.req.method !== "GET" && c.req.method !== "HEAD") await this.guard(c, session);
    const path = c.req.path.slice("/console/api".length);
    return this.forward.fetch(this.apiRequest(c, path, session), c.env, executionContext(c));
  }

  /** POST /demo/fail */
  async demoFail(c: Context<AppEnv>): Promise<Response> {
    const { config } = this;
    if (!config.demo || !config.novaUrl) throw new Fault(404, messages.resourceNotFound);
    const who = await this.caller(c);
    const session = who.kind === "keystone" ? who.session : undefined;
    await this.guard(c, session);
    if (who.kind === "anonymous") throw new Fault(401, "Sign in first.");
    // Nothing is taken down for a caller the API would then refuse the report of.
    if (!this.allowed(who.context, policies.notifications.create))
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
    const request = this.apiRequest(c, "/v1/notifications", session, JSON.stringify(report));
    request.headers.set("content-type", "application/json");
    return this.forward.fetch(request, c.env, executionContext(c));
  }
}

export function consoleApi(config: Config, forward: Forward): Hono<AppEnv> {
  const routes = new ConsoleRoutes(config, forward);
  const api = new Hono<AppEnv>();
  api.get("/session", (c) => routes.session(c));
  api.post("/session", (c) => routes.signIn(c));
  api.delete("/session", (c) => routes.signOut(c));
  api.all("/v1", (c) => routes.proxy(c));
  api.all("/v1/*", (c) => routes.proxy(c));
  api.post("/demo/fail", (c) => routes.demoFail(c));
  api.all("*", () => {
    throw new Fault(404, messages.resourceNotFound);
  });
  return api;
}

export { CSRF_HEADER };
