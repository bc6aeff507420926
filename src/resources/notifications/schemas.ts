import type * as z from "zod";
import { pattern } from "../../validation/formats";
import { component } from "../../validation/json-schema";
import { jsonObject } from "../../validation/objects";
import { hostname } from "../../validation/parameter-types";
import { jsonEnum, jsonString } from "../../validation/primitives";

// masakari/api/openstack/ha/schemas/notifications.py and payload.py.

const NOTIFICATION_TYPES = ["COMPUTE_HOST", "VM", "PROCESS"] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

const EVENTS = ["STARTED", "STOPPED"] as const;

/** parameter_types.payload: string keys of a fixed alphabet, string values. */
const payload = () =>
  jsonObject(
    {},
    {
      patternProperties: {
        pattern: pattern("^[a-zA-Z0-9-_:. ]{1,255}$", /^[a-zA-Z0-9\-_:. ]{1,255}$/),
        value: jsonString({ maxLength: 255 }),
      },
      order: ["additionalProperties"],
    },
  ) as z.ZodType<Record<string, string>>;

const notification = jsonObject(
  {
    type: jsonEnum(NOTIFICATION_TYPES, { display: "tuple" }),
    hostname: hostname(),
    generated_time: jsonString({ format: "date-time", examples: ["2026-11-30T02:18:32"] }),
    payload: payload(),
  },
  { required: ["type", "hostname", "generated_time", "payload"], order: ["required", "additionalProperties"] },
);

export const createSchema = component(
  "NotificationCreate",
  jsonObject({ notification }, { required: ["notification"], order: ["required", "additionalProperties"] }),
);

// The payload schemas by type. Upstream lists `enum` before `type` in them,
// so a non-string event is reported as "not one of" (docs/upstream.md,
// "Notification bodies").
const event = () => jsonEnum(EVENTS, { display: "tuple", enumFirst: true });

export const payloadSchemas: Record<NotificationType, z.ZodType> = {
  COMPUTE_HOST: jsonObject(
    {
      host_status: jsonEnum(["NORMAL", "UNKNOWN"], { display: "tuple", enumFirst: true }),
      cluster_status: jsonEnum(["ONLINE", "OFFLINE"], { display: "tuple", enumFirst: true }),
      event: event(),
    },
    { required: ["event"], order: ["required", "additionalProperties"] },
  ),
  PROCESS: jsonObject(
    { process_name: jsonString({ minLength: 1, maxLength: 4096, examples: ["nova-compute"] }), event: event() },
    { required: ["process_name", "event"], order: ["required", "additionalProperties"] },
  ),
  VM: jsonObject(
    {
      instance_uuid: jsonString({ format: "uuid", examples: ["01b49c54-b03d-4999-ad94-b4155528485b"] }),
      vir_domain_event: jsonString({ minLength: 1, maxLength: 255, examples: ["STOPPED_FAILED"] }),
      event: jsonString({ minLength: 1, maxLength: 255, examples: ["LIFECYCLE"] }),
    },
    { required: ["instance_uuid", "vir_domain_event", "event"], order: ["required", "additionalProperties"] },
  ),
};
