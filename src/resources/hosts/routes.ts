import { getTableColumns } from "drizzle-orm";
import type { Context } from "hono";
import { hosts } from "../../db/schema";
import type { AppEnv } from "../../http/context";
import { badRequest, conflict, Fault, messages, notFound, orFault } from "../../http/faults";
import { listQuery, pageRequest, pageRows } from "../../http/paging";
import { flag, text } from "../../http/query";
import { noContent, reply } from "../../http/responses";
import { type Route, refused, route } from "../../http/route";
import { policies } from "../../policy";
import { isUuidLike } from "../../validation/formats";
import { arrayOf, wrapped } from "../../validation/shapes";
import { findSegment } from "../segments/store";
import { isComputeHost } from "./compute";
import { hostSchemas } from "./schemas";
import { createHost, deleteHost, findHost, isSegmentInUse, listHosts, updateHost } from "./store";
import { hostSchema, hostView } from "./view";

const TAG = "hosts";
const one = wrapped("host", hostSchema);

const HOSTS = "/segments/:segment_id/hosts";

/**
 * What each refusal of the host store answers, by operation (docs/upstream.md,
 * "Host operations and order of checks"). A create's not-found is its segment.
 */
const REFUSALS = {
  create: {
    "not-found": (r: { segment_id: string }) => notFound(messages.segmentNotFound(r.segment_id)),
    "name-taken": (r: { name: string }) => conflict(messages.hostNameExists(r.name)),
  },
  update: {
    "not-found": (r: { id: string; segment_id: string }) =>
      notFound(messages.hostNotFoundInSegment(r.id, r.segment_id)),
    "in-use": (r: { id: string }) => conflict(messages.hostInUseUpdate(r.id)),
    "name-taken": (r: { name: string }) => conflict(messages.hostNameExists(r.name)),
  },
  delete: {
    "not-found": (r: { id: string; segment_id: string }) =>
      notFound(messages.hostNotFoundInSegment(r.id, r.segment_id)),
    "in-use": (r: { id: string }) => conflict(messages.hostInUseDelete(r.id)),
  },
};

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
    // `name` and `control_attributes` are accepted and ignored, as upstream.
    query: listQuery(Object.keys(getTableColumns(hosts)), {
      type: text("Only hosts of this type."),
      on_maintenance: flag("Only hosts on or off maintenance: a boolean-like string.", ["true", "0"]),
      reserved: flag("Only reserved or unreserved hosts: a boolean-like string.", ["true", "0"]),
    }),
    docs: {
      summary: "List the hosts of a failover segment",
      tag: TAG,
      ok: { status: 200, schema: wrapped("hosts", arrayOf(hostSchema)) },
      faults: [404],
    },
    handler: async (c, { params, query }) => {
      const page = pageRequest(query, c.get("config").maxLimit);
      const segment = await findSegment(c.get("db"), params.segment_id);
      if (!segment) throw notFound(messages.segmentNotFound(params.segment_id));
      // Upstream reads the filters after the segment: a bad flag is a 400 only then.
      const filters = {
        type: query.get("type"),
        on_maintenance: query.get("on_maintenance"),
        reserved: query.get("reserved"),
      };
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
    handler: async (c, { params, body: { host } }) => {
      const db = c.get("db");
      const facts = { segment_id: params.segment_id, name: host.name };
      // Upstream answers 404 for the segment before it asks Nova; only when
      // Nova will be asked is the segment read first. The guarded insert
      // checks it again either way.
      if (c.get("config").novaUrl) {
        if (!(await findSegment(db, params.segment_id))) throw REFUSALS.create["not-found"](facts);
        await assertComputeHost(c, host.name);
      }
      const created = orFault(await createHost(db, params.segment_id, host), REFUSALS.create, facts);
      return reply(c, 201, { host: hostView(created.host, created.segment) });
    },
  }),

  route({
    method: "GET",
    path: `${HOSTS}/:id`,
    policy: policies.hosts.detail,
    docs: { summary: "Show a host", tag: TAG, ok: { status: 200, schema: one }, faults: [404] },
    handler: async (c, { params: { segment_id, id } }) => {
      if (!isUuidLike(id)) throw notFound(messages.hostIdNotFound(id));
      const found = await findHost(c.get("db"), segment_id, id);
      if (!found) throw notFound(messages.hostNotFoundInSegment(id, segment_id));
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
    handler: async (c, { params: { segment_id, id }, body: { host: changes } }) => {
      const db = c.get("db");
      const facts = { segment_id, id, name: changes.name ?? "" };
      // Upstream answers 404, then in-use 409, before it asks Nova about a
      // new name; only when Nova will be asked do we read that state first.
      // The guarded write checks it again either way.
      if (changes.name !== undefined && c.get("config").novaUrl) {
        if (!(await findHost(db, segment_id, id))) throw REFUSALS.update["not-found"](facts);
        if (await isSegmentInUse(db, segment_id)) throw REFUSALS.update["in-use"](facts);
        await assertComputeHost(c, changes.name);
      }
      const updated = orFault(await updateHost(db, segment_id, id, changes), REFUSALS.update, facts);
      return reply(c, 200, { host: hostView(updated.host, updated.segment) });
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
    handler: async (c, { params }) => {
      orFault(await deleteHost(c.get("db"), params.segment_id, params.id), REFUSALS.delete, params);
      return noContent(c);
    },
  }),
];
