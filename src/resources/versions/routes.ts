import type { Context } from "hono";
import type { AppEnv } from "../../http/context";
import { messages, notFound } from "../../http/faults";
import { reply } from "../../http/responses";
import { type Route, refused, route } from "../../http/route";
import { applicationUrl, versionDocument, versionDocumentSchema } from "./documents";

const docs = {
  summary: "The v1 version document",
  tag: "versions",
  ok: { status: 200, schema: versionDocumentSchema },
  description: "No policy is checked, but it goes through authentication like every /v1 path.",
};

// The v1 version document. It goes through the v1 pipeline (authentication,
// microversion headers) but upstream checks no policy for it.

const document = (c: Context<AppEnv>) => reply(c, 200, versionDocument(applicationUrl(c.req.raw)));

export const versionRoutes: Route[] = [
  route({ method: "GET", path: "/", docs, handler: document }),
  refused("GET", "/versions", "index"),
  refused("POST", "/versions", "create"),
  refused("GET", "/versions/new", "new"),
  refused("GET", "/versions/:id/edit", "edit"),
  refused("PUT", "/versions/:id", "update"),
  refused("DELETE", "/versions/:id", "delete"),
  route({
    method: "GET",
    path: "/versions/:id",
    docs: { ...docs, summary: "The v1 version document, by id (v1.0)", faults: [404] },
    handler: (c, { params: { id } }) => {
      if (id !== "v1.0") throw notFound(messages.resourceNotFound);
      return document(c);
    },
  }),
];
