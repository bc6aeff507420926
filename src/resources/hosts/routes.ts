import { type Context, Hono } from "hono";
import { authorize } from "../../http/auth";
import type { AppEnv } from "../../http/context";
import { conflict, messages, notFound } from "../../http/faults";
import { booleanFilter } from "../../http/filters";
import { lastParam, pageRequest } from "../../http/paging";
import { policies } from "../../http/policy";
import { notAllowed, prepare } from "../../http/request";
import { noContent, reply } from "../../http/responses";
import { bodyValidator, isUuidLike } from "../../http/validation";
import { findSegment } from "../segments/store";
import { assertComputeService } from "./compute";
import { hostSchemas } from "./schemas";
import { createHost, deleteHost, findHost, type HostFilters, isSegmentInUse, listHosts, updateHost } from "./store";
import { hostView } from "./view";

export const hosts = new Hono<AppEnv>();
const HOSTS = "/segments/:segment_id/hosts";

const computeCheck = (c: Context<AppEnv>) => ({
  novaUrl: c.get("config").novaUrl,
  authToken: c.get("context").authToken,
  timeoutMs: c.get("config").novaTimeoutMs,
});

hosts.get(`${HOSTS}/new`, notAllowed("new"));
hosts.get(`${HOSTS}/:id/edit`, notAllowed("edit"));

hosts.get(HOSTS, prepare, authorize(policies.hosts.index), async (c) => {
  const query = new URL(c.req.url).searchParams;
  const page = pageRequest(query, c.get("config").maxLimit);
  const segmentId = c.req.param("segment_id");
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
  const rows = await listHosts(c.get("db"), segment.uuid, filters, page);
  return reply(c, 200, { hosts: rows.map((host) => hostView(host, segment)) });
});

hosts.post(HOSTS, prepare, bodyValidator(hostSchemas.create), authorize(policies.hosts.create), async (c) => {
  const segmentId = c.req.param("segment_id");
  const { host } = c.req.valid("json");
  const db = c.get("db");
  const check = computeCheck(c);
  // Upstream answers 404 for the segment before it asks Nova; only when
  // Nova will be asked is the segment read first. The guarded insert checks
  // it again either way.
  if (check.novaUrl) {
    if (!(await findSegment(db, segmentId))) throw notFound(messages.segmentNotFound(segmentId));
    await assertComputeService(host.name, check);
  }
  const result = await createHost(db, segmentId, host);
  if (result === "not-found") throw notFound(messages.segmentNotFound(segmentId));
  if (result === "name-taken") throw conflict(messages.hostNameExists(host.name));
  return reply(c, 201, { host: hostView(result.host, result.segment) });
});

hosts.get(`${HOSTS}/:id`, prepare, authorize(policies.hosts.detail), async (c) => {
  const { segment_id: segmentId, id } = c.req.param();
  if (!isUuidLike(id)) throw notFound(messages.hostIdNotFound(id));
  const found = await findHost(c.get("db"), segmentId, id);
  if (!found) throw notFound(messages.hostNotFoundInSegment(id, segmentId));
  return reply(c, 200, { host: hostView(found.host, found.segment) });
});

hosts.put(`${HOSTS}/:id`, prepare, bodyValidator(hostSchemas.update), authorize(policies.hosts.update), async (c) => {
  const { segment_id: segmentId, id } = c.req.param();
  const { host: changes } = c.req.valid("json");
  const db = c.get("db");
  const check = computeCheck(c);
  // Upstream answers 404, then in-use 409, before it asks Nova about a new
  // name; only when Nova will be asked do we read that state first. The
  // guarded write checks it again either way.
  if (changes.name !== undefined && check.novaUrl) {
    if (!(await findHost(db, segmentId, id))) throw notFound(messages.hostNotFoundInSegment(id, segmentId));
    if (await isSegmentInUse(db, segmentId)) throw conflict(messages.hostInUseUpdate(id));
    await assertComputeService(changes.name, check);
  }
  const result = await updateHost(db, segmentId, id, changes);
  if (result === "not-found") throw notFound(messages.hostNotFoundInSegment(id, segmentId));
  if (result === "in-use") throw conflict(messages.hostInUseUpdate(id));
  if (result === "name-taken") throw conflict(messages.hostNameExists(changes.name ?? ""));
  return reply(c, 200, { host: hostView(result.host, result.segment) });
});

hosts.delete(`${HOSTS}/:id`, prepare, authorize(policies.hosts.delete), async (c) => {
  const { segment_id: segmentId, id } = c.req.param();
  const result = await deleteHost(c.get("db"), segmentId, id);
  if (result === "not-found") throw notFound(messages.hostNotFoundInSegment(id, segmentId));
  if (result === "in-use") throw conflict(messages.hostInUseDelete(id));
  return noContent(c);
});
