import type { JsonSchema } from "./json-schema";

// Builders of the JSON Schemas of responses, declared once beside each view
// (src/resources/*/view.ts) and published in the OpenAPI document. Objects
// admit no other property: a field the document does not name is a bug.

export const string = (extra: JsonSchema = {}): JsonSchema => ({ type: "string", ...extra });
export const integer: JsonSchema = { type: "integer" };
export const boolean: JsonSchema = { type: "boolean" };
export const number: JsonSchema = { type: "number" };
/** A uuid as stored: rows moved from Masakari keep theirs, so no format is promised. */
export const uuid: JsonSchema = string({ description: "A UUID", examples: ["ef0ab0b6-2b1f-4d7e-9b8e-1c7c6f6c2a10"] });

/** `schema` or null. */
export function nullable(schema: JsonSchema): JsonSchema {
  const type = schema.type;
  if (typeof type === "string") return { ...schema, type: [type, "null"] };
  return { anyOf: [schema, { type: "null" }] };
}

/** A datetime as the API writes it: `2026-11-30T02:18:32.000000`, naive UTC. */
export const timestamp: JsonSchema = string({
  pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}$",
  examples: ["2026-11-30T02:18:32.000000"],
});

/** An object with exactly these properties, all of them present unless named in `optional`. */
export function object(properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema {
  return {
    type: "object",
    properties,
    required: Object.keys(properties).filter((key) => !optional.includes(key)),
    additionalProperties: false,
  };
}

export const arrayOf = (items: JsonSchema): JsonSchema => ({ type: "array", items });

/** A body of one key: `{"segment": {...}}`. */
export const wrapped = (key: string, schema: JsonSchema): JsonSchema => object({ [key]: schema });
