import { Hono } from "hono";
import { parseIsoTime } from "../../datetime";
import { authorize } from "../../http/auth";
import type { AppEnv } from "../../http/context";
import { badRequest, conflict, messages, notFound } from "../../http/faults";
import { atLeast } from "../../http/microversion";
import { lastParam, pageRequest } from "../../http/paging";
import { policies } from "../../http/policy";
import { notAllowed, prepare } from "../../http/request";
import { reply } from "../../http/responses";
import { bodyValidator, isUuidLike, validate } from "../../http/validation";
import { createSchema, type NotificationType, payloadSchemas } from "./schemas";
import { createNotification, findNotification, listNotifications, type NotificationFilters } from "./store";
import { notificationView } from "./view";

export const notifications = new Hono<AppEnv>();

notifications.get("/notifications/new", notAllowed("new"));
notifications.get("/notifications/:id/edit", notAllowed("edit"));
notifications.post("/notifications/:id/action", notAllowed("action"));
// Notifications are never changed or removed through the API (spec §6.4).
notifications.put("/notifications/:id", notAllowed("update"));
notifications.delete("/notifications/:id", notAllowed("delete"));

notifications.get("/notifications", prepare, authorize(policies.notifications.index), async (c) => {
  const query = new URL(c.req.url).searchParams;
  const page = pageRequest(query, c.get("config").maxLimit);
  const filters: NotificationFilters = {};
  for (const key of ["status", "source_host_uuid", "type"] as const) {
    const value = lastParam(query, key);
    if (value !== undefined) filters[key] = value;
  }
  // Note the hyphen: upstream's parameter is generated-since.
  const since = lastParam(query, "generated-since");
  if (since !== undefined) {
    filters.generatedSince = parseIsoTime(since);
    if (!filters.generatedSince) throw badRequest(messages.invalidGeneratedSince);
  }
  const rows = await listNotifications(c.get("db"), filters, page);
  return reply(c, 200, { notifications: rows.map((row) => notificationView(row)) });
});

notifications.post(
  "/notifications",
  prepare,
  bodyValidator(createSchema),
  authorize(policies.notifications.create),
  async (c) => {
    const { notification } = c.req.valid("json");
    // The payload's schema depends on the type; upstream checks it after
    // policy, and reports its errors relative to the payload.
    validate(payloadSchemas[notification.type as NotificationType], notification.payload);
    const generatedTime = parseIsoTime(notification.generated_time);
    if (!generatedTime) throw new Error("generated_time passed validation but does not parse");
    const result = await createNotification(
      c.get("db"),
      { type: notification.type, hostname: notification.hostname, generatedTime, payload: notification.payload },
      c.get("config").duplicateNotificationInterval,
    );
    if (result === "host-not-found") throw badRequest(messages.notificationHostNotFound(notification.hostname));
    if (result === "host-on-maintenance") {
      throw conflict(messages.notificationHostOnMaintenance(notification.hostname, notification.type));
    }
    if (result === "duplicate")
      throw conflict(messages.notificationDuplicate(notification.hostname, notification.type));
    return reply(c, 202, { notification: notificationView(result) });
  },
);

notifications.get("/notifications/:id", prepare, authorize(policies.notifications.detail), async (c) => {
  const id = c.req.param("id");
  const row = isUuidLike(id) ? await findNotification(c.get("db"), id) : undefined;
  if (!row) throw notFound(messages.notificationNotFound(id));
  const workflowDetails = atLeast(c.get("apiVersion"), 1, 1);
  return reply(c, 200, { notification: notificationView(row, { workflowDetails }) });
});
