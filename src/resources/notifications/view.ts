import { formatApi } from "../../datetime";
import type { NotificationRow } from "../../db/schema";
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
 * (spec §3.1). `recovery_workflow_details` is shown by GET-by-id from 1.1
 * (./details.ts).
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
