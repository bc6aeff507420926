import { formatApi } from "../../datetime";
import type { VmoveRow } from "../../db/schema";

/** A VM move as the API shows it, keys in upstream's order (spec §7). */
export function vmoveView(row: VmoveRow) {
  return {
    id: row.id,
    uuid: row.uuid,
    notification_uuid: row.notification_uuid,
    instance_uuid: row.instance_uuid,
    instance_name: row.instance_name,
    source_host: row.source_host,
    dest_host: row.dest_host,
    start_time: formatApi(row.start_time),
    end_time: formatApi(row.end_time),
    type: row.type,
    status: row.status,
    message: row.message,
    created_at: formatApi(row.created_at),
    updated_at: formatApi(row.updated_at),
    deleted_at: formatApi(row.deleted_at),
    deleted: row.deleted !== 0,
  };
}
