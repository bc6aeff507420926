import * as z from "zod";
import { repr, reprString } from "../../python";
import { pattern } from "../../validation/formats";
import { component, documented, jsonSchemaOf } from "../../validation/json-schema";
import { notOfType } from "../../validation/messages";
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

// D21: an operator action, exactly one of retry, abort, ignore or release.
// Ours, in the manner of upstream's action bodies (Nova's server actions):
// `{"<action>": <argument>}`.

/** JSON null, as jsonschema's `{"type": "null"}`. */
const jsonNull = () =>
  documented(
    z.custom<null>((v) => v === null, { error: (i) => notOfType(i.input, ["null"]) }),
    { type: "null" },
  );

const withReason = () =>
  jsonObject(
    { reason: jsonString({ minLength: 1, maxLength: 255, examples: ["the host came back: a cabling fault"] }) },
    { required: ["reason"], order: ["required", "additionalProperties"] },
  );

export const ACTIONS = ["retry", "abort", "ignore", "release"] as const;

const oneAction = jsonObject(
  { retry: jsonNull(), abort: withReason(), ignore: withReason(), release: jsonNull() },
  { anyOf: [...ACTIONS], order: ["anyOf", "additionalProperties"] },
);

export const actionSchema = component(
  "NotificationAction",
  documented(
    oneAction.superRefine((body, ctx) => {
      const given = ACTIONS.filter((a) => Object.hasOwn(body, a));
      if (given.length > 1) {
        // jsonschema's words for a oneOf that more than one branch matches.
        const branches = given.map((a) => `{'required': [${reprString(a)}]}`).join(", ");
        ctx.addIssue({ code: "custom", input: body, message: `${repr(body)} is valid under each of ${branches}` });
      }
    }),
    {
      ...jsonSchemaOf(oneAction),
      anyOf: undefined,
      oneOf: ACTIONS.map((a) => ({ required: [a] })),
      examples: [{ retry: null }, { abort: { reason: "stuck for an hour" } }, { release: null }],
    },
  ),
);
