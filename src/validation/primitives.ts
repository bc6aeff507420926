import * as z from "zod";
import { repr, reprString } from "../python";
import { FORMATS, type Format, type Pattern } from "./formats";
import { documented, type JsonSchema, jsonSchemaOf } from "./json-schema";
import { INVALID_NAME, type JsonType, notOfType } from "./messages";

// The strings, enums and booleans of upstream's request schemas. To give
// jsonschema's first error (./messages.ts), each runs its checks in the order
// of upstream's schema keywords and stops at the first failure.

interface StringRules {
  /** Values shown as examples in the OpenAPI document. */
  readonly examples?: readonly string[];
  readonly nullable?: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: Pattern;
  readonly format?: Format;
}

/** jsonschema counts a string's length in code points. */
const codePoints = (s: string) => [...s].length;

/** The checks of a string's keywords, in jsonschema's order. */
function stringChecks({ minLength, maxLength, pattern, format }: StringRules): z.core.$ZodCheck<string>[] {
  const checks: z.core.$ZodCheck<string>[] = [];
  if (minLength !== undefined) {
    checks.push(
      z.refine((s: string) => codePoints(s) >= minLength, {
        error: (i) => `${repr(i.input)} is too short`,
        abort: true,
      }),
    );
  }
  if (maxLength !== undefined) {
    checks.push(
      z.refine((s: string) => codePoints(s) <= maxLength, {
        error: (i) => `${repr(i.input)} is too long`,
        abort: true,
      }),
    );
  }
  if (pattern) {
    const error = (i: { input: unknown }) => `${repr(i.input)} does not match ${reprString(pattern.source)}`;
    checks.push(z.refine(pattern.test, { error, abort: true }));
  }
  if (format === "name") {
    checks.push(z.refine(FORMATS.name.test, { error: INVALID_NAME, params: { bare: true }, abort: true }));
  } else if (format) {
    const error = (i: { input: unknown }) => `${repr(i.input)} is not a '${format}'`;
    checks.push(z.refine(FORMATS[format].test, { error, abort: true }));
  }
  return checks;
}

function stringJson(rules: StringRules): JsonSchema {
  const { minLength, maxLength, pattern, format } = rules;
  const json: JsonSchema = { type: rules.nullable ? ["string", "null"] : "string" };
  if (minLength !== undefined) json.minLength = minLength;
  if (maxLength !== undefined) json.maxLength = maxLength;
  if (pattern) json.pattern = pattern.json;
  else if (format) json.pattern = FORMATS[format].json;
  // Not JSON Schema's own formats: upstream's are looser (a date-time
  // without an offset, a uuid without dashes), so they are patterns here.
  if (format) json.description = FORMATS[format].text;
  if (rules.examples) json.examples = [...rules.examples];
  return json;
}

/** A JSON Schema string: type, minLength, maxLength, pattern, format. */
export function jsonString(rules: StringRules & { nullable: true }): z.ZodNullable<z.ZodString>;
export function jsonString(rules?: StringRules & { nullable?: false }): z.ZodString;
export function jsonString(rules: StringRules = {}): z.ZodString | z.ZodNullable<z.ZodString> {
  const types: JsonType[] = rules.nullable ? ["string", "null"] : ["string"];
  const base = z.string({ error: (i) => notOfType(i.input, types) }).check(...stringChecks(rules));
  return documented(rules.nullable ? base.nullable() : base, stringJson(rules));
}

interface EnumRules {
  /** Upstream's enum as Python prints it: a list or a tuple. */
  readonly display: "list" | "tuple";
  /** Upstream lists `enum` before `type` in some schemas (payloads). */
  readonly enumFirst?: boolean;
  /** D3: recovery_method is accepted in any case and stored lower-case. */
  readonly caseInsensitive?: boolean;
}

/** A JSON Schema string enum. */
export function jsonEnum<const T extends readonly string[]>(values: T, rules: EnumRules) {
  const shown = values.map(reprString).join(", ");
  const listed = rules.display === "list" ? `[${shown}]` : `(${shown})`;
  const notOneOf = (input: unknown) => `${repr(input)} is not one of ${listed}`;
  const normal = (s: string) => (rules.caseInsensitive ? s.toLowerCase() : s);
  const member = (s: string) => (values as readonly string[]).includes(normal(s));
  const schema = z
    .unknown()
    .check(
      z.refine((v) => !rules.enumFirst || (typeof v === "string" && member(v)), {
        error: (i) => notOneOf(i.input),
        abort: true,
      }),
      z.refine((v) => typeof v === "string", { error: (i) => notOfType(i.input, ["string"]), abort: true }),
      z.refine((v) => member(v as string), { error: (i) => notOneOf(i.input), abort: true }),
    )
    .transform((v) => normal(v as string) as T[number]);
  // D3: a value in any case, as a pattern; the enum lists the canonical values.
  const anyCase = (v: string) =>
    [...v].map((c) => (c.toLowerCase() === c.toUpperCase() ? c : `[${c.toLowerCase()}${c.toUpperCase()}]`)).join("");
  return documented(
    schema,
    rules.caseInsensitive
      ? { type: "string", pattern: `^(?:${values.map(anyCase).join("|")})$`, examples: [...values] }
      : { type: "string", enum: [...values] },
  );
}

const BOOLEAN_STRINGS = {
  true: ["True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes"],
  false: ["False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"],
} as const;
const BOOLEAN_ENUM = `[True, ${BOOLEAN_STRINGS.true.map(reprString).join(", ")}, False, ${BOOLEAN_STRINGS.false.map(reprString).join(", ")}]`;

/**
 * parameter_types.boolean: JSON true/false or one of the exact strings
 * upstream lists, converted strictly (oslo's bool_from_string, strict=True).
 */
export function jsonBoolean() {
  const accepted = (v: unknown) =>
    typeof v === "boolean" ||
    (BOOLEAN_STRINGS.true as readonly unknown[]).includes(v) ||
    (BOOLEAN_STRINGS.false as readonly unknown[]).includes(v);
  const schema = z
    .unknown()
    .check(
      z.refine((v) => typeof v === "boolean" || typeof v === "string", {
        error: (i) => notOfType(i.input, ["boolean", "string"]),
        abort: true,
      }),
      z.refine(accepted, { error: (i) => `${repr(i.input)} is not one of ${BOOLEAN_ENUM}`, abort: true }),
    )
    .transform((v) => v === true || (BOOLEAN_STRINGS.true as readonly unknown[]).includes(v));
  return documented(schema, {
    type: ["boolean", "string"],
    enum: [true, ...BOOLEAN_STRINGS.true, false, ...BOOLEAN_STRINGS.false],
  });
}

/**
 * D6: upstream's schema lets null through for host `type` and
 * `control_attributes`, which the database cannot store (500). Null gets the
 * 400 a non-nullable string would give; other values keep the nullable
 * schema's wording.
 */
export function refuseNull<T extends z.ZodType>(schema: T): z.ZodType<Exclude<z.output<T>, null>, z.input<T>> {
  const refused = schema.check(z.refine((v) => v !== null, { error: "None is not of type 'string'", abort: true }));
  return documented(refused, { ...jsonSchemaOf(schema), type: "string" }) as never;
}
