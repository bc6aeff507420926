import { formatApi } from "../../datetime";
import type { HostRow, SegmentRow } from "../../db/schema";
import { named } from "../../validation/json-schema";
import { boolean, integer, nullable, object, string, timestamp, uuid } from "../../validation/shapes";
import { segmentSchema, segmentView } from "../segments/view";

/**
 * A host as the API shows it (docs/upstream.md, "Hosts"): `failover_segment_id`
 * is the segment's uuid and `failover_segment` the segment as it is now.
 */
export function hostView(host: HostRow, segment: SegmentRow) {
  return {
    id: host.id,
    uuid: host.uuid,
    name: host.name,
    failover_segment_id: segment.uuid,
    failover_segment: segmentView(segment),
    type: host.type,
    reserved: host.reserved ?? false,
    control_attributes: host.control_attributes,
    on_maintenance: host.on_maintenance ?? false,
    created_at: formatApi(host.created_at),
    updated_at: formatApi(host.updated_at),
    deleted_at: formatApi(host.deleted_at),
    deleted: host.deleted !== 0,
  };
}

/** A host in a response, with its segment. */
export const hostSchema = named(
  "Host",
  object({
    id: integer,
    uuid,
    name: string(),
    failover_segment_id: uuid,
    failover_segment: segmentSchema,
    type: string(),
    reserved: boolean,
    control_attributes: string(),
    on_maintenance: boolean,
    created_at: nullable(timestamp),
    updated_at: nullable(timestamp),
    deleted_at: nullable(timestamp),
    deleted: boolean,
  }),
);
