import { getTableColumns } from "drizzle-orm";
import { failoverSegments } from "../../db/schema";
import { conflict, messages, notFound, orFault } from "../../http/faults";
import { listQuery, pageRequest, pageRows } from "../../http/paging";
import { flag, text } from "../../http/query";
import { noContent, reply } from "../../http/responses";
import { type Route, refused, route } from "../../http/route";
import { policies } from "../../policy";
import { isUuidLike } from "../../validation/formats";
import { arrayOf, wrapped } from "../../validation/shapes";
import { segmentSchemas } from "./schemas";
import { createSegment, deleteSegment, findSegment, listSegments, updateSegment } from "./store";
import { segmentSchema, segmentView } from "./view";

const TAG = "segments";
const one = wrapped("segment", segmentSchema);

/** What each refusal of the segment store answers, by operation (docs/upstream.md, "Segment operations"). */
const REFUSALS = {
  create: {
    "name-taken": (r: { name: string }) => conflict(messages.segmentNameExists(r.name)),
  },
  update: {
    "not-found": (r: { id: string }) => notFound(messages.segmentNotFound(r.id)),
    "in-use": (r: { id: string }) => conflict(messages.segmentInUseUpdate(r.id)),
    "name-taken": (r: { name: string }) => conflict(messages.segmentNameExists(r.name)),
  },
  delete: {
    "not-found": (r: { id: string }) => notFound(messages.segmentNotFound(r.id)),
    "in-use": (r: { id: string }) => conflict(messages.segmentInUseDelete(r.id)),
  },
};

export const segmentRoutes: Route[] = [
  refused("GET", "/segments/new", "new"),
  refused("GET", "/segments/:id/edit", "edit"),
  refused("POST", "/segments/:id/action", "action"),

  route({
    method: "GET",
    path: "/segments",
    policy: policies.segments.index,
    query: listQuery(Object.keys(getTableColumns(failoverSegments)), {
      recovery_method: text("Only segments with this recovery method, in any case (D3)."),
      service_type: text("Only segments of this service type."),
      enabled: flag("Only enabled or disabled segments: a boolean-like string, any case (D5).", ["true", "0", "off"]),
    }),
    docs: {
      summary: "List failover segments",
      tag: TAG,
      ok: { status: 200, schema: wrapped("segments", arrayOf(segmentSchema)) },
    },
    handler: async (c, { query }) => {
      const page = pageRequest(query, c.get("config").maxLimit);
      const filters = {
        // D3: the filter is as case-insensitive as the body.
        recovery_method: query.get("recovery_method")?.toLowerCase(),
        service_type: query.get("service_type"),
        // D5: upstream compares the raw string with an integer column, so only
        // 1 and 0 match anything; we read it as a boolean or answer 400.
        enabled: query.get("enabled"),
      };
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
    handler: async (c, { body: { segment } }) => {
      const row = orFault(await createSegment(c.get("db"), segment), REFUSALS.create, segment);
      // D2: 202, as the seed API reference specifies (upstream answers 201).
      return reply(c, 202, { segment: segmentView(row) });
    },
  }),

  route({
    method: "GET",
    path: "/segments/:id",
    policy: policies.segments.detail,
    docs: { summary: "Show a failover segment", tag: TAG, ok: { status: 200, schema: one }, faults: [404] },
    handler: async (c, { params: { id } }) => {
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
    handler: async (c, { params: { id }, body: { segment: changes } }) => {
      const result = await updateSegment(c.get("db"), id, changes);
      const row = orFault(result, REFUSALS.update, { id, name: changes.name ?? "" });
      return reply(c, 200, { segment: segmentView(row) });
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
    handler: async (c, { params: { id } }) => {
      orFault(await deleteSegment(c.get("db"), id), REFUSALS.delete, { id });
      return noContent(c);
    },
  }),
];
