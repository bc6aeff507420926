import { formatApi } from "../../datetime";
import type { SegmentRow } from "../../db/schema";
import { named } from "../../validation/json-schema";
import { boolean, integer, nullable, object, string, timestamp, uuid } from "../../validation/shapes";

/** A segment as the API shows it, keys in upstream's order (docs/upstream.md, "Resource fields and timestamps"). */
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

/** A segment in a response (microversions 1.0-1.3 alike). */
export const segmentSchema = named(
  "Segment",
  object({
    id: integer,
    uuid,
    name: string(),
    service_type: string(),
    enabled: boolean,
    description: nullable(string()),
    recovery_method: string({ enum: ["auto", "reserved_host", "auto_priority", "rh_priority"] }),
    created_at: nullable(timestamp),
    updated_at: nullable(timestamp),
    deleted_at: nullable(timestamp),
    deleted: boolean,
  }),
);
