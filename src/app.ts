import { Hono } from "hono";
import type { Config } from "./config";
import { consoleApi } from "./console/api";
import { authentication } from "./http/auth";
import type { AppEnv } from "./http/context";
import { Fault, messages } from "./http/faults";
import { routePath } from "./http/path";
import { noHead, requestIds, sizeLimit, withDatabase } from "./http/pipeline";
import { checkContentType } from "./http/request";
import { renderError, reply } from "./http/responses";
import { router } from "./http/route";
import { metricsApp } from "./metrics/routes";
import { openApiDocument } from "./openapi/document";
import { v1Routes } from "./resources";
import { applicationUrl, choices, versionList } from "./resources/versions/documents";

/**
 * The v1 pipeline (docs/upstream.md, "The v1 pipeline"): request id, body size
 * limit and authentication for every /v1 path, then the request's database,
 * then the resource routes.
 */
function v1(config: Config): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.use("*", ...requestIds, sizeLimit, authentication(config), withDatabase, noHead);
  api.route("/", router(v1Routes));
  // D7: a path no route matches is a JSON itemNotFound fault (upstream
  // answers webob's plain-text 404).
  api.all("*", () => {
    throw new Fault(404, messages.resourceNotFound);
  });
  return api;
}

export function createApp(config: Config): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ getPath: routePath });
  app.onError(renderError);
  app.use("*", async (c, next) => {
    c.set("config", config);
    await next();
  });

  // oslo.middleware's healthcheck (upstream master).
  app.get("/healthcheck", (c) => c.text("OK", 200));
  app.route("/metrics", metricsApp(config)); // Prometheus: docs/metrics.md

  // The OpenAPI document, public like the versions document (ours).
  app.get("/openapi.json", (c) => c.json(openApiDocument()));

  app.route("/v1", v1(config));

  // The web console's API (src/console/api.ts): its session, and /v1 through
  // this same app with the session's token. Its pages are static assets.
  app.route("/console/api", consoleApi(config, app));

  // Every other path: the versions app (docs/upstream.md,
  // "Versions documents"). No request id, no auth.
  app.all("*", (c) => {
    checkContentType(c.req.header("content-type"));
    const base = applicationUrl(c.req.raw);
    if (c.req.path === "/") return reply(c, 200, versionList(base));
    return reply(c, 300, choices(base, c.req.path));
  });
  return app;
}
