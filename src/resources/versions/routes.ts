import { type Context, Hono } from "hono";
import type { AppEnv } from "../../http/context";
import { messages, notFound } from "../../http/faults";
import { notAllowed, prepare } from "../../http/request";
import { reply } from "../../http/responses";
import { applicationUrl, versionDocument } from "./documents";

/**
 * The v1 version document. It goes through the v1 pipeline (authentication,
 * microversion headers) but upstream checks no policy for it.
 */
export const versions = new Hono<AppEnv>();

const document = (c: Context<AppEnv>) => reply(c, 200, versionDocument(applicationUrl(c.req.raw)));

versions.get("/", prepare, document);
versions.get("/versions", notAllowed("index"));
versions.post("/versions", notAllowed("create"));
versions.get("/versions/new", notAllowed("new"));
versions.get("/versions/:id/edit", notAllowed("edit"));
versions.put("/versions/:id", notAllowed("update"));
versions.delete("/versions/:id", notAllowed("delete"));
versions.get("/versions/:id", prepare, (c) => {
  if (c.req.param("id") !== "v1.0") throw notFound(messages.resourceNotFound);
  return document(c);
});
