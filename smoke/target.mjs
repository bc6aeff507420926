// Where the API is, from what an operator or a Keystone catalog gives: the
// service root (https://ha.example.com), its /v1 endpoint, or /v1/<project_id>
// (devstack registers .../v1/$(tenant_id)s). A path before /v1 is kept, for
// deployments behind a path prefix.

export class UsageError extends Error {}

// What may follow /v1 and is a resource, not a project id (docs/upstream.md,
// "Routes and project ids").
const RESOURCES = new Set(["segments", "notifications", "extensions", "versions"]);

/**
 * @returns {{ root: string, v1: string, api: string, projectId: string | null }}
 *   root: the versions document; v1: the v1 document; api: where resources
 *   live (v1, or v1/<project_id>).
 */
export function apiTarget(url, projectId = null) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${url} is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`${url}: only http and https URLs are served`);
  }
  if (parsed.search || parsed.hash) throw new UsageError(`${url}: give the URL without a query or fragment`);
  if (parsed.pathname.includes("$(")) {
    throw new UsageError(`${url} still holds a catalog template: put the project id in its place`);
  }
  const segments = parsed.pathname.split("/").filter(Boolean);
  const v1 = segments.lastIndexOf("v1");
  let prefix = segments;
  let fromUrl = null;
  if (v1 >= 0) {
    const after = segments.slice(v1 + 1);
    if (after.length > 1 || RESOURCES.has(after[0])) {
      throw new UsageError(
        `${url}: expected the service root, its /v1 endpoint or /v1/<project_id>, not a resource under it`,
      );
    }
    prefix = segments.slice(0, v1);
    fromUrl = after[0] === undefined ? null : decodeURIComponent(after[0]);
  }
  if (projectId && fromUrl && projectId !== fromUrl) {
    throw new UsageError(`--project-id ${projectId} differs from the project id ${fromUrl} in ${url}`);
  }
  const project = projectId || fromUrl;
  const root = parsed.origin + prefix.map((segment) => `/${segment}`).join("");
  const v1Url = `${root}/v1`;
  return { root, v1: v1Url, api: project ? `${v1Url}/${encodeURIComponent(project)}` : v1Url, projectId: project };
}
