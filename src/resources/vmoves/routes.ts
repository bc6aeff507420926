import { type Context, Hono } from "hono";
import { authorize } from "../../http/auth";
import type { AppEnv } from "../../http/context";
import { badRequest, messages, notFound } from "../../http/faults";
import { lastParam, pageRequest } from "../../http/paging";
import { policies } from "../../http/policy";
import { notAllowed, prepare } from "../../http/request";
import { reply } from "../../http/responses";
import { isUuidLike } from "../../http/validation";
import { findNotification } from "../notifications/store";
import { findVmove, listVmoves, type VmoveFilters } from "./store";
import { vmoveView } from "./view";

// VM moves of a COMPUTE_HOST notification (upstream master, spec §7). Not
// gated by microversion: 1.3 only documented them.

export const vmoves = new Hono<AppEnv>();
const VMOVES = "/notifications/:notification_id/vmoves";

vmoves.post(VMOVES, notAllowed("create"));
vmoves.get(`${VMOVES}/new`, notAllowed("new"));
vmoves.get(`${VMOVES}/:id/edit`, notAllowed("edit"));
vmoves.put(`${VMOVES}/:id`, notAllowed("update"));
vmoves.delete(`${VMOVES}/:id`, notAllowed("delete"));

/**
 * The notification in the URL, which must exist (404) and be a
 * COMPUTE_HOST notification (400). D6: vmove show answers 404 for an
 * unknown notification, where upstream answers 500.
 */
async function hostNotification(c: Context<AppEnv>): Promise<string> {
  const id = c.req.param("notification_id") ?? "";
  const notification = await findNotification(c.get("db"), id);
  if (!notification) throw notFound(messages.notificationNotFound(id));
  if (notification.type !== "COMPUTE_HOST") throw badRequest(messages.notificationWithoutVmoves(id));
  return notification.notification_uuid;
}

vmoves.get(VMOVES, prepare, authorize(policies.vmoves.index), async (c) => {
  const query = new URL(c.req.url).searchParams;
  const page = pageRequest(query, c.get("config").maxLimit);
  const notificationUuid = await hostNotification(c);
  const filters: VmoveFilters = {};
  for (const key of ["status", "type"] as const) {
    const value = lastParam(query, key);
    if (value !== undefined) filters[key] = value;
  }
  const rows = await listVmoves(c.get("db"), notificationUuid, filters, page);
  return reply(c, 200, { vmoves: rows.map(vmoveView) });
});

vmoves.get(`${VMOVES}/:id`, prepare, authorize(policies.vmoves.detail), async (c) => {
  await hostNotification(c);
  const id = c.req.param("id");
  const row = isUuidLike(id) ? await findVmove(c.get("db"), id) : undefined;
  if (!row) throw notFound(messages.vmoveNotFound(id));
  return reply(c, 200, { vmove: vmoveView(row) });
});
