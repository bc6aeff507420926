import { credentials, ownTarget } from "../../http/auth";
import type { RequestContext } from "../../http/context";
import { messages, notFound } from "../../http/faults";
import { reply } from "../../http/responses";
import { type Route, refused, route } from "../../http/route";
import { discoverable, type Policy, policies } from "../../policy";
import { arrayOf, object, string, wrapped } from "../../validation/shapes";

// The loaded API extensions of upstream master, sorted by alias
// (docs/upstream.md, "Extensions"). 14.0.2 has no vmoves.
const EXTENSIONS = [
  { name: "Extensions", alias: "extensions", description: "Extension information." },
  { name: "Notifications", alias: "notifications", description: "Notifications support." },
  { name: "Hosts", alias: "os-hosts", description: "Hosts controller" },
  { name: "Segments", alias: "segments", description: "Segments Extension." },
  { name: "Versions", alias: "versions", description: "API Version information." },
  { name: "vmoves", alias: "vmoves", description: "vmoves controller" },
].map((e) => ({ ...e, namespace: "", updated: "", links: [] }));

type Extension = (typeof EXTENSIONS)[number];

const extensionSchema = object({
  name: string(),
  alias: string(),
  description: string(),
  namespace: string(),
  updated: string(),
  links: arrayOf({}),
});

/** Each extension is listed only if its discoverable policy allows it. */
function visible(policy: Policy, context: RequestContext): Extension[] {
  return EXTENSIONS.filter((e) => policy.allows(discoverable(e.alias), credentials(context), ownTarget(context)));
}

export const extensionRoutes: Route[] = [
  refused("POST", "/extensions", "create"),
  refused("GET", "/extensions/new", "new"),
  refused("GET", "/extensions/:alias/edit", "edit"),
  refused("PUT", "/extensions/:alias", "update"),
  refused("DELETE", "/extensions/:alias", "delete"),

  route({
    method: "GET",
    path: "/extensions",
    policy: policies.extensions.index,
    docs: {
      summary: "List the API's extensions",
      tag: "extensions",
      ok: { status: 200, schema: wrapped("extensions", arrayOf(extensionSchema)) },
    },
    handler: (c) => reply(c, 200, { extensions: visible(c.get("config").policy, c.get("context")) }),
  }),

  route({
    method: "GET",
    path: "/extensions/:alias",
    policy: policies.extensions.detail,
    docs: {
      summary: "Show an extension",
      tag: "extensions",
      ok: { status: 200, schema: wrapped("extension", extensionSchema) },
      faults: [404],
    },
    handler: (c, { params: { alias } }) => {
      const extension = visible(c.get("config").policy, c.get("context")).find((e) => e.alias === alias);
      if (!extension) throw notFound(messages.resourceNotFound);
      return reply(c, 200, { extension });
    },
  }),
];
