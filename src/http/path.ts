// Upstream's router (python-routes) registers every v1 resource twice, with
// and without a `{project_id}` segment matching [0-9a-f-]+ (docs/upstream.md,
// "Routes and project ids"), and lets every route end in `.json` or `.xml`.
// Routes here are written once, without either: the path they are matched
// against drops both.

const PROJECT_FORM = /^\/v1\/([0-9a-f-]+)(?=\/.)/;
const FORMAT_SUFFIX = /\.(json|xml)$/;

const isV1 = (path: string) => path === "/v1" || path.startsWith("/v1/");

function pathname(request: Request): string {
  const url = request.url;
  const start = url.indexOf("/", url.indexOf("://") + 3);
  if (start === -1) return "/";
  const end = url.search(/[?#]/);
  return url.slice(start, end === -1 ? undefined : end);
}

/** The path Hono routes on (its `getPath` option). `/v1/` is `/v1`. */
export function routePath(request: Request): string {
  const path = pathname(request);
  if (!isV1(path)) return path;
  if (path === "/v1/") return "/v1";
  return path.replace(PROJECT_FORM, "/v1").replace(FORMAT_SUFFIX, "");
}

/** The project id of a `/v1/{project_id}/...` URL, if it has one. */
export function urlProjectId(request: Request): string | undefined {
  const path = pathname(request);
  return isV1(path) ? PROJECT_FORM.exec(path)?.[1] : undefined;
}
