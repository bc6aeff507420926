import { Hono } from "hono";
import { authorize } from "../../http/auth";
import type { AppEnv } from "../../http/context";
import { conflict, messages, notFound } from "../../http/faults";
import { booleanFilter } from "../../http/filters";
import { lastParam, pageRequest } from "../../http/paging";
import { policies } from "../../http/policy";
import { notAllowed, prepare } from "../../http/request";
import { noContent, reply } from "../../http/responses";
import { isUuidLike, versionedBodyValidator } from "../../http/validation";
import { segmentSchemas } from "./schemas";
import { createSegment, deleteSegment, findSegment, listSegments, type SegmentFilters, updateSegment } from "./store";
import { segmentView } from "./view";

export const segments = new Hono<AppEnv>();
const since12 = { major: 1, minor: 2 };

segments.get("/segments/new", notAllowed("new"));
segments.get("/segments/:id/edit", notAllowed("edit"));
segments.post("/segments/:id/action", notAllowed("action"));

segments.get("/segments", prepare, authorize(policies.segments.index), async (c) => {
  const query = new URL(c.req.url).searchParams;
  const page = pageRequest(query, c.get("config").maxLimit);
  const filters: SegmentFilters = {};
  const recoveryMethod = lastParam(query, "recovery_method");
  // D3: the filter is as case-insensitive as the body.
  if (recoveryMethod !== undefined) filters.recovery_method = recoveryMethod.toLowerCase();
  const serviceType = lastParam(query, "service_type");
  if (serviceType !== undefined) filters.service_type = serviceType;
  const enabled = lastParam(query, "enabled");
  // D5: upstream compares the raw string with an integer column, so only
  // 1 and 0 match anything; we read it as a boolean or answer 400.
  if (enabled !== undefined) filters.enabled = booleanFilter("enabled", enabled);
  const rows = await listSegments(c.get("db"), filters, page);
  return reply(c, 200, { segments: rows.map(segmentView) });
});

segments.post(
  "/segments",
  prepare,
  versionedBodyValidator(since12, segmentSchemas.createV12, segmentSchemas.create),
  authorize(policies.segments.create),
  async (c) => {
    const { segment } = c.req.valid("json");
    const row = await createSegment(c.get("db"), segment);
    if (!row) throw conflict(messages.segmentNameExists(segment.name));
    // D2: 202, as the seed API reference specifies (upstream answers 201).
    return reply(c, 202, { segment: segmentView(row) });
  },
);

segments.get("/segments/:id", prepare, authorize(policies.segments.detail), async (c) => {
  const id = c.req.param("id");
  const row = isUuidLike(id) ? await findSegment(c.get("db"), id) : undefined;
  if (!row) throw notFound(messages.segmentNotFound(id));
  return reply(c, 200, { segment: segmentView(row) });
});

segments.put(
  "/segments/:id",
  prepare,
  versionedBodyValidator(since12, segmentSchemas.updateV12, segmentSchemas.update),
  authorize(policies.segments.update),
  async (c) => {
    const id = c.req.param("id");
    const { segment: changes } = c.req.valid("json");
    const result = await updateSegment(c.get("db"), id, changes);
    if (result === "not-found") throw notFound(messages.segmentNotFound(id));
    if (result === "in-use") throw conflict(messages.segmentInUseUpdate(id));
    if (result === "name-taken") throw conflict(messages.segmentNameExists(changes.name ?? ""));
    return reply(c, 200, { segment: segmentView(result) });
  },
);

segments.delete("/segments/:id", prepare, authorize(policies.segments.delete), async (c) => {
  const id = c.req.param("id");
  const result = await deleteSegment(c.get("db"), id);
  if (result === "not-found") throw notFound(messages.segmentNotFound(id));
  if (result === "in-use") throw conflict(messages.segmentInUseDelete(id));
  return noContent(c);
});
