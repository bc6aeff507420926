import { getTableColumns } from "drizzle-orm";
import type { Context } from "hono";
import { hosts } from "../../db/schema";
import type { AppEnv } from "../../http/context";
import { badRequest, conflict, Fault, messages, notFound } from "../../http/faults";
import { booleanFilter } from "../../http/filters";
import { lastParam, listQuery, pageRequest, pageRows } from "../../http/paging";
import { noContent, reply } from "../../http/responses";
import { type Route, refused, route } from "../../http/route";
import { policies } from "../../policy";
import { isUuidLike } from "../../validation/formats";
import { arrayOf, wrapped } from "../../validation/shapes";
import { findSegment } from "../segments/store";
import { isComputeHost } from "./compute";
import { hostSchemas } from "./schemas";
import { createHost, deleteHost, findHost, type HostFilters, isSegmentInUse, listHosts, updateHost } from "./store";
import { hostSchema, hostView } from "./view";

const TAG = "hosts";
const one = wrapped("host", hostSchema);

const HOSTS = "/segments/:segment_id/hosts";

const computeCheck = (c: Context<AppEnv>) => ({
  novaUrl: c.get("config").novaUrl,
  authToken: c.get("context").authToken,
  timeoutMs: c.get("config").novaTimeoutMs,
});

/** 400 unless Nova knows a nova-compute host `name` (D10); 503 when Nova cannot say. */
async function assertComputeHost(c: Context<AppEnv>, name: string): Promise<void> {
  const known = await isComputeHost(name, computeCheck(c));
  if (typeof known === "object") throw new Fault(503, messages.computeUnavailable(known.unavailable));
  if (!known) throw badRequest(messages.computeServiceNotFound(name));
}

export const hostRoutes: Route[] = [
  refused("GET", `${HOSTS}/new`, "new"),
  refused("GET", `${HOSTS}/:id/edit`, "edit"),

  route({
    method: "GET",
    path: HOSTS,
    policy: policies.hosts.index,
    docs: {
      summary: "List the hosts of a failover segment",
      tag: TAG,
      ok: { status: 200, schema: wrapped("hosts", arrayOf(hostSchema)) },
      faults: [404],
      query: listQuery(Object.keys(getTableColumns(hosts)), [
        { name: "type", schema: { type: "string" }, description: "Only hosts of this type." },
        {
          name: "on_maintenance",
          schema: { type: "string", examples: ["true", "0"] },
          description: "Only hosts on or off maintenance: a boolean-like string.",
        },
        {
          name: "reserved",
          schema: { type: "string", examples: ["true", "0"] },
          description: "Only reserved or unreserved hosts: a boolean-like string.",
        },
      ]),
    },
    handler: async (c) => {
      const query = new URL(c.req.url).searchParams;
      const page = pageRequest(query, c.get("config").maxLimit);
      const segmentId = c.req.param("segment_id") ?? "";
      const segment = await findSegment(c.get("db"), segmentId);
      if (!segment) throw notFound(messages.segmentNotFound(segmentId));
      // `name` and `control_attributes` are accepted and ignored, as upstream.
      const filters: HostFilters = {};
      const type = lastParam(query, "type");
      if (type !== undefined) filters.type = type;
      for (const flag of ["on_maintenance", "reserved"] as const) {
        const value = lastParam(query, flag);
        if (value !== undefined) filters[flag] = booleanFilter(flag, value);
      }
      const rows = pageRows(await listHosts(c.get("db"), segment.uuid, filters, page));
      return reply(c, 200, { hosts: rows.map((host) => hostView(host, segment)) });
    },
  }),

  route({
    method: "POST",
    path: HOSTS,
    policy: policies.hosts.create,
    body: { "1.0": hostSchemas.create },
    docs: {
      summary: "Add a host to a failover segment",
      tag: TAG,
      ok: { status: 201, schema: one },
      faults: [404, 409],
      description:
        "With NOVA_URL set, the name must be a nova-compute host Nova knows (400), and Nova not answering is 503 (D10).",
    },
    handler: async (c, { host }) => {
      const segmentId = c.req.param("segment_id") ?? "";
      const db = c.get("db");
      // Upstream answers 404 for the segment before it asks Nova; only when
      // Nova will be asked is the segment read first. The guarded insert
      // checks it again either way.
      if (c.get("config").novaUrl) {
        if (!(await findSegment(db, segmentId))) throw notFound(messages.segmentNotFound(segmentId));
        await assertComputeHost(c, host.name);
      }
      const result = await createHost(db, segmentId, host);
      if (result === "not-found") throw notFound(messages.segmentNotFound(segmentId));
      if (result === "name-taken") throw conflict(messages.hostNameExists(host.name));
      return reply(c, 201, { host: hostView(result.host, result.segment) });
    },
  }),

  route({
    method: "GET",
    path: `${HOSTS}/:id`,
    policy: policies.hosts.detail,
    docs: { summary: "Show a host", tag: TAG, ok: { status: 200, schema: one }, faults: [404] },
    handler: async (c) => {
      const segmentId = c.req.param("segment_id") ?? "";
      const id = c.req.param("id") ?? "";
      if (!isUuidLike(id)) throw notFound(messages.hostIdNotFound(id));
      const found = await findHost(c.get("db"), segmentId, id);
      if (!found) throw notFound(messages.hostNotFoundInSegment(id, segmentId));
      return reply(c, 200, { host: hostView(found.host, found.segment) });
    },
  }),

  route({
    method: "PUT",
    path: `${HOSTS}/:id`,
    policy: policies.hosts.update,
    body: { "1.0": hostSchemas.update },
    docs: {
      summary: "Update a host",
      tag: TAG,
      ok: { status: 200, schema: one },
      faults: [404, 409],
      description:
        "409 while the segment is in use by notifications. A new name is checked against Nova as on create (D10).",
    },
    handler: async (c, { host: changes }) => {
      const segmentId = c.req.param("segment_id") ?? "";
      const id = c.req.param("id") ?? "";
      const db = c.get("db");
      // Upstream answers 404, then in-use 409, before it asks Nova about a
      // new name; only when Nova will be asked do we read that state first.
      // The guarded write checks it again either way.
      if (changes.name !== undefined && c.get("config").novaUrl) {
        if (!(await findHost(db, segmentId, id))) throw notFound(messages.hostNotFoundInSegment(id, segmentId));
        if (await isSegmentInUse(db, segmentId)) throw conflict(messages.hostInUseUpdate(id));
        await assertComputeHost(c, changes.name);
      }
      const result = await updateHost(db, segmentId, id, changes);
      if (result === "not-found") throw notFound(messages.hostNotFoundInSegment(id, segmentId));
      if (result === "in-use") throw conflict(messages.hostInUseUpdate(id));
      if (result === "name-taken") throw conflict(messages.hostNameExists(changes.name ?? ""));
      return reply(c, 200, { host: hostView(result.host, result.segment) });
    },
  }),

  route({
    method: "DELETE",
    path: `${HOSTS}/:id`,
    policy: policies.hosts.delete,
    docs: {
      summary: "Delete a host",
      tag: TAG,
      ok: { status: 204 },
      faults: [404, 409],
      description: "409 while the segment is in use by notifications.",
    },
    handler: async (c) => {
      const segmentId = c.req.param("segment_id") ?? "";
      const id = c.req.param("id") ?? "";
      const result = await deleteHost(c.get("db"), segmentId, id);
      if (result === "not-found") throw notFound(messages.hostNotFoundInSegment(id, segmentId));
      if (result === "in-use") throw conflict(messages.hostInUseDelete(id));
      return noContent(c);
    },
  }),
];
