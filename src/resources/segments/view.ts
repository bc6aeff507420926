import { formatApi } from "../../datetime";
import type { SegmentRow } from "../../db/schema";

/** A segment as the API shows it, keys in upstream's order (spec §3.1). */
export function segmentView(row: SegmentRow) {
  return {
    id: row.id,
    uuid: row.uuid,
    name: row.name,
    service_type: row.service_type,
    enabled: row.enabled ?? true,
    description: row.description,
    recovery_method: row.recovery_method,
    created_at: formatApi(row.created_at),
    updated_at: formatApi(row.updated_at),
    deleted_at: formatApi(row.deleted_at),
    deleted: row.deleted !== 0,
  };
}
