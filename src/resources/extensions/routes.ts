import { credentials, ownTarget } from "../../http/auth";
import type { RequestContext } from "../../http/context";
import { messages, notFound } from "../../http/faults";
import { reply } from "../../http/responses";
import { type Route, refused, route } from "../../http/route";
import { discoverable, type Policy, policies } from "../../policy";
import { arrayOf, object, string, wrapped } from "../../validation/shapes";

// The loaded API extensions of upstream master, sorted by alias
// (docs/upstream.md, "Extensions"; 14.0.2 has no vmoves), and ours
// (D21-D24), each with its own discoverable policy.
const EXTENSIONS = [
  { name: "Extensions", alias: "extensions", description: "Extension information." },
  { name: "Notifications", alias: "notifications", description: "Notifications support." },
  {
    name: "EvacuationPriorities",
    alias: "os-evacuation-priorities",
    description:
      "Evacuations ordered by an instance metadata priority, and instances excluded by their metadata (HOST_FAILURE_PRIORITY_METADATA_KEY, HOST_FAILURE_EXCLUDE_METADATA).",
  },
  { name: "Hosts", alias: "os-hosts", description: "Hosts controller" },
  {
    name: "NotificationActions",
    alias: "os-notification-actions",
    description:
      "Operator actions on a notification: retry, abort, ignore, release (POST .../notifications/{id}/action).",
  },
  {
    name: "NotificationEvents",
    alias: "os-notification-events",
    description:
      "A notification's recovery as it happens: Server-Sent Events of the notification and its VM moves (GET .../notifications/{id}/events).",
  },
  {
    name: "RecoveryPlans",
    alias: "os-recovery-plans",
    description: "What the engine would do if a host failed now, and whether it would fit (GET .../recovery-plan).",
  },
  {
    name: "StormGuard",
    alias: "os-storm-guard",
    description: "Host failures that would put too many of a segment's hosts down at once are held until released.",
  },
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
