import type * as z from "zod";

// Each validation primitive (./primitives.ts, ./objects.ts) carries the JSON
// Schema keywords of upstream's own schema for it
// (masakari/api/validation/parameter_types.py), so the API's OpenAPI
// document is generated from the very schemas that validate requests.

/** A JSON Schema (draft 2020-12, as OpenAPI 3.1 uses it). */
export type JsonSchema = { [keyword: string]: unknown };

const jsonSchemas = new WeakMap<z.ZodType, JsonSchema>();

/** `schema`, carrying `json` as its JSON Schema. */
export function documented<T extends z.ZodType>(schema: T, json: JsonSchema): T {
  jsonSchemas.set(schema, json);
  return schema;
}

/** The JSON Schema a validation schema carries. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const json = jsonSchemas.get(schema);
  if (!json) throw new Error("a validation schema without its JSON Schema");
  return json;
}

const componentNames = new WeakMap<object, string>();

/**
 * Names a JSON Schema: the OpenAPI document defines it once under
 * components/schemas and refers to it everywhere it appears.
 */
export function named<T extends JsonSchema>(name: string, json: T): T {
  componentNames.set(json, name);
  return json;
}

/** The component name of a JSON Schema, if it has one. */
export const componentName = (json: object): string | undefined => componentNames.get(json);

/** A validation schema whose JSON Schema is a named component (see named()). */
export function component<T extends z.ZodType>(name: string, schema: T): T {
  named(name, jsonSchemaOf(schema));
  return schema;
}
