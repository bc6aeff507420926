import { Hono } from "hono";
import { authorize, credentials, ownTarget } from "../../http/auth";
import type { AppEnv, RequestContext } from "../../http/context";
import { messages, notFound } from "../../http/faults";
import { discoverable, type Policy, policies } from "../../http/policy";
import { notAllowed, prepare } from "../../http/request";
import { reply } from "../../http/responses";

// The loaded API extensions of upstream master, sorted by alias (spec §8).
// 14.0.2 has no vmoves.
const EXTENSIONS = [
  { name: "Extensions", alias: "extensions", description: "Extension information." },
  { name: "Notifications", alias: "notifications", description: "Notifications support." },
  { name: "Hosts", alias: "os-hosts", description: "Hosts controller" },
  { name: "Segments", alias: "segments", description: "Segments Extension." },
  { name: "Versions", alias: "versions", description: "API Version information." },
  { name: "vmoves", alias: "vmoves", description: "vmoves controller" },
].map((e) => ({ ...e, namespace: "", updated: "", links: [] }));

type Extension = (typeof EXTENSIONS)[number];

/** Each extension is listed only if its discoverable policy allows it. */
function visible(policy: Policy, context: RequestContext): Extension[] {
  return EXTENSIONS.filter((e) => policy.allows(discoverable(e.alias), credentials(context), ownTarget(context)));
}

export const extensions = new Hono<AppEnv>();

extensions.post("/extensions", notAllowed("create"));
extensions.get("/extensions/new", notAllowed("new"));
extensions.get("/extensions/:alias/edit", notAllowed("edit"));
extensions.put("/extensions/:alias", notAllowed("update"));
extensions.delete("/extensions/:alias", notAllowed("delete"));

extensions.get("/extensions", prepare, authorize(policies.extensions.index), (c) =>
  reply(c, 200, { extensions: visible(c.get("config").policy, c.get("context")) }),
);

extensions.get("/extensions/:alias", prepare, authorize(policies.extensions.detail), (c) => {
  const extension = visible(c.get("config").policy, c.get("context")).find((e) => e.alias === c.req.param("alias"));
  if (!extension) throw notFound(messages.resourceNotFound);
  return reply(c, 200, { extension });
});
