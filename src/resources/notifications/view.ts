import { formatApi } from "../../datetime";
import type { NotificationRow } from "../../db/schema";
import { named } from "../../validation/json-schema";
import { arrayOf, boolean, integer, nullable, number, object, string, timestamp, uuid } from "../../validation/shapes";
import type { TaskDetails } from "./details";

/** The stored payload: JSON text, as upstream stores it. */
function payloadOf(row: NotificationRow): unknown {
  if (row.payload === null) return null;
  try {
    return JSON.parse(row.payload);
  } catch {
    return row.payload;
  }
}

/**
 * A notification as the API shows it, keys in upstream master's order
 * (docs/upstream.md, "Resource fields and timestamps").
 * `recovery_workflow_details` is shown by GET-by-id from 1.1 (./details.ts).
 */
export function notificationView(row: NotificationRow, options: { workflowDetails?: TaskDetails[] } = {}) {
  return {
    id: row.id,
    notification_uuid: row.notification_uuid,
    generated_time: formatApi(row.generated_time),
    source_host_uuid: row.source_host_uuid,
    type: row.type,
    payload: payloadOf(row),
    status: row.status,
    ...(options.workflowDetails ? { recovery_workflow_details: options.workflowDetails } : {}),
    failover_segment_uuid: row.failover_segment_uuid,
    message: row.message,
    created_at: formatApi(row.created_at),
    updated_at: formatApi(row.updated_at),
    deleted_at: formatApi(row.deleted_at),
    deleted: row.deleted !== 0,
  };
}

/** One task of recovery_workflow_details (docs/upstream.md, "Recovery workflow details"). */
const taskDetailsSchema = named(
  "RecoveryTaskDetails",
  object({
    name: string({ examples: ["DisableComputeServiceTask"] }),
    progress: number,
    progress_details: arrayOf(
      object({
        timestamp: string({ description: "Python str(datetime), UTC", examples: ["2026-11-30 02:18:32.934646"] }),
        progress: string({ examples: ["0.0", "1.0"] }),
        message: string(),
      }),
    ),
    state: string({ examples: ["SUCCESS", "REVERTED"] }),
  }),
);

/** A notification in a response; recovery_workflow_details only in a show at microversion 1.1 or later. */
export const notificationSchema = named(
  "Notification",
  object(
    {
      id: integer,
      notification_uuid: uuid,
      generated_time: timestamp,
      source_host_uuid: uuid,
      type: string({ enum: ["COMPUTE_HOST", "VM", "PROCESS"] }),
      payload: { description: "The payload as posted: an object of strings" },
      status: string({ enum: ["new", "running", "error", "failed", "ignored", "finished"] }),
      recovery_workflow_details: {
        ...arrayOf(taskDetailsSchema),
        description: "Microversion 1.1 and later, show only",
      },
      failover_segment_uuid: nullable(uuid),
      message: nullable(string()),
      created_at: nullable(timestamp),
      updated_at: nullable(timestamp),
      deleted_at: nullable(timestamp),
      deleted: boolean,
    },
    ["recovery_workflow_details"],
  ),
);
