import type * as z from "zod";
import { RECOVERY_METHODS } from "../../db/schema";
import { component } from "../../validation/json-schema";
import { jsonObject } from "../../validation/objects";
import { boolean, description, name } from "../../validation/parameter-types";
import { jsonEnum } from "../../validation/primitives";

// masakari/api/openstack/ha/schemas/segments.py. `enabled` is accepted in
// bodies from microversion 1.2 (docs/upstream.md, "Microversions"); before
// that it is an unexpected property.

// D3: any case in, lower case stored and returned.
const recoveryMethod = () => jsonEnum(RECOVERY_METHODS, { display: "list", caseInsensitive: true });

const fields = () => ({
  name: name(),
  description: description(),
  recovery_method: recoveryMethod(),
  service_type: name(),
});
const fieldsV12 = () => ({ ...fields(), enabled: boolean() });

const wrap = <S extends z.ZodType>(segment: S) =>
  jsonObject({ segment }, { required: ["segment"], order: ["required", "additionalProperties"] });

const create = <S extends ReturnType<typeof fields>>(shape: S) =>
  wrap(
    jsonObject(shape, {
      required: ["name", "recovery_method", "service_type"],
      order: ["additionalProperties", "required"],
    }),
  );

const update = <S extends ReturnType<typeof fields>>(shape: S) =>
  wrap(jsonObject(shape, { anyOf: Object.keys(shape), order: ["additionalProperties", "anyOf"] }));

export const segmentSchemas = {
  create: component("SegmentCreate_1.0", create(fields())),
  createV12: component("SegmentCreate_1.2", create(fieldsV12())),
  update: component("SegmentUpdate_1.0", update(fields())),
  updateV12: component("SegmentUpdate_1.2", update(fieldsV12())),
};

export interface SegmentFields {
  name?: string;
  description?: string | null;
  recovery_method?: (typeof RECOVERY_METHODS)[number];
  service_type?: string;
  enabled?: boolean;
}
