import { getTableColumns } from "drizzle-orm";
import { failoverSegments } from "../../db/schema";
import { conflict, messages, notFound } from "../../http/faults";
import { booleanFilter } from "../../http/filters";
import { lastParam, listQuery, pageRequest, pageRows } from "../../http/paging";
import { noContent, reply } from "../../http/responses";
import { type Route, refused, route } from "../../http/route";
import { policies } from "../../policy";
import { isUuidLike } from "../../validation/formats";
import { arrayOf, wrapped } from "../../validation/shapes";
import { segmentSchemas } from "./schemas";
import { createSegment, deleteSegment, findSegment, listSegments, type SegmentFilters, updateSegment } from "./store";
import { segmentSchema, segmentView } from "./view";

const TAG = "segments";
const one = wrapped("segment", segmentSchema);

export const segmentRoutes: Route[] = [
  refused("GET", "/segments/new", "new"),
  refused("GET", "/segments/:id/edit", "edit"),
  refused("POST", "/segments/:id/action", "action"),

  route({
    method: "GET",
    path: "/segments",
    policy: policies.segments.index,
    docs: {
      summary: "List failover segments",
      tag: TAG,
      ok: { status: 200, schema: wrapped("segments", arrayOf(segmentSchema)) },
      query: listQuery(Object.keys(getTableColumns(failoverSegments)), [
        {
          name: "recovery_method",
          schema: { type: "string" },
          description: "Only segments with this recovery method, in any case (D3).",
        },
        { name: "service_type", schema: { type: "string" }, description: "Only segments of this service type." },
        {
          name: "enabled",
          schema: { type: "string", examples: ["true", "0", "off"] },
          description: "Only enabled or disabled segments: a boolean-like string, any case (D5).",
        },
      ]),
    },
    handler: async (c) => {
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
      const rows = pageRows(await listSegments(c.get("db"), filters, page));
      return reply(c, 200, { segments: rows.map(segmentView) });
    },
  }),

  route({
    method: "POST",
    path: "/segments",
    policy: policies.segments.create,
    body: { "1.0": segmentSchemas.create, "1.2": segmentSchemas.createV12 },
    docs: {
      summary: "Create a failover segment",
      tag: TAG,
      ok: { status: 202, schema: one },
      faults: [409],
      description:
        "Answers 202, as the API reference specifies (D2; Masakari answers 201). `enabled` from microversion 1.2.",
    },
    handler: async (c, { segment }) => {
      const row = await createSegment(c.get("db"), segment);
      if (!row) throw conflict(messages.segmentNameExists(segment.name));
      // D2: 202, as the seed API reference specifies (upstream answers 201).
      return reply(c, 202, { segment: segmentView(row) });
    },
  }),

  route({
    method: "GET",
    path: "/segments/:id",
    policy: policies.segments.detail,
    docs: { summary: "Show a failover segment", tag: TAG, ok: { status: 200, schema: one }, faults: [404] },
    handler: async (c) => {
      const id = c.req.param("id") ?? "";
      const row = isUuidLike(id) ? await findSegment(c.get("db"), id) : undefined;
      if (!row) throw notFound(messages.segmentNotFound(id));
      return reply(c, 200, { segment: segmentView(row) });
    },
  }),

  route({
    method: "PUT",
    path: "/segments/:id",
    policy: policies.segments.update,
    body: { "1.0": segmentSchemas.update, "1.2": segmentSchemas.updateV12 },
    docs: {
      summary: "Update a failover segment",
      tag: TAG,
      ok: { status: 200, schema: one },
      faults: [404, 409],
      description: "`enabled` from microversion 1.2. 409 while the segment is in use by notifications.",
    },
    handler: async (c, { segment: changes }) => {
      const id = c.req.param("id") ?? "";
      const result = await updateSegment(c.get("db"), id, changes);
      if (result === "not-found") throw notFound(messages.segmentNotFound(id));
      if (result === "in-use") throw conflict(messages.segmentInUseUpdate(id));
      if (result === "name-taken") throw conflict(messages.segmentNameExists(changes.name ?? ""));
      return reply(c, 200, { segment: segmentView(result) });
    },
  }),

  route({
    method: "DELETE",
    path: "/segments/:id",
    policy: policies.segments.delete,
    docs: {
      summary: "Delete a failover segment and its hosts",
      tag: TAG,
      ok: { status: 204 },
      faults: [404, 409],
      description: "409 while the segment is in use by notifications.",
    },
    handler: async (c) => {
      const id = c.req.param("id") ?? "";
      const result = await deleteSegment(c.get("db"), id);
      if (result === "not-found") throw notFound(messages.segmentNotFound(id));
      if (result === "in-use") throw conflict(messages.segmentInUseDelete(id));
      return noContent(c);
    },
  }),
];
