import { getTableColumns } from "drizzle-orm";
import type { Database } from "../../db/database";
import { vmoves } from "../../db/schema";
import { badRequest, messages, notFound } from "../../http/faults";
import { listQuery, pageRequest, pageRows } from "../../http/paging";
import { text } from "../../http/query";
import { reply } from "../../http/responses";
import { type Route, refused, route } from "../../http/route";
import { policies } from "../../policy";
import { isUuidLike } from "../../validation/formats";
import { arrayOf, wrapped } from "../../validation/shapes";
import { findNotification } from "../notifications/store";
import { findVmove, listVmoves } from "./store";
import { vmoveSchema, vmoveView } from "./view";

const TAG = "vmoves";

// VM moves of a COMPUTE_HOST notification (upstream master; docs/upstream.md,
// "VM moves"). Not gated by microversion: 1.3 only documented them.

const VMOVES = "/notifications/:notification_id/vmoves";

/**
 * The notification in the URL, which must exist (404) and be a
 * COMPUTE_HOST notification (400). D6: vmove show answers 404 for an
 * unknown notification, where upstream answers 500.
 */
async function hostNotification(db: Database, id: string): Promise<string> {
  const notification = await findNotification(db, id);
  if (!notification) throw notFound(messages.notificationNotFound(id));
  if (notification.type !== "COMPUTE_HOST") throw badRequest(messages.notificationWithoutVmoves(id));
  return notification.notification_uuid;
}

export const vmoveRoutes: Route[] = [
  refused("POST", VMOVES, "create"),
  refused("GET", `${VMOVES}/new`, "new"),
  refused("GET", `${VMOVES}/:id/edit`, "edit"),
  refused("PUT", `${VMOVES}/:id`, "update"),
  refused("DELETE", `${VMOVES}/:id`, "delete"),

  route({
    method: "GET",
    path: VMOVES,
    policy: policies.vmoves.index,
    query: listQuery(Object.keys(getTableColumns(vmoves)), {
      status: text("Only moves in this status."),
      type: text("Only moves of this type."),
    }),
    docs: {
      summary: "List the VM moves of a host failure's recovery",
      tag: TAG,
      ok: { status: 200, schema: wrapped("vmoves", arrayOf(vmoveSchema)) },
      faults: [404],
      description:
        "Documented from microversion 1.3; answered at any. 400 for a notification that is not COMPUTE_HOST.",
    },
    handler: async (c, { params, query }) => {
      const page = pageRequest(query, c.get("config").maxLimit);
      const notificationUuid = await hostNotification(c.get("db"), params.notification_id);
      const filters = { status: query.get("status"), type: query.get("type") };
      const rows = pageRows(await listVmoves(c.get("db"), notificationUuid, filters, page));
      return reply(c, 200, { vmoves: rows.map(vmoveView) });
    },
  }),

  route({
    method: "GET",
    path: `${VMOVES}/:id`,
    policy: policies.vmoves.detail,
    docs: {
      summary: "Show a VM move",
      tag: TAG,
      ok: { status: 200, schema: wrapped("vmove", vmoveSchema) },
      faults: [404],
      description: "Documented from microversion 1.3; answered at any.",
    },
    handler: async (c, { params: { notification_id, id } }) => {
      await hostNotification(c.get("db"), notification_id);
      const row = isUuidLike(id) ? await findVmove(c.get("db"), id) : undefined;
      if (!row) throw notFound(messages.vmoveNotFound(id));
      return reply(c, 200, { vmove: vmoveView(row) });
    },
  }),
];
