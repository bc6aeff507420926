import { describe, expect, it } from "vitest";
import {
  call,
  createSegment,
  type Exchange,
  fault,
  faultHeaders,
  get,
  ORIGIN,
  post,
  row,
  sql,
  successHeaders,
  UNKNOWN_UUID,
  unique,
  v1Headers,
} from "./helpers";

// Versions documents, routing, content types, request size and microversion
// headers: exchanges #1-#27 as upstream master answers them (docs/upstream.md,
// "The v1 pipeline" to "Microversions"; "14.0.2 and master": maximum 1.3), plus
// the deviation D7.
//
// No test in this file leaves a live segment behind, so every segment list
// here is empty, as in the catalogue.

const PROJECT = "0123456789abcdef0123456789abcdef";

const MEDIA_TYPES = [{ base: "application/json", type: "application/vnd.openstack.masakari+json;version=1" }];

const VERSION_LIST = {
  versions: [
    {
      id: "v1.0",
      status: "CURRENT",
      version: "1.3",
      min_version: "1.0",
      updated: "2016-07-01T11:33:21Z",
      links: [{ rel: "self", href: `${ORIGIN}/v1/` }],
    },
  ],
};

const VERSION_DOCUMENT = {
  version: {
    id: "v1.0",
    status: "CURRENT",
    version: "1.3",
    min_version: "1.0",
    updated: "2016-07-01T11:33:21Z",
    links: [
      { rel: "self", href: `${ORIGIN}/v1/` },
      { rel: "describedby", type: "text/html", href: "https://docs.openstack.org/" },
    ],
    "media-types": MEDIA_TYPES,
  },
};

const choices = (path: string) => ({
  choices: [
    {
      id: "v1.0",
      status: "CURRENT",
      links: [{ rel: "self", href: `${ORIGIN}/v1${path}` }],
      "media-types": MEDIA_TYPES,
    },
  ],
});

/** Upstream master's six extensions, exactly as master lists them. */
const UPSTREAM_EXTENSIONS = [
  { name: "Extensions", alias: "extensions", description: "Extension information." },
  { name: "Notifications", alias: "notifications", description: "Notifications support." },
  { name: "Hosts", alias: "os-hosts", description: "Hosts controller" },
  { name: "Segments", alias: "segments", description: "Segments Extension." },
  { name: "Versions", alias: "versions", description: "API Version information." },
  { name: "vmoves", alias: "vmoves", description: "vmoves controller" },
];

/**
 * Ours, not upstream's: D21-D24's four (README.md, "Where we differ from
 * Masakari", rows D21-D24, and "Extensions") and os-notification-events
 * (the console's live pages, docs/console.md, "Live updates and their cost").
 */
const OUR_EXTENSIONS = [
  {
    // D24
    name: "EvacuationPriorities",
    alias: "os-evacuation-priorities",
    description:
      "Evacuations ordered by an instance metadata priority, and instances excluded by their metadata (HOST_FAILURE_PRIORITY_METADATA_KEY, HOST_FAILURE_EXCLUDE_METADATA).",
  },
  {
    // D21
    name: "NotificationActions",
    alias: "os-notification-actions",
    description:
      "Operator actions on a notification: retry, abort, ignore, release (POST .../notifications/{id}/action).",
  },
  {
    // docs/console.md
    name: "NotificationEvents",
    alias: "os-notification-events",
    description:
      "A notification's recovery as it happens: Server-Sent Events of the notification and its VM moves (GET .../notifications/{id}/events).",
  },
  {
    // D23
    name: "RecoveryPlans",
    alias: "os-recovery-plans",
    description: "What the engine would do if a host failed now, and whether it would fit (GET .../recovery-plan).",
  },
  {
    // D22
    name: "StormGuard",
    alias: "os-storm-guard",
    description: "Host failures that would put too many of a segment's hosts down at once are held until released.",
  },
];

/** Both, sorted by alias as the list is. */
const EXTENSIONS = [...UPSTREAM_EXTENSIONS, ...OUR_EXTENSIONS]
  .sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0))
  .map((e) => ({ ...e, namespace: "", updated: "", links: [] }));

/** The headers of a response from the versions app: JSON, nothing else. */
const versionsAppHeaders = {
  "content-type": "application/json",
  "openstack-api-version": null,
  vary: null,
  requestId: false,
};

/** A fault without microversion headers (malformed version, route miss). */
const unversionedFaultHeaders = {
  "content-type": "application/json; charset=UTF-8",
  "openstack-api-version": null,
  vary: null,
  requestId: true,
};

const NOT_FOUND = fault("itemNotFound", 404, "The resource could not be found.");
const EMPTY_LIST = { segments: [] };

const invalidVersion = (v: string) =>
  fault("badRequest", 400, `API Version String ${v} is of invalid format. Must be of format MajorNum.MinorNum.`);
const unsupportedVersion = (v: string) =>
  fault("masakariFault", 406, `Version ${v} is not supported by the API. Minimum is 1.0 and maximum is 1.3.`);

const withHeader = (value: string) => ({ headers: { "OpenStack-API-Version": value } });

function expectExchange(exchange: Exchange, status: number, body: unknown, headers: unknown) {
  expect({ status: exchange.status, body: exchange.json, headers: v1Headers(exchange) }).toEqual({
    status,
    body,
    headers,
  });
}

describe("versions documents", () => {
  it("#1 GET / lists the versions, 1.3 being the newest, without version headers or request id", async () => {
    const res = await get("/");
    expectExchange(res, 200, VERSION_LIST, versionsAppHeaders);
    // Byte for byte as Python's json.dumps writes it.
    expect(res.text).toBe(
      '{"versions": [{"id": "v1.0", "status": "CURRENT", "version": "1.3", "min_version": "1.0", ' +
        '"updated": "2016-07-01T11:33:21Z", "links": [{"rel": "self", "href": "http://masakari.test/v1/"}]}]}',
    );
  });

  it("#2 GET /v1 is the v1 version document with masakari 1.0 headers", async () => {
    const res = await get("/v1");
    expectExchange(res, 200, VERSION_DOCUMENT, successHeaders("1.0"));
    expect(res.text).toBe(
      '{"version": {"id": "v1.0", "status": "CURRENT", "version": "1.3", "min_version": "1.0", ' +
        '"updated": "2016-07-01T11:33:21Z", "links": [{"rel": "self", "href": "http://masakari.test/v1/"}, ' +
        '{"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"}], ' +
        '"media-types": [{"base": "application/json", "type": "application/vnd.openstack.masakari+json;version=1"}]}}',
    );
  });

  it("#3 GET /v1/ (trailing slash) is the same v1 version document", async () => {
    expectExchange(await get("/v1/"), 200, VERSION_DOCUMENT, successHeaders("1.0"));
  });

  it("#4 GET / ignores the microversion header", async () => {
    expectExchange(await get("/", { version: "1.2" }), 200, VERSION_LIST, versionsAppHeaders);
  });

  it("#5 GET /v2 answers 300 choices pointing at /v1 plus the path", async () => {
    expectExchange(await get("/v2"), 300, choices("/v2"), versionsAppHeaders);
  });

  it("PUT /foo answers the same 300 choices whatever the method", async () => {
    expectExchange(await call("PUT", "/foo", { body: { x: 1 } }), 300, choices("/foo"), versionsAppHeaders);
  });

  it("paths that only start like /v1 (/v1x, /v1.0) belong to the versions app: 300", async () => {
    expectExchange(await get("/v1x"), 300, choices("/v1x"), versionsAppHeaders);
    expectExchange(await get("/v1.0"), 300, choices("/v1.0"), versionsAppHeaders);
  });

  it("POST / answers the version list", async () => {
    expectExchange(await post("/", { x: 1 }), 200, VERSION_LIST, versionsAppHeaders);
  });

  it("#27 GET /v1 at 1.2 answers masakari 1.2", async () => {
    expectExchange(await get("/v1", { version: "1.2" }), 200, VERSION_DOCUMENT, successHeaders("1.2"));
  });

  it("GET /v1/versions/v1.0 is the v1 version document", async () => {
    expectExchange(await get("/v1/versions/v1.0"), 200, VERSION_DOCUMENT, successHeaders("1.0"));
  });

  it("GET /v1/versions/v2 is a 404 itemNotFound fault", async () => {
    expectExchange(await get("/v1/versions/v2"), 404, NOT_FOUND, faultHeaders("1.0"));
  });

  it("GET /healthcheck answers 200 text OK, outside the v1 pipeline", async () => {
    const res = await get("/healthcheck");
    expect({
      status: res.status,
      text: res.text,
      type: res.headers.get("content-type")?.split(";")[0],
      version: res.headers.get("openstack-api-version"),
      requestId: res.headers.get("x-openstack-request-id"),
    }).toEqual({ status: 200, text: "OK", type: "text/plain", version: null, requestId: null });
  });
});

describe("405 for the routes python-routes generates without an action", () => {
  const badMethod = (method: string, action: string) =>
    fault("badMethod", 405, `The request method: '${method}' with action: '${action}' is not allowed on this resource`);
  const id = "9be2e20b-952a-4fde-9f23-c6d76048fd6e";

  it.each([
    ["GET", "/v1/versions", "index"],
    ["GET", "/v1/segments/new", "new"],
    ["GET", `/v1/segments/${id}/edit`, "edit"],
    ["POST", `/v1/segments/${id}/action`, "action"],
    ["POST", "/v1/extensions", "create"],
    ["PUT", "/v1/extensions/x", "update"],
    ["DELETE", "/v1/extensions/x", "delete"],
  ])("%s %s is 405 with action '%s'", async (method, path, action) => {
    const body = method === "POST" || method === "PUT" ? { x: null } : undefined;
    expectExchange(await call(method, path, { body }), 405, badMethod(method, action), faultHeaders("1.0"));
  });

  it("#107 the 405 carries the requested microversion", async () => {
    const res = await call("POST", `/v1/segments/${id}/action`, { body: { x: null }, version: "1.2" });
    expectExchange(res, 405, badMethod("POST", "action"), faultHeaders("1.2"));
  });

  it("the 405 comes after the Content-Type check (415 wins)", async () => {
    const res = await get("/v1/segments/new", { headers: { "content-type": "application/xml" } });
    expectExchange(res, 415, fault("badMediaType", 415, "Unsupported Content-Type"), faultHeaders("1.0"));
  });
});

describe("D7: a /v1 path no route matches is a JSON itemNotFound fault", () => {
  const id = "9be2e20b-952a-4fde-9f23-c6d76048fd6e";

  it("#6 D7: GET /v1/foo is the JSON 404 without version headers", async () => {
    const res = await get("/v1/foo");
    expectExchange(res, 404, NOT_FOUND, unversionedFaultHeaders);
    expect(res.text).toBe('{"itemNotFound": {"code": 404, "message": "The resource could not be found."}}');
  });

  it("#7 D7: GET /v1/foo with Accept */* is the same JSON 404 (not HTML)", async () => {
    expectExchange(await get("/v1/foo", { headers: { accept: "*/*" } }), 404, NOT_FOUND, unversionedFaultHeaders);
  });

  it("#8 D7: GET /v1/foo with Accept application/json is the JSON itemNotFound fault", async () => {
    const res = await get("/v1/foo", { headers: { accept: "application/json" } });
    expectExchange(res, 404, NOT_FOUND, unversionedFaultHeaders);
  });

  it.each([
    ["PATCH", `/v1/segments/${id}`, { segment: { name: "seg-b3" } }],
    ["PUT", "/v1/segments", { segment: { name: "x" } }],
    ["DELETE", "/v1/segments", undefined],
    ["POST", `/v1/segments/${id}`, { segment: { name: "x" } }],
    ["GET", "/v1/segments/", undefined],
    ["GET", "/v1/p1/segments", undefined],
    ["GET", `/v1/segments/${id}/nothing`, undefined],
  ])("D7: %s %s is the JSON 404", async (method, path, body) => {
    expectExchange(await call(method, path, { body }), 404, NOT_FOUND, unversionedFaultHeaders);
  });

  it("D7: a route miss ignores the microversion header (no version headers, no 400)", async () => {
    expectExchange(await get("/v1/foo", { version: "abc" }), 404, NOT_FOUND, unversionedFaultHeaders);
  });

  it("D7: HEAD /v1/segments is a 404 with the JSON fault type (no body on HEAD)", async () => {
    const res = await call("HEAD", "/v1/segments");
    expect({ status: res.status, text: res.text, headers: v1Headers(res) }).toEqual({
      status: 404,
      text: "",
      headers: unversionedFaultHeaders,
    });
  });
});

describe("Content-Type (415)", () => {
  const UNSUPPORTED = fault("badMediaType", 415, "Unsupported Content-Type");

  it("Content-Type application/xml on GET / is a 415 fault without version headers or request id", async () => {
    const res = await get("/", { headers: { "content-type": "application/xml" } });
    expectExchange(res, 415, UNSUPPORTED, { ...unversionedFaultHeaders, requestId: false });
  });

  it("Content-Type application/xml on GET /v1/segments is a 415 fault with instance-ha 1.0 headers", async () => {
    const res = await get("/v1/segments", { headers: { "content-type": "application/xml" } });
    expectExchange(res, 415, UNSUPPORTED, faultHeaders("1.0"));
  });

  it("the 415 carries the requested microversion", async () => {
    const res = await get("/v1/segments", { headers: { "content-type": "application/xml" }, version: "1.1" });
    expectExchange(res, 415, UNSUPPORTED, faultHeaders("1.1"));
  });

  it("a malformed microversion is reported before the Content-Type", async () => {
    const res = await get("/v1/segments", { headers: { "content-type": "application/xml" }, version: "abc" });
    expectExchange(res, 400, invalidVersion("abc"), unversionedFaultHeaders);
  });

  it("an unsupported microversion is reported before the Content-Type", async () => {
    const res = await get("/v1/segments", { headers: { "content-type": "application/xml" }, version: "2.0" });
    expectExchange(res, 406, unsupportedVersion("2.0"), faultHeaders("2.0"));
  });

  it.each([
    "text/plain",
    "",
    "application/json; charset=utf-8",
    "application/json",
    "application/vnd.openstack.masakari+json",
  ])("Content-Type %j is accepted on GET /v1/segments", async (type) => {
    const res = await get("/v1/segments", { headers: { "content-type": type } });
    expectExchange(res, 200, EMPTY_LIST, successHeaders("1.0"));
  });

  it("#9 Accept application/xml still gets JSON", async () => {
    const res = await get("/v1/segments", { headers: { accept: "application/xml" } });
    expectExchange(res, 200, EMPTY_LIST, successHeaders("1.0"));
  });
});

describe("request body size limit (413)", () => {
  const TOO_LARGE =
    "413 Request Entity Too Large\n\nRequest is too large. Larger than max_request_body_size (114688).\n\n   ";

  it("a body over 114688 bytes is refused with oslo's plain-text 413 and nothing is stored", async () => {
    const name = unique("big");
    const json = JSON.stringify({ segment: { name, recovery_method: "auto", service_type: "COMPUTE" } });
    const raw = json + " ".repeat(114689 - json.length);
    expect(raw.length).toBe(114689);
    try {
      const res = await call("POST", "/v1/segments", { raw, headers: { "content-type": "application/json" } });
      expect({
        status: res.status,
        text: res.text,
        type: res.headers.get("content-type"),
        version: res.headers.get("openstack-api-version"),
        vary: res.headers.get("vary"),
        requestId: v1Headers(res).requestId,
      }).toEqual({
        status: 413,
        text: TOO_LARGE,
        type: "text/plain; charset=UTF-8",
        version: null,
        vary: null,
        requestId: true,
      });
      expect(await sql("SELECT id FROM failover_segments WHERE name = ?", name)).toEqual([]);
    } finally {
      await sql("UPDATE failover_segments SET deleted = id WHERE name = ?", name);
    }
  });

  it("a body of exactly 114688 bytes is read (and validated)", async () => {
    const prefix = '{"x": "';
    const raw = `${prefix}${"a".repeat(114688 - prefix.length - 2)}"}`;
    expect(raw.length).toBe(114688);
    const res = await call("POST", "/v1/segments", { raw, headers: { "content-type": "application/json" } });
    expectExchange(res, 400, fault("badRequest", 400, "'segment' is a required property"), faultHeaders("1.0"));
  });
});

describe("authentication (noauth2) and the project-id URL form", () => {
  it("#10 GET /v1/extensions lists master's six extensions and ours (D21-D24, os-notification-events), sorted by alias", async () => {
    const res = await get("/v1/extensions");
    expectExchange(res, 200, { extensions: EXTENSIONS }, successHeaders("1.0"));
    expect(res.json.extensions.map((e: { alias: string }) => e.alias)).toEqual([
      "extensions",
      "notifications",
      "os-evacuation-priorities", // D24
      "os-hosts",
      "os-notification-actions", // D21
      "os-notification-events", // docs/console.md
      "os-recovery-plans", // D23
      "os-storm-guard", // D22
      "segments",
      "versions",
      "vmoves",
    ]);
  });

  it("GET /v1/extensions/segments shows one extension", async () => {
    const res = await get("/v1/extensions/segments");
    const segments = EXTENSIONS.find((e) => e.alias === "segments");
    expectExchange(res, 200, { extension: segments }, successHeaders("1.0"));
  });

  it("GET /v1/extensions/bogus is a 404 itemNotFound fault", async () => {
    expectExchange(await get("/v1/extensions/bogus"), 404, NOT_FOUND, faultHeaders("1.0"));
  });

  it("#11 GET /v1/segments with no auth header at all is allowed", async () => {
    expectExchange(await get("/v1/segments"), 200, EMPTY_LIST, successHeaders("1.0"));
  });

  it("#12 X-Auth-Token admin:admin is not interpreted", async () => {
    const res = await get("/v1/segments", { headers: { "X-Auth-Token": "admin:admin" } });
    expectExchange(res, 200, EMPTY_LIST, successHeaders("1.0"));
  });

  it("#13 a garbage token with non-admin user headers is still admin", async () => {
    const res = await get("/v1/segments", {
      headers: { "X-Auth-Token": "not-a-token", "X-User-Id": "bob", "X-Roles": "member", "X-Project-Id": "p1" },
    });
    expectExchange(res, 200, EMPTY_LIST, successHeaders("1.0"));
  });

  it("#14 a project id in the URL without X-Project-Id is 400 (context project 'None')", async () => {
    const res = await get(`/v1/${PROJECT}/segments`);
    const message = `Malformed request URL: URL's project_id '${PROJECT}' doesn't match Context's project_id 'None'`;
    expectExchange(res, 400, fault("badRequest", 400, message), faultHeaders("1.0"));
  });

  it("a project id in the URL that differs from X-Project-Id is 400 naming both", async () => {
    const res = await get(`/v1/${PROJECT}/segments`, { headers: { "X-Project-Id": "abc123" } });
    const message = `Malformed request URL: URL's project_id '${PROJECT}' doesn't match Context's project_id 'abc123'`;
    expectExchange(res, 400, fault("badRequest", 400, message), faultHeaders("1.0"));
  });

  it("a project id in the URL matching X-Project-Id lists the segments", async () => {
    const res = await get(`/v1/${PROJECT}/segments`, { headers: { "X-Project-Id": PROJECT } });
    expectExchange(res, 200, EMPTY_LIST, successHeaders("1.0"));
  });

  it("the project form reaches member routes too", async () => {
    const res = await get(`/v1/${PROJECT}/segments/${UNKNOWN_UUID}`, { headers: { "X-Project-Id": PROJECT } });
    const message = `No failover segment with id ${UNKNOWN_UUID}.`;
    expectExchange(res, 404, fault("itemNotFound", 404, message), faultHeaders("1.0"));
  });

  it("the project check runs after the body is parsed (malformed JSON wins)", async () => {
    const res = await call("POST", `/v1/${PROJECT}/segments`, {
      raw: '{"segment": {',
      headers: { "content-type": "application/json" },
    });
    expectExchange(res, 400, fault("badRequest", 400, "Malformed request body"), faultHeaders("1.0"));
  });

  it("the project check runs before schema validation", async () => {
    const res = await post(`/v1/${PROJECT}/segments`, { segment: {} });
    const message = `Malformed request URL: URL's project_id '${PROJECT}' doesn't match Context's project_id 'None'`;
    expectExchange(res, 400, fault("badRequest", 400, message), faultHeaders("1.0"));
  });
});

describe("format suffixes", () => {
  it("#15 GET /v1/segments.json lists segments", async () => {
    expectExchange(await get("/v1/segments.json"), 200, EMPTY_LIST, successHeaders("1.0"));
  });

  it("GET /v1/segments.xml lists segments, still as JSON", async () => {
    expectExchange(await get("/v1/segments.xml"), 200, EMPTY_LIST, successHeaders("1.0"));
  });

  it("GET /v1/extensions.json lists the extensions", async () => {
    expectExchange(await get("/v1/extensions.json"), 200, { extensions: EXTENSIONS }, successHeaders("1.0"));
  });

  it("a .json or .xml suffix on a member path addresses the member (show, delete)", async () => {
    const segment = await createSegment();
    try {
      expectExchange(await get(`/v1/segments/${segment.uuid}.json`), 200, { segment }, successHeaders("1.0"));
      expectExchange(await get(`/v1/segments/${segment.uuid}.xml`), 200, { segment }, successHeaders("1.0"));
      const deleted = await call("DELETE", `/v1/segments/${segment.uuid}.json`);
      expect({ status: deleted.status, text: deleted.text }).toEqual({ status: 204, text: "" });
      const stored = await row("failover_segments", "uuid", segment.uuid);
      expect(stored?.deleted).toBe(segment.id);
    } finally {
      await sql("UPDATE failover_segments SET deleted = id WHERE uuid = ?", segment.uuid);
    }
  });

  it("an unknown member with a suffix is looked up without the suffix", async () => {
    const res = await get(`/v1/segments/${UNKNOWN_UUID}.json`);
    const message = `No failover segment with id ${UNKNOWN_UUID}.`;
    expectExchange(res, 404, fault("itemNotFound", 404, message), faultHeaders("1.0"));
  });
});

describe("microversions", () => {
  it("#16 instance-ha 1.0 answers masakari 1.0", async () => {
    expectExchange(await get("/v1/segments", { version: "1.0" }), 200, EMPTY_LIST, successHeaders("1.0"));
  });

  it("#17 instance-ha 1.1 answers masakari 1.1", async () => {
    expectExchange(await get("/v1/segments", { version: "1.1" }), 200, EMPTY_LIST, successHeaders("1.1"));
  });

  it("#18 instance-ha 1.2 answers masakari 1.2", async () => {
    expectExchange(await get("/v1/segments", { version: "1.2" }), 200, EMPTY_LIST, successHeaders("1.2"));
  });

  it("#19 instance-ha latest is 1.3", async () => {
    expectExchange(await get("/v1/segments", { version: "latest" }), 200, EMPTY_LIST, successHeaders("1.3"));
  });

  it("#20 instance-ha 1.3 is supported by master: masakari 1.3", async () => {
    expectExchange(await get("/v1/segments", { version: "1.3" }), 200, EMPTY_LIST, successHeaders("1.3"));
  });

  it.each(["1.4", "2.0", "1.10"])("#21 instance-ha %s is 406, echoing the version asked for", async (v) => {
    expectExchange(await get("/v1/segments", { version: v }), 406, unsupportedVersion(v), faultHeaders(v));
  });

  it.each(["0.9", "abc", "LATEST", "1.01", "1", "1.2.3"])(
    "#22/#23 instance-ha %s is a 400 without version headers",
    async (v) => {
      expectExchange(await get("/v1/segments", { version: v }), 400, invalidVersion(v), unversionedFaultHeaders);
    },
  );

  it("#24 a header naming another service (masakari 1.2) is ignored: 1.0", async () => {
    const res = await get("/v1/segments", withHeader("masakari 1.2"));
    expectExchange(res, 200, EMPTY_LIST, successHeaders("1.0"));
  });

  it("#25 other services in a comma list are ignored", async () => {
    const res = await get("/v1/segments", withHeader("compute 2.1, instance-ha 1.1"));
    expectExchange(res, 200, EMPTY_LIST, successHeaders("1.1"));
  });

  it("in a comma list the last instance-ha entry wins", async () => {
    expectExchange(
      await get("/v1/segments", withHeader("instance-ha 1.1, instance-ha 1.2")),
      200,
      EMPTY_LIST,
      successHeaders("1.2"),
    );
    expectExchange(
      await get("/v1/segments", withHeader("instance-ha 1.2, compute 2.1, instance-ha 1.1")),
      200,
      EMPTY_LIST,
      successHeaders("1.1"),
    );
  });

  it("#26 a lower-case header name is read", async () => {
    const res = await get("/v1/segments", { headers: { "openstack-api-version": "instance-ha 1.2" } });
    expectExchange(res, 200, EMPTY_LIST, successHeaders("1.2"));
  });

  it("the service name is case-insensitive (INSTANCE-HA 1.1)", async () => {
    expectExchange(await get("/v1/segments", withHeader("INSTANCE-HA 1.1")), 200, EMPTY_LIST, successHeaders("1.1"));
  });

  it("instance-ha without a version is ignored: 1.0", async () => {
    expectExchange(await get("/v1/segments", withHeader("instance-ha")), 200, EMPTY_LIST, successHeaders("1.0"));
  });

  it("X-OpenStack-Masakari-API-Version is not read: 1.0", async () => {
    const res = await get("/v1/segments", { headers: { "X-OpenStack-Masakari-API-Version": "1.2" } });
    expectExchange(res, 200, EMPTY_LIST, successHeaders("1.0"));
  });

  it("a fault names the service instance-ha with the request's version", async () => {
    const res = await get(`/v1/segments/${UNKNOWN_UUID}`, { version: "1.2" });
    const message = `No failover segment with id ${UNKNOWN_UUID}.`;
    expectExchange(res, 404, fault("itemNotFound", 404, message), faultHeaders("1.2"));
  });
});
