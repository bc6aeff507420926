import { named } from "../../validation/json-schema";
import { arrayOf, boolean, integer, nullable, object, string, uuid, wrapped } from "../../validation/shapes";

// D23: the recovery plans as the API shows them, under `recovery_plan`.

const method = string({ enum: ["auto", "reserved_host", "auto_priority", "rh_priority"] });

/** A host's plan, with the host and segment it is for and when Nova was read. */
export function hostPlanView<P extends object>(
  plan: P,
  ids: { segment: string; host: string; name: string },
  at: string,
) {
  return {
    recovery_plan: { segment_id: ids.segment, host_id: ids.host, host_name: ids.name, generated_at: at, ...plan },
  };
}

export function segmentPlanView<P extends object>(plan: P, segment: string, at: string) {
  return { recovery_plan: { segment_id: segment, generated_at: at, ...plan } };
}

const size = object({ vcpus: integer, ram: integer, disk: integer });

export const hostPlanSchema = wrapped(
  "recovery_plan",
  named(
    "HostRecoveryPlan",
    object({
      segment_id: uuid,
      host_id: uuid,
      host_name: string(),
      generated_at: string({ description: "When Nova was read, ISO 8601 UTC" }),
      recovery_method: method,
      flows: arrayOf(
        object({
          recovery_method: string({ enum: ["auto", "reserved_host"] }),
          reserved_hosts: nullable(arrayOf(string())),
          placements: arrayOf(object({ instance_id: string(), destination: string() })),
          unavailable: nullable(string()),
        }),
      ),
      instances: arrayOf(
        object({
          id: string(),
          name: string(),
          vm_state: nullable(string()),
          ha_enabled: boolean,
          priority: nullable(integer),
          flavor: size,
        }),
      ),
      skipped: arrayOf(object({ id: string(), name: string(), reason: string() })),
      destinations: arrayOf(
        object({
          host: string(),
          reserved: boolean,
          usable: boolean,
          reason: nullable(string()),
          vcpus_free: integer,
          memory_mb_free: integer,
          disk_gb_free: integer,
        }),
      ),
      would_not_fit: arrayOf(string()),
      fits: boolean,
    }),
  ),
);

export const segmentPlanSchema = wrapped(
  "recovery_plan",
  named(
    "SegmentRecoveryPlan",
    object({
      segment_id: uuid,
      generated_at: string({ description: "When Nova was read, ISO 8601 UTC" }),
      recovery_method: method,
      hosts: arrayOf(
        object({
          host_id: uuid,
          host_name: string(),
          reserved: boolean,
          on_maintenance: boolean,
          instances: integer,
          would_not_fit: integer,
          fits: boolean,
        }),
      ),
      absorbable: integer,
      first_not_absorbed: nullable(object({ host_id: uuid, host_name: string() })),
    }),
  ),
);
