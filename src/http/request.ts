import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";
import { Fault, messages } from "./faults";
import { HEADER, negotiateVersion, versionString } from "./microversion";
import { urlProjectId } from "./path";

// What upstream's wsgi.Resource does for every routed v1 request before the
// controller runs, in its order (docs/upstream.md, "Order of checks"):
// microversion (400/406), Content-Type (415), unimplemented action (405), body
// parsing (400), then the project of a /v1/{project_id}/... URL (400). Schema
// validation and policy follow in the route itself.

/** [oslo_middleware] max_request_body_size. */
export const MAX_REQUEST_BODY_SIZE = 114688;

const JSON_TYPES = ["application/json", "application/vnd.openstack.masakari+json"];

/**
 * 415 for a Content-Type that is neither JSON type, whatever the method.
 * No header, an empty one and text/plain count as "no type": the body is
 * still read as JSON. Parameters such as charset are ignored; the media type
 * itself is compared as sent (webob does not fold case).
 */
export function checkContentType(header: string | undefined): void {
  if (header === undefined) return;
  const type = header.split(";")[0]?.trim() ?? "";
  if (type === "" || type === "text/plain") return;
  if (!JSON_TYPES.includes(type)) throw new Fault(415, messages.unsupportedContentType);
}

/** oslo sizelimit's answer: plain text, not a fault. */
export function requestTooLarge(): Response {
  return new Response(
    `413 Request Entity Too Large\n\nRequest is too large. Larger than max_request_body_size (${MAX_REQUEST_BODY_SIZE}).\n\n   `,
    { status: 413, headers: { "Content-Type": "text/plain; charset=UTF-8" } },
  );
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Python's JSON decoder stops at about 1000 levels of nesting with a
 * RecursionError, which upstream answers with a 500. A body nested that
 * deep is malformed here; no Masakari body nests more than four levels.
 */
const MAX_DEPTH = 1000;

function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== "object" || current === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * The JSON text of a POST or PUT body, checked to parse. A Content-Length of
 * 0 is "no body": upstream validates None, so the schema answers. Anything
 * else must be JSON in UTF-8; invalid UTF-8 is a malformed body (D6; 14.0.2
 * answers 500).
 */
async function readJson(c: Context<AppEnv>): Promise<string> {
  if (c.req.header("content-length") === "0") return "null";
  // The size limit (./pipeline.ts) has already refused a longer body.
  const bytes = await c.req.arrayBuffer();
  let text: string;
  let body: unknown;
  try {
    text = utf8.decode(bytes);
    body = JSON.parse(text);
  } catch {
    throw new Fault(400, messages.malformedBody);
  }
  if (nestedDeeperThan(body, MAX_DEPTH)) throw new Fault(400, messages.malformedBody);
  return text;
}

function negotiate(c: Context<AppEnv>): void {
  c.set("apiVersion", negotiateVersion(c.req.header(HEADER) ?? null));
  checkContentType(c.req.header("content-type"));
}

/**
 * A successful v1 response names the service "masakari" in its version header;
 * faults name it "instance-ha" (docs/upstream.md, "Microversions"), see
 * renderFault.
 */
function stampVersion(c: Context<AppEnv>): void {
  const version = c.get("apiVersion");
  if (!version || c.res.status >= 400) return;
  c.res.headers.set(HEADER, `masakari ${versionString(version)}`);
  c.res.headers.set("Vary", HEADER);
}

/** The common front of every v1 route. */
export const prepare: MiddlewareHandler<AppEnv> = async (c, next) => {
  negotiate(c);
  if (c.req.method === "POST" || c.req.method === "PUT") c.set("jsonBody", await readJson(c));
  const projectId = urlProjectId(c.req.raw);
  const context = c.get("context");
  if (projectId !== undefined && projectId !== context.projectId) {
    throw new Fault(400, messages.projectMismatch(projectId, context.projectId));
  }
  await next();
  stampVersion(c);
};

/**
 * The routes python-routes generates for a resource whose controller lacks
 * the action (`new`, `edit`, `update`, ...): 405 after the microversion and
 * Content-Type checks, before the body is read.
 */
export function notAllowed(action: string): MiddlewareHandler<AppEnv> {
  return async (c) => {
    negotiate(c);
    throw new Fault(405, messages.badMethod(c.req.method, action));
  };
}
