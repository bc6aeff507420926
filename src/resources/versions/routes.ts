import type { Context } from "hono";
import type { AppEnv } from "../../http/context";
import { messages, notFound } from "../../http/faults";
import { reply } from "../../http/responses";
import { type Route, refused, route } from "../../http/route";
import { applicationUrl, versionDocument } from "./documents";

// The v1 version document. It goes through the v1 pipeline (authentication,
// microversion headers) but upstream checks no policy for it.

const document = (c: Context<AppEnv>) => reply(c, 200, versionDocument(applicationUrl(c.req.raw)));

export const versionRoutes: Route[] = [
  route({ method: "GET", path: "/", handler: document }),
  refused("GET", "/versions", "index"),
  refused("POST", "/versions", "create"),
  refused("GET", "/versions/new", "new"),
  refused("GET", "/versions/:id/edit", "edit"),
  refused("PUT", "/versions/:id", "update"),
  refused("DELETE", "/versions/:id", "delete"),
  route({
    method: "GET",
    path: "/versions/:id",
    handler: (c) => {
      if (c.req.param("id") !== "v1.0") throw notFound(messages.resourceNotFound);
      return document(c);
    },
  }),
];
