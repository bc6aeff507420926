import type { MiddlewareHandler } from "hono";
import type { AppEnv, RequestContext } from "./context";
import { Fault, messages } from "./faults";

// Authentication sits in this one middleware (D8). noauth2, for local
// development and tests, is upstream master's: no credential is checked,
// every caller is admin, and user and project come from the standard
// identity headers (oslo.context's from_environ).

const first = (...values: (string | undefined)[]) => values.find((v) => v !== undefined) ?? null;

function noauthContext(header: (name: string) => string | undefined): RequestContext {
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

export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = c.get("config");
  if (config.authStrategy !== "noauth2") {
    throw new Fault(401, "The request you have made requires authentication.");
  }
  c.set(
    "context",
    noauthContext((name) => c.req.header(name)),
  );
  await next();
};

/** 403 unless the policy rule `name` allows the caller (spec §10.2). */
export function authorize(name: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const context = c.get("context");
    const creds = {
      user_id: context.userId,
      project_id: context.projectId,
      roles: context.roles,
      is_admin: context.isAdmin,
    };
    const target = { project_id: context.projectId, user_id: context.userId };
    if (!c.get("config").policy.allows(name, creds, target)) {
      throw new Fault(403, messages.policyDenied(name));
    }
    await next();
  };
}
