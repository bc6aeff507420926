import type { Context, MiddlewareHandler } from "hono";
import type { Config } from "../config";
import { type Keystone, KeystoneUnavailable, keystoneClient, Unauthenticated } from "../openstack/keystone";
import type { Credentials, Policy } from "../policy";
import { pythonJson } from "../python";
import type { AppEnv, RequestContext } from "./context";
import { Fault, messages } from "./faults";
import { TokenCache } from "./token-cache";

// Authentication sits in this one middleware (D8), in front of every /v1
// path (the versions document at / and /healthcheck stay public).
//  - noauth2, for local development and tests, is upstream master's: no
//    credential is checked, every caller is admin, and user and project come
//    from the standard identity headers (oslo.context's from_environ).
//  - keystone validates X-Auth-Token against Keystone (src/openstack/keystone.ts,
//    cached by ./token-cache.ts); the caller is admin when the policy rule
//    context_is_admin says so. Keystone failing or not answering is a 503.

type Header = (name: string) => string | undefined;

const first = (...values: (string | undefined)[]) => values.find((v) => v !== undefined) ?? null;

function noauthContext(header: Header): RequestContext {
  return {
    userId: first(header("x-user-id"), header("x-user")),
    projectId: first(header("x-project-id"), header("x-tenant-id"), header("x-tenant")),
    roles: (header("x-roles") ?? "")
      .split(",")
      .map((r) => r.trim())
      .filter((r) => r !== ""),
    isAdmin: true,
    authToken: header("x-auth-token") ?? null,
  };
}

export const credentials = (context: RequestContext): Credentials => ({
  user_id: context.userId,
  project_id: context.projectId,
  roles: context.roles,
  is_admin: context.isAdmin,
});

/** The policy target upstream passes: the caller's own project and user. */
export const ownTarget = (context: RequestContext) => ({ project_id: context.projectId, user_id: context.userId });

/** keystonemiddleware's 401: JSON of its own shape, and where to log in. */
function unauthorized(keystone: Keystone): Response {
  const body = {
    error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." },
  };
  return new Response(pythonJson(body), {
    status: 401,
    headers: { "Content-Type": "application/json", "WWW-Authenticate": keystone.wwwAuthenticate },
  });
}

async function keystoneContext(
  keystone: Keystone,
  cache: TokenCache,
  policy: Policy,
  token: string,
): Promise<RequestContext> {
  let identity: Awaited<ReturnType<Keystone["validate"]>>;
  try {
    identity = await cache.identity(
      token,
      (t) => keystone.validate(t),
      () => new Unauthenticated(),
    );
  } catch (error) {
    if (error instanceof KeystoneUnavailable) throw new Fault(503, messages.identityUnavailable(error.message));
    throw error;
  }
  const creds = { user_id: identity.userId, project_id: identity.projectId, roles: identity.roles, is_admin: false };
  return {
    userId: identity.userId,
    projectId: identity.projectId,
    roles: identity.roles,
    isAdmin: policy.allows("context_is_admin", creds, ownTarget({ ...identity, isAdmin: false, authToken: null })),
    authToken: token,
  };
}

/** The authentication middleware for the configured strategy. */
export function authentication(config: Config): MiddlewareHandler<AppEnv> {
  if (config.authStrategy === "noauth2") {
    return async (c, next) => {
      c.set(
        "context",
        noauthContext((name) => c.req.header(name)),
      );
      await next();
    };
  }
  if (config.unservable !== undefined || !config.keystone) {
    // Never serve the API open: until the Worker has its Keystone identity,
    // every /v1 request is refused with the configuration error.
    const problem = config.unservable ?? "AUTH_STRATEGY=keystone needs the Worker's Keystone identity";
    console.error(problem);
    return async () => {
      throw new Fault(500, problem);
    };
  }
  const keystone = keystoneClient(config.keystone);
  const cache = new TokenCache(config.tokenCacheSeconds);
  return async (c, next) => {
    const token = c.req.header("x-auth-token");
    if (!token) {
      c.res = unauthorized(keystone);
      return;
    }
    try {
      c.set("context", await keystoneContext(keystone, cache, config.policy, token));
    } catch (error) {
      if (!(error instanceof Unauthenticated)) throw error;
      c.res = unauthorized(keystone);
      return;
    }
    await next();
  };
}

/** 403 unless the policy rule `name` allows the caller (docs/upstream.md, "Policy"). */
export function authorize(c: Context<AppEnv>, name: string): void {
  const context = c.get("context");
  if (!c.get("config").policy.allows(name, credentials(context), ownTarget(context))) {
    throw new Fault(403, messages.policyDenied(name));
  }
}
