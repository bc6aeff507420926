import { getTableColumns } from "drizzle-orm";
import { parseIsoTime, type UtcDateTime } from "../../datetime";
import { notifications } from "../../db/schema";
import { engineNova, engineWorkflows } from "../../engine/bindings";
import { startRun } from "../../engine/instances";
import { ACTIONABLE, act } from "../../engine/steering";
import { authorize, credentials, ownTarget } from "../../http/auth";
import { badRequest, conflict, messages, notFound, orFault } from "../../http/faults";
import { atLeast } from "../../http/microversion";
import { listQuery, pageRequest, pageRows } from "../../http/paging";
import { last, type QueryParam, text } from "../../http/query";
import { afterResponse, reply } from "../../http/responses";
import { type Route, refused, route } from "../../http/route";
import { validate } from "../../http/validation";
import { policies } from "../../policy";
import { isUuidLike } from "../../validation/formats";
import { arrayOf, wrapped } from "../../validation/shapes";
import { outboxOf, publish } from "../../webhooks/outbox";
import { recoveryWorkflowDetails } from "./details";
import { EVENTS_INTERVAL_MS, EVENTS_MAX_TICKS, eventStream, NotificationWatch } from "./events";
import { ACTIONS, actionSchema, createSchema, type NotificationType, payloadSchemas } from "./schemas";
import { createNotification, findNotification, listNotifications } from "./store";
import { notificationSchema, notificationView } from "./view";

const TAG = "notifications";
const one = wrapped("notification", notificationSchema);

/** What each refusal of the notification store answers (docs/upstream.md, "Creating a notification"). */
const REFUSALS = {
  create: {
    "host-not-found": (n: { hostname: string }) => badRequest(messages.notificationHostNotFound(n.hostname)),
    "host-on-maintenance": (n: { hostname: string; type: string }) =>
      conflict(messages.notificationHostOnMaintenance(n.hostname, n.type)),
    duplicate: (n: { hostname: string; type: string }) => conflict(messages.notificationDuplicate(n.hostname, n.type)),
  },
};

/** `generated-since` (note the hyphen, as upstream): an ISO 8601 time, else 400. */
const generatedSince: QueryParam<UtcDateTime | undefined> = {
  schema: { type: "string", examples: ["2026-11-30T00:00:00Z"] },
  description: "Only notifications generated at or after this ISO 8601 time (note the hyphen, as upstream).",
  read: (values) => {
    const value = last(values);
    if (value === undefined) return undefined;
    const time = parseIsoTime(value);
    if (!time) throw badRequest(messages.invalidGeneratedSince);
    return time;
  },
};

export const notificationRoutes: Route[] = [
  refused("GET", "/notifications/new", "new"),
  refused("GET", "/notifications/:id/edit", "edit"),
  // Notifications are never changed or removed through the API
  // (docs/upstream.md, "No update or delete").
  refused("PUT", "/notifications/:id", "update"),
  refused("DELETE", "/notifications/:id", "delete"),

  route({
    method: "GET",
    path: "/notifications",
    policy: policies.notifications.index,
    query: listQuery(Object.keys(getTableColumns(notifications)), {
      status: text("Only notifications in this status.", {
        type: "string",
        enum: ["new", "running", "error", "failed", "ignored", "finished"],
      }),
      source_host_uuid: text("Only notifications from this host."),
      type: text("Only notifications of this type.", { type: "string", enum: ["COMPUTE_HOST", "VM", "PROCESS"] }),
      "generated-since": generatedSince,
    }),
    docs: {
      summary: "List notifications",
      tag: TAG,
      ok: { status: 200, schema: wrapped("notifications", arrayOf(notificationSchema)) },
    },
    handler: async (c, { query }) => {
      const page = pageRequest(query, c.get("config").maxLimit);
      const filters = {
        status: query.get("status"),
        source_host_uuid: query.get("source_host_uuid"),
        type: query.get("type"),
        generatedSince: query.get("generated-since"),
      };
      const rows = pageRows(await listNotifications(c.get("db"), filters, page));
      return reply(c, 200, { notifications: rows.map((row) => notificationView(row)) });
    },
  }),

  route({
    method: "POST",
    path: "/notifications",
    policy: policies.notifications.create,
    body: { "1.0": createSchema },
    docs: {
      summary: "Report a failure: create a notification",
      tag: TAG,
      ok: { status: 202, schema: one },
      faults: [409],
      description:
        "The payload's schema depends on the type (NotificationPayload_*). 400 for a host Masakari does not know; 409 for a host on maintenance or a duplicate. The recovery engine then processes it (D13).",
    },
    handler: async (c, { body: { notification } }) => {
      // The payload's schema depends on the type; upstream checks it after
      // policy, and reports its errors relative to the payload.
      validate(payloadSchemas[notification.type as NotificationType], notification.payload);
      const generatedTime = parseIsoTime(notification.generated_time);
      if (!generatedTime) throw new Error("generated_time passed validation but does not parse");
      const { type, hostname, payload } = notification;
      const result = await createNotification(
        c.get("db"),
        { type, hostname, generatedTime, payload },
        c.get("config").duplicateNotificationInterval,
      );
      const row = orFault(result, REFUSALS.create, notification);
      // Its `new` event for webhooks (docs/webhooks.md); the cron sends one missed.
      const outbox = outboxOf(c.get("config"), c.env);
      if (outbox) await afterResponse(c, "publishing webhook events", () => publish(c.get("db"), outbox));
      // D13: the engine's first run, as upstream's RPC cast. Starting it
      // never fails the 202: the row is stored, and a start that is lost is
      // made by the periodic task (src/engine/periodic.ts).
      const recovery = c.env.RECOVERY;
      if (recovery) {
        await afterResponse(c, "starting the recovery", () => startRun(recovery, row.notification_uuid, 1));
      }
      return reply(c, 202, { notification: notificationView(row) });
    },
  }),

  // D21: operator actions. Upstream answers this route 405.
  route({
    method: "POST",
    path: "/notifications/:id/action",
    policy: policies.actions.action,
    body: { "1.0": actionSchema },
    docs: {
      summary: "Act on a notification: retry, abort, ignore or release (os-notification-actions)",
      tag: TAG,
      ok: { status: 202, schema: one },
      faults: [404, 409],
      description:
        "Ours (D21). Exactly one action: `retry` (error or failed: a new run now), `abort` (new, running or error: the run stopped, failed, its servers unlocked), `ignore` (new or error: ignored, Nova untouched), `release` (a notification the storm guard holds, D22: it runs now). Each has its own policy rule (os_masakari_api:os-notification-actions:<action>) besides the route's. 409 when the status does not allow it; of two actions at once, one wins. Recorded as an OperatorAction task in recovery_workflow_details.",
    },
    handler: async (c, { params: { id }, body }) => {
      const action = ACTIONS.find((a) => Object.hasOwn(body, a)) ?? "retry";
      authorize(c, policies.actions[action]);
      const db = c.get("db");
      const row = isUuidLike(id) ? await findNotification(db, id) : undefined;
      if (!row) throw notFound(messages.notificationNotFound(id));
      const reason = action === "abort" || action === "ignore" ? (body[action]?.reason ?? null) : null;
      const context = c.get("context");
      const actor = { userId: context.userId, projectId: context.projectId, requestId: c.get("requestId"), reason };
      const config = c.get("config");
      const workflows = c.env.RECOVERY && c.env.EVACUATION ? engineWorkflows(c.env) : undefined;
      const steering = { db, workflows, nova: engineNova(config), log: c.get("log") };
      if (!(await act(steering, row.notification_uuid, action, actor))) {
        const now = (await findNotification(db, row.notification_uuid)) ?? row;
        if (action === "release" && now.status === "new") throw conflict(messages.notHeld(row.notification_uuid));
        throw conflict(messages.actionNotAllowed(row.notification_uuid, action, now.status, ACTIONABLE[action]));
      }
      // The action's event for webhooks (docs/webhooks.md).
      const outbox = outboxOf(config, c.env);
      if (outbox) await afterResponse(c, "publishing webhook events", () => publish(db, outbox));
      const after = (await findNotification(db, row.notification_uuid)) ?? row;
      const workflowDetails = atLeast(c.get("apiVersion"), 1, 1)
        ? await recoveryWorkflowDetails(db, after.notification_uuid, after.type)
        : undefined;
      return reply(c, 202, { notification: notificationView(after, { workflowDetails }) });
    },
  }),

  // Ours (os-notification-events): what the console's notification page follows.
  route({
    method: "GET",
    path: "/notifications/:id/events",
    policy: policies.events.index,
    docs: {
      summary: "Follow a notification's recovery: Server-Sent Events (os-notification-events)",
      tag: TAG,
      ok: { status: 200 },
      faults: [404],
      description: `Ours. A \`text/event-stream\`: \`event: notification\` with \`{"notification": ...}\` as the show answers it at the request's microversion (recovery_workflow_details from 1.1), first at once, then each time it changes; from 1.3, to a caller os_masakari_api:vmoves:index allows, \`event: vmoves\` with \`{"vmoves": [...]}\`, the VM moves that changed. Ends with \`event: end\` and \`{"reason": "final"}\` once the notification is finished, failed or ignored, \`"limit"\` after ${EVENTS_MAX_TICKS} ticks (reconnect), \`"gone"\` or \`"error"\`. D1 is asked once every ${EVENTS_INTERVAL_MS} ms, one statement, only while the client reads. Needs os_masakari_api:notifications:detail too.`,
    },
    handler: async (c, { params: { id } }) => {
      // It shows what the show shows, and the VM moves only to whom their list would.
      authorize(c, policies.notifications.detail);
      const context = c.get("context");
      const version = c.get("apiVersion");
      const moves =
        atLeast(version, 1, 3) &&
        c.get("config").policy.allows(policies.vmoves.index, credentials(context), ownTarget(context));
      if (!isUuidLike(id)) throw notFound(messages.notificationNotFound(id));
      const watch = new NotificationWatch(c.get("db"), id, { details: atLeast(version, 1, 1), moves });
      const first = await watch.tick();
      if (!first) throw notFound(messages.notificationNotFound(id));
      return c.body(eventStream(watch, first, c.get("log")), 200, {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache, no-transform",
        "X-Accel-Buffering": "no",
      });
    },
  }),

  route({
    method: "GET",
    path: "/notifications/:id",
    policy: policies.notifications.detail,
    docs: {
      summary: "Show a notification and, from microversion 1.1, its recovery",
      tag: TAG,
      ok: { status: 200, schema: one },
      faults: [404],
      description:
        "`recovery_workflow_details` from microversion 1.1: the tasks of each flow the engine ran, in master's shape.",
    },
    handler: async (c, { params: { id } }) => {
      const row = isUuidLike(id) ? await findNotification(c.get("db"), id) : undefined;
      if (!row) throw notFound(messages.notificationNotFound(id));
      const workflowDetails = atLeast(c.get("apiVersion"), 1, 1)
        ? await recoveryWorkflowDetails(c.get("db"), row.notification_uuid, row.type)
        : undefined;
      return reply(c, 200, { notification: notificationView(row, { workflowDetails }) });
    },
  }),
];
