import { type Schema, Validator } from "@cfworker/json-schema";
import { routePath } from "../src/http/path";
import { MICROVERSIONS, openApiDocument } from "../src/openapi/document";

// Every exchange the suites make through helpers.ts's call() is checked
// against the OpenAPI document (GET /openapi.json) with a standard JSON
// Schema validator (@cfworker/json-schema, draft 2020-12):
//  - the response: its status must be documented for the operation, and
//    its JSON body must match that status's schema (no undocumented field:
//    response objects admit no other property);
//  - the request body of a POST or PUT: the document's schema for the
//    request's microversion must give the API's verdict, accepted or
//    refused by validation (a 400 with a jsonschema message).
// A mismatch throws, failing the test that made the exchange. So the
// document cannot drift from what the Worker does.

// biome-ignore lint/suspicious/noExplicitAny: the document is walked as JSON
type Json = any;

const document: Json = openApiDocument();

/** Inlines `#/components/...` references, so a sub-schema validates on its own. */
function inline(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(inline);
  if (!schema || typeof schema !== "object") return schema;
  if (typeof schema.$ref === "string" && schema.$ref.startsWith("#/")) {
    const target = schema.$ref
      .slice(2)
      .split("/")
      .reduce((node: Json, key: string) => node?.[key], document);
    return inline(target);
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(v)]));
}

const validators = new Map<Json, Validator>();
function valid(schema: Json, value: unknown): { valid: boolean; errors: string } {
  let validator = validators.get(schema);
  if (!validator) {
    validator = new Validator(inline(schema) as Schema, "2020-12", false);
    validators.set(schema, validator);
  }
  const result = validator.validate(value);
  const errors = result.errors.filter((e) => !e.error.endsWith("did not match schema.")).slice(-3);
  return { valid: result.valid, errors: errors.map((e) => `${e.instanceLocation}: ${e.error}`).join("; ") };
}

/** The documented operations as matchers, concrete paths before templated ones (as routers match). */
const operations = Object.entries(document.paths as Record<string, Json>)
  .filter(([path]) => !path.includes("{project_id}"))
  .sort(([a], [b]) => a.split("{").length - b.split("{").length)
  .map(([path, methods]) => ({
    pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}$`),
    methods: methods as Record<string, Json>,
  }));

function operationOf(method: string, url: string): Json | undefined {
  const path = routePath(new Request(url));
  for (const { pattern, methods } of operations) {
    if (pattern.test(path === "/v1/" ? "/v1" : path)) return methods[method.toLowerCase()];
  }
  return undefined;
}

/** The messages of a 400 that jsonschema gave (the request body's schema refused it). */
const SCHEMA_REFUSAL =
  /^Invalid input for field\/attribute |is a required property$|^Additional properties are not allowed|is not valid under any of the given schemas$|is valid under each of |do(es)? not match any of the regexes|^An invalid 'name' value|is not of type|is too (short|long)$|is not one of|does not match '/;

/**
 * The one check a JSON Schema pattern does not make: that a date exists
 * (a 30 February, a 29 February outside a leap year, a 31 April). The
 * document's date-time pattern checks every field's range; upstream's
 * check is Python's datetime, refusing such dates. Only those refusals are
 * let through, by their message and value.
 */
const CALENDAR = /Value: (\d{4})-(\d{1,2})-(\d{1,2})\b[^.]*\. '[^']*' is not a 'date-time'$/;

function notACalendarDate(message: string): boolean {
  const [, year, month, day] = (CALENDAR.exec(message) ?? []).map(Number);
  if (!year || !month || !day || month > 12) return false;
  return day > new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function microversionOf(request: Request): string {
  const asked = /instance-ha\s+(\S+)/i.exec(request.headers.get("OpenStack-API-Version") ?? "")?.[1];
  if (!asked) return "1.0";
  return asked === "latest" ? "1.3" : asked;
}

/** The request body's schema at the request's microversion. */
function requestSchema(op: Json, version: string): Json | undefined {
  const media = op.requestBody?.content?.["application/json"];
  if (!media) return undefined;
  const [major, minor] = version.split(".").map(Number);
  const applicable = (media[MICROVERSIONS] as { since: string; schema: Json }[]).filter(({ since }) => {
    const [m, n] = since.split(".").map(Number);
    return (m ?? 0) < (major ?? 0) || ((m ?? 0) === (major ?? 0) && (n ?? 0) <= (minor ?? 0));
  });
  return applicable.at(-1)?.schema;
}

export interface Checked {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly json: unknown;
  readonly body: unknown;
  readonly request: Request;
}

/** Throws when the exchange is not what the document says. */
export function checkAgainstDocument(exchange: Checked): void {
  const { method, url, status, json } = exchange;
  if (method === "HEAD") return;
  const op = operationOf(method, url);
  // A path no route matches (D7's 404) is no operation of the document.
  if (!op) return;
  const where = `${method} ${new URL(url).pathname} → ${status}`;
  const response = inline(op.responses?.[String(status)]);
  if (!response) throw new Error(`OpenAPI: ${where} is not a documented status of ${op.operationId}`);
  const schema = response.content?.["application/json"]?.schema;
  if (schema && json !== undefined) {
    const result = valid(schema, json);
    if (!result.valid) throw new Error(`OpenAPI: the body of ${where} does not match the document: ${result.errors}`);
  }
  checkRequestBody(op, exchange, where);
}

function checkRequestBody(op: Json, { body, status, json, request }: Checked, where: string): void {
  if (body === undefined || !op.requestBody) return;
  // Refused before the body's schema was looked at: version, media type,
  // size, JSON syntax, authentication, the URL's project.
  if ([401, 406, 413, 415, 500, 503].includes(status)) return;
  const message: string = (json as Json)?.badRequest?.message ?? "";
  if (status === 400 && !SCHEMA_REFUSAL.test(message)) {
    if (/^(Malformed request|API Version String)/.test(message)) return;
  }
  const schema = requestSchema(op, microversionOf(request));
  if (!schema) return;
  const refusedByApi = status === 400 && SCHEMA_REFUSAL.test(message);
  const result = valid(schema, body);
  if (result.valid && refusedByApi && notACalendarDate(message)) return;
  if (result.valid === refusedByApi) {
    throw new Error(
      `OpenAPI: the document's request schema ${result.valid ? "accepts" : "refuses"} the body of ${where} (${JSON.stringify(body).slice(0, 200)}), which the API ${refusedByApi ? `refused: ${message}` : "accepted"}${result.valid ? "" : ` (${result.errors})`}`,
    );
  }
}
