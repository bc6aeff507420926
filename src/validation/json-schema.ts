import * as z from "zod";
import { parseIsoTime } from "../datetime";
import { repr, reprString, str } from "../python";

// Request bodies are validated by zod schemas built from the primitives below.
// Upstream validates with JSON Schema (Draft 4) and answers 400 with the
// *first* error jsonschema finds, worded by jsonschema and wrapped as "Invalid
// input for field/attribute <field>. Value: <value>. <message>"
// (docs/upstream.md, "Validation messages"). To give the same first error,
// every primitive runs its checks in the order of upstream's schema keywords
// and stops at the first failure, and objects check their keywords in their
// schema's order (jsonObject).

type JsonType = "string" | "null" | "boolean" | "object" | "array" | "number";

/** A JSON Schema (draft 2020-12, as OpenAPI 3.1 uses it). */
export type JsonSchema = { [keyword: string]: unknown };

// Each primitive carries the JSON Schema keywords of upstream's own schema
// for it (masakari/api/validation/parameter_types.py), so the API's OpenAPI
// document is generated from the very schemas that validate requests.
// Upstream's Python regexes are written here as ECMA-262 patterns with the
// `u` flag (Unicode property classes), with Python's re.search `$` (which
// also matches before one final newline) spelled out as `\n?$`.
const jsonSchemas = new WeakMap<z.ZodType, JsonSchema>();

function documented<T extends z.ZodType>(schema: T, json: JsonSchema): T {
  jsonSchemas.set(schema, json);
  return schema;
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

/** The JSON Schema a validation schema carries. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const json = jsonSchemas.get(schema);
  if (!json) throw new Error("a validation schema without its JSON Schema");
  return json;
}

/** Python's `$` at the end of an anchored pattern: also before one final newline. */
const pythonEnd = (source: string) => (source.endsWith("$") ? `${source.slice(0, -1)}\\n?$` : source);

/** A character Masakari counts as printable (below), as a pattern class. */
export const PRINTABLE = "[^\\p{C}\\p{Zl}\\p{Zp}\\u{10000}-\\u{10FFFF}]";
/** Printable and not a space: the first and last character of a name. */
const PRINTABLE_NOT_SPACE = "[^\\p{C}\\p{Z}\\u{10000}-\\u{10FFFF}]";

const notOfType = (input: unknown, types: readonly JsonType[]) =>
  `${repr(input)} is not of type ${types.map((t) => `'${t}'`).join(", ")}`;

/** Masakari prints this message bare, without the field wrapper (docs/upstream.md, "Name and description formats"). */
const INVALID_NAME =
  "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.";

const codePoints = (s: string) => [...s].length;

// Python's `$` also matches just before a final newline, and upstream's
// patterns are applied with re.search: a value ending in one "\n" passes a
// pattern its other characters pass (docs/upstream.md,
// "Name and description formats").
const withoutFinalNewline = (s: string) => (s.endsWith("\n") ? s.slice(0, -1) : s);

// Masakari's "printable" (parameter_types._is_printable): any BMP character
// but controls, format, surrogates, private use, unassigned and line or
// paragraph separators. Spaces (Zs) are printable; astral characters are not.
const NOT_PRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/u;
export const isPrintable = (ch: string) => (ch.codePointAt(0) ?? 0) <= 0xfffe && !NOT_PRINTABLE.test(ch);
const isSpace = (ch: string) => /\p{Zs}/u.test(ch);

/** The "name" format: printable, not starting or ending with a space. */
export function isValidName(value: string): boolean {
  const chars = [...withoutFinalNewline(value)];
  const first = chars[0];
  const last = chars[chars.length - 1];
  if (first === undefined || last === undefined) return false;
  return chars.every(isPrintable) && !isSpace(first) && !isSpace(last);
}

/** oslo_utils.uuidutils.is_uuid_like. */
export function isUuidLike(value: string): boolean {
  const hex = value
    .replaceAll("urn:", "")
    .replaceAll("uuid:", "")
    .replace(/^[{}]+|[{}]+$/g, "")
    .replaceAll("-", "")
    .toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex);
}

export interface Pattern {
  /** Upstream's regular expression, as its messages quote it. */
  readonly source: string;
  readonly test: (value: string) => boolean;
  /** The same, as a JSON Schema (ECMA-262, `u` flag) pattern. */
  readonly json: string;
}

/** A regex pattern with Python's re.search semantics (see above). */
export function pattern(source: string, jsRegex: RegExp): Pattern {
  return { source, test: (v) => jsRegex.test(withoutFinalNewline(v)), json: pythonEnd(jsRegex.source) };
}

const FORMAT_TEXT: Record<Format, string> = {
  name: "Upstream's 'name' format: printable characters, not starting or ending with whitespace.",
  "date-time": "An ISO 8601 time as Python's iso8601 parses it (no offset is UTC).",
  uuid: "A UUID as oslo's is_uuid_like reads it (dashes, braces and a urn:uuid: prefix allowed).",
};

/** The JSON Schema patterns of the formats (their checks are functions here). */
const FORMAT_PATTERNS: Record<Format, string> = {
  // Printable, not starting or ending with a space, one final newline allowed.
  name: `^${PRINTABLE_NOT_SPACE}(?:${PRINTABLE}*${PRINTABLE_NOT_SPACE})?\\n?$`,
  // The grammar of Python's iso8601 (src/datetime.ts); the ranges of each
  // field are checked too, the calendar (a 30 February) is not.
  "date-time":
    "^[0-9]{4}(?:(?:-(?:0?[1-9]|1[0-2])|(?:0[1-9]|1[0-2])(?!$|\\n$))(?:(?:-(?:0?[1-9]|[12][0-9]|3[01])|(?:0[1-9]|[12][0-9]|3[01]))(?:[ T](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?(?::?(?:[0-5]?[0-9])(?:[.,][0-9]+)?)?(?:Z|[-+](?:[01][0-9]|2[0-3]):?(?:[0-5][0-9])?)?)?)?)?\\n?$",
  // oslo's is_uuid_like: 32 hex digits once "urn:", "uuid:", braces and dashes are dropped.
  uuid: "^(?:urn:|uuid:)*[{}]*(?:-*[0-9a-fA-F]){32}-*[{}]*$",
};

type Format = "name" | "date-time" | "uuid";

const FORMATS: Record<Format, (s: string) => boolean> = {
  name: isValidName,
  "date-time": (s) => parseIsoTime(s) !== undefined,
  uuid: isUuidLike,
};

interface StringRules {
  /** Values shown as examples in the OpenAPI document. */
  readonly examples?: readonly string[];
  readonly nullable?: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: Pattern;
  readonly format?: Format;
}

/** A JSON Schema string: type, minLength, maxLength, pattern, format. */
export function jsonString(rules: StringRules & { nullable: true }): z.ZodNullable<z.ZodString>;
export function jsonString(rules?: StringRules & { nullable?: false }): z.ZodString;
export function jsonString(rules: StringRules = {}): z.ZodString | z.ZodNullable<z.ZodString> {
  const types: JsonType[] = rules.nullable ? ["string", "null"] : ["string"];
  const checks: z.core.$ZodCheck<string>[] = [];
  const { minLength, maxLength, pattern: p, format } = rules;
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
  if (p) {
    checks.push(
      z.refine(p.test, { error: (i) => `${repr(i.input)} does not match ${reprString(p.source)}`, abort: true }),
    );
  }
  if (format === "name") {
    checks.push(z.refine(FORMATS.name, { error: INVALID_NAME, params: { bare: true }, abort: true }));
  } else if (format) {
    checks.push(z.refine(FORMATS[format], { error: (i) => `${repr(i.input)} is not a '${format}'`, abort: true }));
  }
  const base = z.string({ error: (i) => notOfType(i.input, types) }).check(...checks);
  const json: JsonSchema = { type: rules.nullable ? ["string", "null"] : "string" };
  if (minLength !== undefined) json.minLength = minLength;
  if (maxLength !== undefined) json.maxLength = maxLength;
  if (p) json.pattern = p.json;
  else if (format) json.pattern = FORMAT_PATTERNS[format];
  // Not JSON Schema's own formats: upstream's are looser (a date-time
  // without an offset, a uuid without dashes), so they are patterns here.
  if (format) json.description = FORMAT_TEXT[format];
  if (rules.examples) json.examples = [...rules.examples];
  return documented(rules.nullable ? base.nullable() : base, json);
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

type Keyword = "required" | "anyOf" | "additionalProperties";

interface ObjectRules<R extends string> {
  readonly required?: readonly R[];
  /** At least one of these keys (upstream's anyOf of required). */
  readonly anyOf?: readonly string[];
  /** Keys matching this pattern are validated by `value`. */
  readonly patternProperties?: { readonly pattern: Pattern; readonly value: z.ZodType };
  /** Where required/anyOf and additionalProperties sit in upstream's schema. */
  readonly order: readonly Keyword[];
}

/** The decoded object: required keys present, the others optional. */
type ObjectOutput<S extends Record<string, z.ZodType>, R extends keyof S> = { [K in R]: z.output<S[K]> } & {
  [K in Exclude<keyof S, R>]?: z.output<S[K]>;
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A JSON Schema object with additionalProperties: false. */
type Shape = Record<string, z.ZodType>;

/** The first issue of validating `value` with `schema`, its path under `key`. */
function nestedIssue(schema: z.ZodType, value: unknown, key: string): z.core.$ZodRawIssue | undefined {
  const issue = schema.safeParse(value).error?.issues[0];
  return issue && ({ ...issue, path: [key, ...issue.path] } as z.core.$ZodRawIssue);
}

function jsonObjectSchema<S extends Shape, R extends keyof S & string>(
  shape: S,
  rules: ObjectRules<R>,
): z.ZodType<ObjectOutput<S, R>> {
  const optionalShape = Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, s.optional()])) as {
    [K in keyof S]: z.ZodOptional<S[K]>;
  };
  const parse = z.looseObject(optionalShape);
  return z
    .custom<Record<string, unknown>>(isPlainObject, { error: (i) => notOfType(i.input, ["object"]) })
    .superRefine((input, ctx) => {
      const keys = Object.keys(input);
      for (const [key, schema] of Object.entries(shape)) {
        const issue = Object.hasOwn(input, key) ? nestedIssue(schema, input[key], key) : undefined;
        if (issue) return ctx.addIssue(issue);
      }
      const pp = rules.patternProperties;
      for (const key of pp ? keys : []) {
        if (Object.hasOwn(shape, key) || !pp?.pattern.test(key)) continue;
        const issue = nestedIssue(pp.value, input[key], key);
        if (issue) return ctx.addIssue(issue);
      }
      for (const keyword of rules.order) {
        if (keyword === "required") {
          const missing = (rules.required ?? []).find((k) => !Object.hasOwn(input, k));
          if (missing !== undefined) {
            return ctx.addIssue({ code: "custom", input, message: `${reprString(missing)} is a required property` });
          }
        } else if (keyword === "anyOf") {
          if (rules.anyOf && !rules.anyOf.some((k) => Object.hasOwn(input, k))) {
            const message = `${repr(input)} is not valid under any of the given schemas`;
            return ctx.addIssue({ code: "custom", input, message });
          }
        } else {
          const extras = keys.filter((k) => !Object.hasOwn(shape, k) && !pp?.pattern.test(k));
          if (extras.length === 0) continue;
          // jsonschema sorts the keys it names when the object has pattern
          // properties; otherwise it names them in (set) order, shown here in
          // the order they were sent.
          const shown = (pp ? [...extras].sort() : extras).map(reprString).join(", ");
          const message = pp
            ? `${shown} ${extras.length === 1 ? "does" : "do"} not match any of the regexes: ${reprString(pp.pattern.source)}`
            : `Additional properties are not allowed (${shown} ${extras.length === 1 ? "was" : "were"} unexpected)`;
          return ctx.addIssue({ code: "custom", input, message });
        }
      }
    })
    .transform((input) => parse.parse(input)) as unknown as z.ZodType<ObjectOutput<S, R>>;
}

/**
 * A JSON Schema object with additionalProperties false. Its keywords are
 * checked on the request's own object (zod's object parsing drops a
 * `__proto__` key, which must still count as unexpected): type, then each
 * declared property in order, then pattern properties, then required/anyOf
 * and additionalProperties in `rules.order`. Only then is the value parsed,
 * for its conversions (booleans, lower-cased recovery_method).
 */
export function jsonObject<S extends Shape, R extends keyof S & string = never>(
  shape: S,
  rules: ObjectRules<R>,
): z.ZodType<ObjectOutput<S, R>> {
  const result = jsonObjectSchema<S, R>(shape, rules);
  const json: JsonSchema = {
    type: "object",
    properties: Object.fromEntries(Object.entries(shape).map(([key, value]) => [key, jsonSchemaOf(value)])),
  };
  if (rules.patternProperties) {
    json.patternProperties = { [rules.patternProperties.pattern.json]: jsonSchemaOf(rules.patternProperties.value) };
  }
  json.additionalProperties = false;
  if (rules.required?.length) json.required = [...rules.required];
  if (rules.anyOf) json.anyOf = rules.anyOf.map((key) => ({ required: [key] }));
  return documented(result, json);
}

/** Walks a decoded JSON body along an issue path. */
function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const key of path) {
    if (!isPlainObject(value) && !Array.isArray(value)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** The 400 message upstream gives for a validation issue (docs/upstream.md, "Validation messages"). */
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
