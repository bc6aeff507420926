import { formatApi } from "../../datetime";
import type { VmoveRow } from "../../db/schema";
import { named } from "../../validation/json-schema";
import { boolean, integer, nullable, object, string, timestamp, uuid } from "../../validation/shapes";

/** A VM move as the API shows it, keys in upstream's order (docs/upstream.md, "VM moves"). */
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

/** A VM move in a response (microversion 1.3). */
export const vmoveSchema = named(
  "Vmove",
  object({
    id: integer,
    uuid,
    notification_uuid: uuid,
    instance_uuid: uuid,
    instance_name: string(),
    source_host: nullable(string()),
    dest_host: nullable(string()),
    start_time: nullable(timestamp),
    end_time: nullable(timestamp),
    type: nullable(string({ examples: ["evacuation"] })),
    status: nullable(string({ examples: ["pending", "ongoing", "succeeded", "failed", "ignored"] })),
    message: nullable(string()),
    created_at: nullable(timestamp),
    updated_at: nullable(timestamp),
    deleted_at: nullable(timestamp),
    deleted: boolean,
  }),
);
