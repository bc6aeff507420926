import type { Context } from "hono";
import type { ContentfulStatusCode, StatusCode } from "hono/utils/http-status";
import { pythonJson } from "../python";
import type { AppEnv } from "./context";
import { Fault, faultName, messages } from "./faults";
import { versionHeaders } from "./microversion";

/** A JSON success body, written as upstream's json.dumps writes it. */
export function reply(c: Context, status: ContentfulStatusCode, body: unknown): Response {
  return c.body(pythonJson(body), status, { "Content-Type": "application/json" });
}

/** 204 with upstream's headers: a JSON type and an empty body. */
export function noContent(c: Context): Response {
  return c.body(null, 204, { "Content-Type": "application/json" });
}

/**
 * `{"<faultName>": {"code": N, "message": "..."}}` (docs/upstream.md,
 * "Faults and messages"), with the "instance-ha" version header once the
 * request's microversion is known.
 */
export function faultResponse(
  c: Context<AppEnv>,
  status: StatusCode,
  message: string,
  extra: Record<string, string> = {},
): Response {
  const version = c.get("apiVersion");
  const headers: Record<string, string> = {
    ...(version ? versionHeaders("instance-ha", version) : {}),
    ...extra,
    "Content-Type": "application/json; charset=UTF-8",
  };
  const body = pythonJson({ [faultName(status)]: { code: status, message } });
  return c.body(body, status as ContentfulStatusCode, headers);
}

/** The app's error handler: faults as faults, anything else as a 500, logged with its request id. */
export function renderError(error: Error, c: Context<AppEnv>): Response {
  if (error instanceof Fault) return faultResponse(c, error.status, error.message, error.headers);
  (c.get("log") ?? console).error(`${c.req.method} ${c.req.path} failed:`, error);
  return faultResponse(c, 500, messages.serverError);
}

/**
 * Runs `work` after the response when the runtime allows (waitUntil), else
 * before it returns (an app called without an execution context). Its
 * failure is logged, never the request's.
 */
export async function afterResponse(c: Context<AppEnv>, what: string, work: () => Promise<unknown>): Promise<void> {
  const done = work().catch((error) => (c.get("log") ?? console).error(`${what} failed:`, error));
  let ctx: { waitUntil(promise: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = undefined;
  }
  if (ctx) ctx.waitUntil(done);
  else await done;
}
