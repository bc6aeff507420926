import * as z from "zod";
import { repr, reprString } from "../python";
import type { Pattern } from "./formats";
import { documented, type JsonSchema, jsonSchemaOf } from "./json-schema";
import { notOfType } from "./messages";

// The objects of upstream's request schemas, all with additionalProperties
// false. jsonschema checks an object's keywords in its schema's order and
// reports the first error (./messages.ts), so the order is part of each
// object's rules.

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

/** The declared properties of an object. */
type Shape = Record<string, z.ZodType>;

/** The decoded object: required keys present, the others optional. */
type ObjectOutput<S extends Shape, R extends keyof S> = { [K in R]: z.output<S[K]> } & {
  [K in Exclude<keyof S, R>]?: z.output<S[K]>;
};

type Issue = z.core.$ZodRawIssue;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The first issue of validating `value` with `schema`, its path under `key`. */
function nestedIssue(schema: z.ZodType, value: unknown, key: string): Issue | undefined {
  const issue = schema.safeParse(value).error?.issues[0];
  return issue && ({ ...issue, path: [key, ...issue.path] } as Issue);
}

/** The first issue of the declared properties, in order, then of the pattern properties. */
function propertyIssue<R extends string>(input: Record<string, unknown>, shape: Shape, rules: ObjectRules<R>) {
  for (const [key, schema] of Object.entries(shape)) {
    const issue = Object.hasOwn(input, key) ? nestedIssue(schema, input[key], key) : undefined;
    if (issue) return issue;
  }
  const pp = rules.patternProperties;
  for (const key of pp ? Object.keys(input) : []) {
    if (Object.hasOwn(shape, key) || !pp?.pattern.test(key)) continue;
    const issue = nestedIssue(pp.value, input[key], key);
    if (issue) return issue;
  }
  return undefined;
}

/** The message of additionalProperties for keys neither declared nor matching the pattern, if any. */
function unexpected(input: Record<string, unknown>, shape: Shape, pp: ObjectRules<string>["patternProperties"]) {
  const extras = Object.keys(input).filter((k) => !Object.hasOwn(shape, k) && !pp?.pattern.test(k));
  if (extras.length === 0) return undefined;
  // jsonschema sorts the keys it names when the object has pattern
  // properties; otherwise it names them in (set) order, shown here in the
  // order they were sent.
  const shown = (pp ? [...extras].sort() : extras).map(reprString).join(", ");
  return pp
    ? `${shown} ${extras.length === 1 ? "does" : "do"} not match any of the regexes: ${reprString(pp.pattern.source)}`
    : `Additional properties are not allowed (${shown} ${extras.length === 1 ? "was" : "were"} unexpected)`;
}

/** The message of the first of required/anyOf and additionalProperties to fail, in `rules.order`. */
function keywordMessage<R extends string>(input: Record<string, unknown>, shape: Shape, rules: ObjectRules<R>) {
  for (const keyword of rules.order) {
    if (keyword === "required") {
      const missing = (rules.required ?? []).find((k) => !Object.hasOwn(input, k));
      if (missing !== undefined) return `${reprString(missing)} is a required property`;
    } else if (keyword === "anyOf") {
      if (rules.anyOf && !rules.anyOf.some((k) => Object.hasOwn(input, k))) {
        return `${repr(input)} is not valid under any of the given schemas`;
      }
    } else {
      const message = unexpected(input, shape, rules.patternProperties);
      if (message !== undefined) return message;
    }
  }
  return undefined;
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
      const issue = propertyIssue(input, shape, rules);
      if (issue) return ctx.addIssue(issue);
      const message = keywordMessage(input, shape, rules);
      if (message !== undefined) ctx.addIssue({ code: "custom", input, message });
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
