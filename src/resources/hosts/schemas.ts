import { component } from "../../validation/json-schema";
import { jsonObject } from "../../validation/objects";
import { boolean, description, hostType, name } from "../../validation/parameter-types";
import { refuseNull } from "../../validation/primitives";

// masakari/api/openstack/ha/schemas/hosts.py. Booleans convert strictly on
// create and update alike (docs/upstream.md, "Hosts").

const fields = () => ({
  name: name(),
  type: refuseNull(hostType()),
  control_attributes: refuseNull(description()),
  reserved: boolean(),
  on_maintenance: boolean(),
});

const wrap = <S extends ReturnType<typeof jsonObject>>(host: S) =>
  jsonObject({ host }, { required: ["host"], order: ["required", "additionalProperties"] });

export const hostSchemas = {
  create: component(
    "HostCreate",
    wrap(
      jsonObject(fields(), {
        required: ["name", "type", "control_attributes"],
        order: ["additionalProperties", "required"],
      }),
    ),
  ),
  update: component(
    "HostUpdate",
    wrap(jsonObject(fields(), { anyOf: Object.keys(fields()), order: ["additionalProperties", "anyOf"] })),
  ),
};

export interface HostFields {
  name?: string;
  type?: string;
  control_attributes?: string;
  reserved?: boolean;
  on_maintenance?: boolean;
}
