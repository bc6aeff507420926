import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

// Masakari's fault names by status (docs/upstream.md, "Faults and messages");
// anything else (406, 500) is a masakariFault.
const FAULT_NAMES: Partial<Record<number, string>> = {
  400: "badRequest",
  401: "unauthorized",
  403: "forbidden",
  404: "itemNotFound",
  405: "badMethod",
  409: "conflictingRequest",
  413: "overLimit",
  415: "badMediaType",
  429: "overLimit",
  501: "notImplemented",
  503: "serviceUnavailable",
};

export function faultName(status: number): string {
  return FAULT_NAMES[status] ?? "masakariFault";
}

/**
 * A Masakari fault: rendered by the app's error handler as
 * `{"<faultName>": {"code": N, "message": "..."}}`.
 */
export class Fault extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, { message });
  }
}

export const badRequest = (message: string) => new Fault(400, message);
export const notFound = (message: string) => new Fault(404, message);
export const conflict = (message: string) => new Fault(409, message);

/** The fault each refusal of a store answers, worded from what the request said (`facts`). */
export type FaultTable<R extends string, F> = { readonly [K in R]: (facts: F) => Fault };

/**
 * A store's outcome, unless it is one of the refusals in `faults`: then the
 * fault it answers is thrown. Each resource keeps one table of them, by
 * operation, beside its routes.
 */
export function orFault<O, const R extends string, F>(outcome: O, faults: FaultTable<R, F>, facts: F): Exclude<O, R> {
  if (typeof outcome === "string" && Object.hasOwn(faults, outcome)) throw faults[outcome as string as R](facts);
  return outcome as Exclude<O, R>;
}

// The message catalogue (docs/upstream.md, "Faults and messages"): every
// wording a client can see lives here, so a phrase is changed in one place.
const ACTION_PAST: Record<string, string> = {
  retry: "retried",
  abort: "aborted",
  ignore: "ignored",
  release: "released",
};

export const messages = {
  malformedBody: "Malformed request body",
  unsupportedContentType: "Unsupported Content-Type",
  resourceNotFound: "The resource could not be found.",
  serverError: "The server has either erred or is incapable of performing the requested operation.",
  badMethod: (method: string, action: string) =>
    `The request method: '${method}' with action: '${action}' is not allowed on this resource`,
  invalidVersionString: (v: string) =>
    `API Version String ${v} is of invalid format. Must be of format MajorNum.MinorNum.`,
  unsupportedVersion: (v: string, min: string, max: string) =>
    `Version ${v} is not supported by the API. Minimum is ${min} and maximum is ${max}.`,
  projectMismatch: (url: string, context: string | null) =>
    `Malformed request URL: URL's project_id '${url}' doesn't match Context's project_id '${context ?? "None"}'`,
  policyDenied: (policy: string) => `Policy doesn't allow ${policy} to be performed.`,
  identityUnavailable: (why: string) => `The identity service is unavailable: ${why}.`,

  invalidLimit: "Invalid input received: limit must be an integer",
  negativeLimit: "Invalid input received: limit must be >= 0",
  invalidPageSize: "Invalid input received: page_size must be an integer",
  negativePageSize: "Invalid input received: page_size must be >= 0",
  markerNotFound: (marker: string) => `Marker ${marker} could not be found.`,
  invalidSortKey: (key: string) => `InvalidSortKey('Sort key supplied is invalid: ${key}')`,
  invalidSortDir: "Invalid input received: Unknown sort direction, must be 'asc' or 'desc'",
  sortDirsExceedKeys: "Invalid input received: Sort direction size exceeds sort key size",
  invalidBooleanFilter: (field: string, value: string) =>
    `Invalid value for ${field}: Unrecognized value '${value}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`,

  segmentNotFound: (id: string) => `No failover segment with id ${id}.`,
  segmentNameExists: (name: string) => `Failover segment with name ${name} already exists.`,
  segmentInUseUpdate: (uuid: string) =>
    `Failover segment ${uuid} can't be updated as it is in-use to process notifications.`,
  segmentInUseDelete: (uuid: string) =>
    `Failover segment (${uuid}) can't be deleted as it is in-use to process notifications.`,

  hostIdNotFound: (id: string) => `No host with id ${id}.`,
  hostNotFoundInSegment: (host: string, segment: string) =>
    `Host '${host}' under failover_segment '${segment}' could not be found.`,
  hostNameExists: (name: string) => `Host with name ${name} already exists.`,
  hostInUseUpdate: (uuid: string) => `Host ${uuid} can't be updated as it is in-use to process notifications.`,
  hostInUseDelete: (uuid: string) => `Host ${uuid} can't be deleted as it is in-use to process notifications.`,
  computeServiceNotFound: (name: string) => `Compute service with name ${name} could not be found.`,
  computeUnavailable: (why: string) => `Compute service could not be checked: ${why}.`,

  // Ours (D23).
  planUnavailable: (why: string) => `Recovery plan unavailable: Nova could not say (${why}).`,
  notificationNotFound: (id: string) => `No notification with id ${id}.`,
  // Ours (D21): why an operator action does not apply.
  actionNotAllowed: (id: string, action: string, status: string, allowed: readonly string[]) =>
    `Notification ${id} can't be ${ACTION_PAST[action] ?? action} as its status is ${status}: ${action} applies to a notification in ${allowed.join(" or ")}.`,
  notHeld: (id: string) =>
    `Notification ${id} can't be released as the storm guard does not hold it (or it is no longer new).`,
  notificationHostNotFound: (name: string) => `Host with name ${name} could not be found.`,
  notificationHostOnMaintenance: (host: string, type: string) =>
    `Notification received from host ${host} of type '${type}' is ignored as the host is already under maintenance.`,
  notificationDuplicate: (host: string, type: string) =>
    `Notification received from host ${host} of type ${type} is duplicate.`,
  invalidGeneratedSince: "Invalid generated-since value",

  vmoveNotFound: (id: string) => `No vm move with id ${id}.`,
  notificationWithoutVmoves: (id: string) => `This notification ${id} without vm moves.`,
} as const;
