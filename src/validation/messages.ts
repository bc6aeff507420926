import type * as z from "zod";
import { repr, str } from "../python";

// Upstream validates with JSON Schema (Draft 4) and answers 400 with the
// *first* error jsonschema finds, worded by jsonschema and wrapped as "Invalid
// input for field/attribute <field>. Value: <value>. <message>"
// (docs/upstream.md, "Validation messages"). The primitives give jsonschema's
// wording; this module wraps the first one.

export type JsonType = "string" | "null" | "boolean" | "object" | "array" | "number";

/** jsonschema's message for a value of the wrong type. */
export const notOfType = (input: unknown, types: readonly JsonType[]) =>
  `${repr(input)} is not of type ${types.map((t) => `'${t}'`).join(", ")}`;

/** Masakari prints this message bare, without the field wrapper (docs/upstream.md, "Name and description formats"). */
export const INVALID_NAME =
  "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.";

/** Walks a decoded JSON body along an issue path. */
function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** The 400 message upstream gives for a validation issue. */
function describe(issue: z.core.$ZodIssue, body: unknown): string {
  if (issue.code === "custom" && issue.params?.bare) return issue.message;
  const field = issue.path.at(-1);
  if (field === undefined) return issue.message;
  return `Invalid input for field/attribute ${String(field)}. Value: ${str(valueAt(body, issue.path))}. ${issue.message}`;
}

/** The 400 message of the first error of a failed validation of `body`. */
export function firstError(error: { issues: readonly z.core.$ZodIssue[] }, body: unknown): string {
  const first = error.issues[0];
  return first ? describe(first, body) : "Invalid input";
}

/** Validates a decoded value: its output, or upstream's message for its first error. */
export function check<T extends z.ZodType>(
  schema: T,
  value: unknown,
): { ok: true; value: z.output<T> } | { ok: false; message: string } {
  const result = schema.safeParse(value, { reportInput: true });
  return result.success ? { ok: true, value: result.data } : { ok: false, message: firstError(result.error, value) };
}
