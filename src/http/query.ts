import type { JsonSchema } from "../validation/json-schema";
import { badRequest, messages } from "./faults";

// A route's query parameters, declared once (src/http/route.ts): the OpenAPI
// document lists them, and the handler reads them by name, typed. A value is
// read, and refused, when the handler asks for it: upstream's controllers
// raise a bad parameter's 400 where they read it, after the lookups before it
// (docs/upstream.md, "Host operations and order of checks").

export interface QueryParam<T> {
  readonly schema: JsonSchema;
  readonly description: string;
  /** Its value from every value the query has for `name`, in order; a bad one throws its fault. */
  readonly read: (values: readonly string[], name: string) => T;
}

export type QueryParams = Readonly<Record<string, QueryParam<unknown>>>;

type ValueOf<P> = P extends QueryParam<infer T> ? T : never;

/** The query of a request, read through its route's declarations. */
export class Query<Q extends QueryParams> {
  #search: URLSearchParams | undefined;

  constructor(
    private readonly params: Q,
    private readonly request: { readonly url: string },
  ) {}

  get<K extends keyof Q & string>(name: K): ValueOf<Q[K]> {
    // The URL is read and parsed only for a route that reads its query.
    this.#search ??= new URL(this.request.url).searchParams;
    return this.params[name]?.read(this.#search.getAll(name), name) as ValueOf<Q[K]>;
  }
}

/** A query parameter as webob's MultiDict gives it: the last value. */
export const last = (values: readonly string[]): string | undefined => values.at(-1);

/** A string parameter: its last value. */
export const text = (description: string, schema: JsonSchema = { type: "string" }): QueryParam<string | undefined> => ({
  schema,
  description,
  read: last,
});

// oslo strutils.bool_from_string(strict=True), which upstream applies to the
// hosts `on_maintenance` and `reserved` filters (and we to `enabled`, D5).
const TRUE_STRINGS = ["1", "t", "true", "on", "y", "yes"];
const FALSE_STRINGS = ["0", "f", "false", "off", "n", "no"];

function strictBoolean(name: string, value: string): boolean {
  const lowered = value.trim().toLowerCase();
  if (TRUE_STRINGS.includes(lowered)) return true;
  if (FALSE_STRINGS.includes(lowered)) return false;
  throw badRequest(messages.invalidBooleanFilter(name, value));
}

/** A boolean filter: its last value, boolean-like in any case; 400 naming the parameter for anything else. */
export const flag = (description: string, examples: readonly string[]): QueryParam<boolean | undefined> => ({
  schema: { type: "string", examples: [...examples] },
  description,
  read: (values, name) => {
    const value = last(values);
    return value === undefined ? undefined : strictBoolean(name, value);
  },
});
