import type * as z from "zod";
import { check } from "../validation/messages";
import { Fault } from "./faults";

/**
 * A decoded value checked by `schema`; upstream's 400 for its first error
 * (docs/upstream.md, "Validation messages").
 */
export function validate<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = check(schema, value);
  if (result.ok) return result.value;
  throw new Fault(400, result.message);
}
