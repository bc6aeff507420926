import { describe, expect, it } from "vitest";
import {
  appWith,
  type CallOptions,
  fault,
  faultHeaders,
  holdRecoveries,
  KEYSTONE_SETTINGS,
  mustAnswer,
  sql,
  successHeaders,
  unique,
  v1Headers,
} from "./helpers";

holdRecoveries();

// D9 and docs/upstream.md, "Policy": every policy an endpoint enforces, checked
// with real (fake) Keystone tokens. Upstream's defaults make everything
// admin-only; a POLICY setting overrides them. "Order of checks": the body
// schema is checked before policy, so a non-admin with a bad body gets 400, not
// 403.

const app = appWith(KEYSTONE_SETTINGS);
const token = (prefix: string) => `${prefix}-${crypto.randomUUID()}`;
const ADMIN = token("admin");
const MEMBER = token("member");

const as = (value: string, options: CallOptions = {}): CallOptions => ({
  ...options,
  headers: { ...options.headers, "X-Auth-Token": value },
});

// Upstream master's six extensions and ours, sorted by alias as listed: D21-D24's
// four (README.md, "Where we differ from Masakari", rows D21-D24) and
// os-notification-events (docs/console.md), each behind its discoverable rule.
const EVERY_EXTENSION = [
  "extensions",
  "notifications",
  "os-evacuation-priorities", // ours, D24
  "os-hosts",
  "os-notification-actions", // ours, D21
  "os-notification-events", // ours, docs/console.md
  "os-recovery-plans", // ours, D23
  "os-storm-guard", // ours, D22
  "segments",
  "versions",
  "vmoves",
];

const denied = (policy: string) => fault("forbidden", 403, `Policy doesn't allow ${policy} to be performed.`);

/** Everything stored in D1, to show a refused request wrote nothing. */
async function snapshot() {
  return {
    segments: await sql("SELECT * FROM failover_segments ORDER BY id"),
    hosts: await sql("SELECT * FROM hosts ORDER BY id"),
    notifications: await sql("SELECT * FROM notifications ORDER BY id"),
    vmoves: await sql("SELECT * FROM vmoves ORDER BY id"),
  };
}

// Fixtures, made through the API with the admin token.
const segmentBody = () => ({ segment: { name: unique("pm-seg"), recovery_method: "auto", service_type: "COMPUTE" } });
const hostBody = () => ({ host: { name: unique("pm-host"), type: "COMPUTE", control_attributes: "ssh" } });
const notificationBody = (hostname: string) => ({
  notification: {
    type: "COMPUTE_HOST",
    hostname,
    generated_time: "2026-01-01T10:00:00",
    payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "ONLINE" },
  },
});

async function newSegment(): Promise<string> {
  const res = await app("POST", "/v1/segments", as(ADMIN, { body: segmentBody() }));
  return mustAnswer(res, 202, "segment create").json.segment.uuid;
}

async function newHost(segment?: string): Promise<{ segment: string; uuid: string; name: string }> {
  const seg = segment ?? (await newSegment());
  const res = await app("POST", `/v1/segments/${seg}/hosts`, as(ADMIN, { body: hostBody() }));
  const host = mustAnswer(res, 201, "host create").json.host;
  return { segment: seg, uuid: host.uuid, name: host.name };
}

async function newNotification(): Promise<string> {
  const host = await newHost();
  const res = await app("POST", "/v1/notifications", as(ADMIN, { body: notificationBody(host.name) }));
  return mustAnswer(res, 202, "notification create").json.notification.notification_uuid;
}

interface Request {
  method: string;
  path: string;
  body?: unknown;
}

interface Case {
  policy: string;
  /** Builds fresh fixtures and the request to send. */
  request: () => Promise<Request>;
  /** What an admin gets: policy passed, the resource answers. */
  admin: number;
}

const cases: Case[] = [
  {
    policy: "os_masakari_api:segments:index",
    admin: 200,
    request: async () => ({ method: "GET", path: "/v1/segments" }),
  },
  {
    policy: "os_masakari_api:segments:detail",
    admin: 200,
    request: async () => ({ method: "GET", path: `/v1/segments/${await newSegment()}` }),
  },
  {
    policy: "os_masakari_api:segments:create",
    admin: 202,
    request: async () => ({ method: "POST", path: "/v1/segments", body: segmentBody() }),
  },
  {
    policy: "os_masakari_api:segments:update",
    admin: 200,
    request: async () => ({
      method: "PUT",
      path: `/v1/segments/${await newSegment()}`,
      body: { segment: { name: unique("pm-renamed"), description: "changed" } },
    }),
  },
  {
    policy: "os_masakari_api:segments:delete",
    admin: 204,
    request: async () => ({ method: "DELETE", path: `/v1/segments/${await newSegment()}` }),
  },
  {
    policy: "os_masakari_api:os-hosts:index",
    admin: 200,
    request: async () => ({ method: "GET", path: `/v1/segments/${(await newHost()).segment}/hosts` }),
  },
  {
    policy: "os_masakari_api:os-hosts:detail",
    admin: 200,
    request: async () => {
      const host = await newHost();
      return { method: "GET", path: `/v1/segments/${host.segment}/hosts/${host.uuid}` };
    },
  },
  {
    policy: "os_masakari_api:os-hosts:create",
    admin: 201,
    request: async () => ({ method: "POST", path: `/v1/segments/${await newSegment()}/hosts`, body: hostBody() }),
  },
  {
    policy: "os_masakari_api:os-hosts:update",
    admin: 200,
    request: async () => {
      const host = await newHost();
      return {
        method: "PUT",
        path: `/v1/segments/${host.segment}/hosts/${host.uuid}`,
        body: { host: { reserved: true, on_maintenance: true } },
      };
    },
  },
  {
    policy: "os_masakari_api:os-hosts:delete",
    admin: 204,
    request: async () => {
      const host = await newHost();
      return { method: "DELETE", path: `/v1/segments/${host.segment}/hosts/${host.uuid}` };
    },
  },
  {
    policy: "os_masakari_api:notifications:index",
    admin: 200,
    request: async () => ({ method: "GET", path: "/v1/notifications" }),
  },
  {
    policy: "os_masakari_api:notifications:detail",
    admin: 200,
    request: async () => ({ method: "GET", path: `/v1/notifications/${await newNotification()}` }),
  },
  {
    policy: "os_masakari_api:notifications:create",
    admin: 202,
    request: async () => ({
      method: "POST",
      path: "/v1/notifications",
      body: notificationBody((await newHost()).name),
    }),
  },
  {
    policy: "os_masakari_api:vmoves:index",
    admin: 200,
    request: async () => ({ method: "GET", path: `/v1/notifications/${await newNotification()}/vmoves` }),
  },
  {
    // No such vmove: an admin passes policy and gets the resource's own 404.
    policy: "os_masakari_api:vmoves:detail",
    admin: 404,
    request: async () => ({
      method: "GET",
      path: `/v1/notifications/${await newNotification()}/vmoves/${crypto.randomUUID()}`,
    }),
  },
  {
    policy: "os_masakari_api:extensions:index",
    admin: 200,
    request: async () => ({ method: "GET", path: "/v1/extensions" }),
  },
  {
    policy: "os_masakari_api:extensions:detail",
    admin: 200,
    request: async () => ({ method: "GET", path: "/v1/extensions/segments" }),
  },
];

const send = (t: string, r: Request, options: CallOptions = {}) =>
  app(r.method, r.path, as(t, r.body === undefined ? options : { ...options, body: r.body }));

describe("D9: a non-admin is refused by every default policy", () => {
  it.each(cases.map((c) => [c.policy, c] as const))("%s → 403, nothing written", async (policy, c) => {
    const request = await c.request();
    const before = await snapshot();
    const res = await send(MEMBER, request);
    expect({ status: res.status, body: res.json, headers: v1Headers(res) }).toEqual({
      status: 403,
      body: denied(policy),
      headers: faultHeaders(),
    });
    expect(await snapshot()).toEqual(before);
  });

  it.each(["1.0", "1.1", "1.2", "1.3"])("the 403 carries the instance-ha %s version headers", async (version) => {
    const res = await app("GET", "/v1/segments", as(MEMBER, { version }));
    expect({ status: res.status, body: res.json, headers: v1Headers(res) }).toEqual({
      status: 403,
      body: denied("os_masakari_api:segments:index"),
      headers: faultHeaders(version),
    });
  });

  it("every non-admin persona is refused, whatever its role", async () => {
    for (const prefix of ["member", "role-reader", "role-member", "role-service", "unscoped"]) {
      const res = await app("GET", "/v1/extensions", as(token(prefix)));
      expect({ prefix, status: res.status, body: res.json }).toEqual({
        prefix,
        status: 403,
        body: denied("os_masakari_api:extensions:index"),
      });
    }
  });

  it("the project URL form is refused the same way", async () => {
    const res = await app("GET", `/v1/${"d".repeat(32)}/segments`, as(MEMBER));
    expect([res.status, res.json]).toEqual([403, denied("os_masakari_api:segments:index")]);
  });
});

describe("D9: an admin passes every default policy", () => {
  it.each(cases.map((c) => [c.policy, c] as const))("%s → the resource's answer", async (_policy, c) => {
    const res = await send(ADMIN, await c.request());
    expect(res.status).toBe(c.admin);
    if (c.admin >= 400) {
      expect(v1Headers(res)).toEqual(faultHeaders());
      expect(res.json).toEqual({ itemNotFound: { code: 404, message: expect.stringMatching(/^No vm move with id /) } });
    } else {
      expect(v1Headers(res)).toEqual(successHeaders());
    }
  });

  it("an admin sees a resource's own 404 and 400, not 403", async () => {
    const missing = crypto.randomUUID();
    const res = await app("GET", `/v1/segments/${missing}`, as(ADMIN));
    expect([res.status, res.json]).toEqual([
      404,
      fault("itemNotFound", 404, `No failover segment with id ${missing}.`),
    ]);
    const unknownHost = await app("POST", "/v1/notifications", as(ADMIN, { body: notificationBody("no-such-host") }));
    expect([unknownHost.status, unknownHost.json]).toEqual([
      400,
      fault("badRequest", 400, "Host with name no-such-host could not be found."),
    ]);
  });

  it("an admin lists every extension", async () => {
    const res = await app("GET", "/v1/extensions", as(ADMIN));
    expect(res.json.extensions.map((e: { alias: string }) => e.alias)).toEqual(EVERY_EXTENSION);
  });
});

describe("order of checks: the body before policy", () => {
  const invalid: [string, () => Promise<Request>, string][] = [
    [
      "segments:create",
      async () => ({ method: "POST", path: "/v1/segments", body: {} }),
      "'segment' is a required property",
    ],
    [
      "segments:create",
      async () => ({
        method: "POST",
        path: "/v1/segments",
        body: { segment: { recovery_method: "auto", service_type: "COMPUTE" } },
      }),
      "Invalid input for field/attribute segment. Value: {'recovery_method': 'auto', 'service_type': 'COMPUTE'}. 'name' is a required property",
    ],
    [
      "segments:update",
      async () => ({ method: "PUT", path: `/v1/segments/${await newSegment()}`, body: { segment: { color: "red" } } }),
      "Invalid input for field/attribute segment. Value: {'color': 'red'}. Additional properties are not allowed ('color' was unexpected)",
    ],
    [
      "os-hosts:create",
      async () => ({ method: "POST", path: `/v1/segments/${await newSegment()}/hosts`, body: {} }),
      "'host' is a required property",
    ],
    [
      "os-hosts:update",
      async () => {
        const host = await newHost();
        return { method: "PUT", path: `/v1/segments/${host.segment}/hosts/${host.uuid}`, body: { host: { foo: 1 } } };
      },
      "Invalid input for field/attribute host. Value: {'foo': 1}. Additional properties are not allowed ('foo' was unexpected)",
    ],
    [
      "notifications:create",
      async () => ({ method: "POST", path: "/v1/notifications", body: {} }),
      "'notification' is a required property",
    ],
  ];

  it.each(invalid)("%s: a non-admin with an invalid body gets the schema's 400", async (_name, request, message) => {
    const r = await request();
    const before = await snapshot();
    const res = await send(MEMBER, r);
    expect({ status: res.status, body: res.json, headers: v1Headers(res) }).toEqual({
      status: 400,
      body: fault("badRequest", 400, message),
      headers: faultHeaders(),
    });
    expect(await snapshot()).toEqual(before);
  });

  it("a non-admin with malformed JSON gets 400 Malformed request body", async () => {
    const res = await app(
      "POST",
      "/v1/segments",
      as(MEMBER, { raw: "{", headers: { "Content-Type": "application/json" } }),
    );
    expect([res.status, res.json]).toEqual([400, fault("badRequest", 400, "Malformed request body")]);
  });

  it("a non-admin with an unsupported Content-Type gets 415", async () => {
    const res = await app("GET", "/v1/segments", as(MEMBER, { headers: { "Content-Type": "text/xml" } }));
    expect([res.status, res.json]).toEqual([415, fault("badMediaType", 415, "Unsupported Content-Type")]);
  });

  it("a non-admin with an unsupported microversion gets 406", async () => {
    const res = await app("GET", "/v1/segments", as(MEMBER, { version: "1.9" }));
    expect([res.status, res.json]).toEqual([
      406,
      fault("masakariFault", 406, "Version 1.9 is not supported by the API. Minimum is 1.0 and maximum is 1.3."),
    ]);
  });

  it("a non-admin on an action that does not exist gets 405", async () => {
    const res = await app("PUT", `/v1/notifications/${crypto.randomUUID()}`, as(MEMBER, { body: {} }));
    expect([res.status, res.json]).toEqual([
      405,
      fault("badMethod", 405, "The request method: 'PUT' with action: 'update' is not allowed on this resource"),
    ]);
  });

  it("a non-admin with a valid body but a missing segment gets 403, not 404: policy first", async () => {
    const res = await app(
      "PUT",
      `/v1/segments/${crypto.randomUUID()}`,
      as(MEMBER, { body: { segment: { description: "x" } } }),
    );
    expect([res.status, res.json]).toEqual([403, denied("os_masakari_api:segments:update")]);
  });
});

describe("D9: POLICY overrides", () => {
  it("a role granted one policy gets that one only", async () => {
    const custom = appWith({
      ...KEYSTONE_SETTINGS,
      POLICY: JSON.stringify({ "os_masakari_api:segments:index": "role:ha_operator" }),
    });
    const operator = token("role-ha_operator");
    const list = await custom("GET", "/v1/segments", as(operator));
    expect({ status: list.status, headers: v1Headers(list) }).toEqual({ status: 200, headers: successHeaders() });
    expect(list.json).toEqual({ segments: expect.any(Array) });

    const body = segmentBody();
    const create = await custom("POST", "/v1/segments", as(operator, { body }));
    expect({ status: create.status, body: create.json, headers: v1Headers(create) }).toEqual({
      status: 403,
      body: denied("os_masakari_api:segments:create"),
      headers: faultHeaders(),
    });
    expect(await sql("SELECT id FROM failover_segments WHERE name = ?", body.segment.name)).toEqual([]);

    expect((await custom("GET", `/v1/segments/${await newSegment()}`, as(operator))).status).toBe(403);
    // The override replaces the default: the admin no longer matches it.
    const admin = await custom("GET", "/v1/segments", as(ADMIN));
    expect([admin.status, admin.json]).toEqual([403, denied("os_masakari_api:segments:index")]);
    expect((await custom("POST", "/v1/segments", as(ADMIN, { body: segmentBody() }))).status).toBe(202);
  });

  it("a policy's rule names are matched whole (os_masakari_api:segments:index only)", async () => {
    const custom = appWith({ ...KEYSTONE_SETTINGS, POLICY: JSON.stringify({ "os_masakari_api:segments:index": "@" }) });
    expect((await custom("GET", "/v1/segments", as(MEMBER))).status).toBe(200);
    const hosts = await custom("GET", `/v1/segments/${await newSegment()}/hosts`, as(MEMBER));
    expect([hosts.status, hosts.json]).toEqual([403, denied("os_masakari_api:os-hosts:index")]);
  });

  it("an undiscoverable extension is left out of an admin's list and cannot be shown", async () => {
    const custom = appWith({
      ...KEYSTONE_SETTINGS,
      POLICY: JSON.stringify({ "os_masakari_api:segments:discoverable": "!" }),
    });
    const list = await custom("GET", "/v1/extensions", as(ADMIN));
    expect(list.status).toBe(200);
    expect(list.json.extensions.map((e: { alias: string }) => e.alias)).toEqual(
      EVERY_EXTENSION.filter((alias) => alias !== "segments"),
    );
    const show = await custom("GET", "/v1/extensions/segments", as(ADMIN));
    expect([show.status, show.json]).toEqual([404, fault("itemNotFound", 404, "The resource could not be found.")]);
    // The segments API itself is unaffected.
    expect((await custom("GET", "/v1/segments", as(ADMIN))).status).toBe(200);
  });

  it("discoverable policies decide per caller: a member allowed the list sees only what it may discover", async () => {
    const custom = appWith({
      ...KEYSTONE_SETTINGS,
      POLICY: JSON.stringify({
        "os_masakari_api:extensions:index": "role:member",
        "os_masakari_api:segments:discoverable": "role:member",
      }),
    });
    const list = await custom("GET", "/v1/extensions", as(MEMBER));
    expect(list.status).toBe(200);
    // versions is discoverable by anyone (@), segments by the override.
    expect(list.json.extensions.map((e: { alias: string }) => e.alias)).toEqual(["segments", "versions"]);
  });

  it("rule:admin_or_owner lets a caller act on its own project (project_id:%(project_id)s)", async () => {
    const custom = appWith({
      ...KEYSTONE_SETTINGS,
      POLICY: JSON.stringify({ "os_masakari_api:segments:index": "rule:admin_or_owner" }),
    });
    const member = await custom("GET", "/v1/segments", as(MEMBER));
    expect({ status: member.status, headers: v1Headers(member) }).toEqual({ status: 200, headers: successHeaders() });
    expect((await custom("GET", `/v1/${"d".repeat(32)}/segments`, as(MEMBER))).status).toBe(200);
    expect((await custom("GET", "/v1/segments", as(ADMIN))).status).toBe(200);
  });

  it("project_id and role checks see the token's project and roles", async () => {
    const custom = appWith({
      ...KEYSTONE_SETTINGS,
      POLICY: JSON.stringify({ "os_masakari_api:segments:index": `project_id:${"d".repeat(32)} and role:member` }),
    });
    expect((await custom("GET", "/v1/segments", as(MEMBER))).status).toBe(200);
    // role-member-* has the member role in project eeee...: wrong project.
    expect((await custom("GET", "/v1/segments", as(token("role-member")))).status).toBe(403);
    // admin-* is in project aaaa...: wrong project, admin or not.
    expect((await custom("GET", "/v1/segments", as(ADMIN))).status).toBe(403);
  });

  it("user_id checks see the token's user", async () => {
    const custom = appWith({
      ...KEYSTONE_SETTINGS,
      POLICY: JSON.stringify({ "os_masakari_api:notifications:index": "user_id:u-member" }),
    });
    expect((await custom("GET", "/v1/notifications", as(MEMBER))).status).toBe(200);
    expect((await custom("GET", "/v1/notifications", as(ADMIN))).status).toBe(403);
  });

  it("admin_api overridden: a role becomes admin for every admin-only policy", async () => {
    const custom = appWith({
      ...KEYSTONE_SETTINGS,
      POLICY: JSON.stringify({ admin_api: "is_admin:True or role:ha_operator" }),
    });
    const operator = token("role-ha_operator");
    expect((await custom("POST", "/v1/segments", as(operator, { body: segmentBody() }))).status).toBe(202);
    expect((await custom("GET", "/v1/notifications", as(operator))).status).toBe(200);
    const extensions = (await custom("GET", "/v1/extensions", as(operator))).json.extensions;
    expect(extensions.map((e: { alias: string }) => e.alias)).toEqual(EVERY_EXTENSION);
    expect((await custom("GET", "/v1/segments", as(MEMBER))).status).toBe(403);
  });

  it("context_is_admin overridden: is_admin follows it", async () => {
    const custom = appWith({ ...KEYSTONE_SETTINGS, POLICY: JSON.stringify({ context_is_admin: "role:ha_operator" }) });
    expect((await custom("GET", "/v1/segments", as(token("role-ha_operator")))).status).toBe(200);
    // The admin role alone no longer makes an admin.
    const admin = await custom("GET", "/v1/segments", as(token("admin")));
    expect([admin.status, admin.json]).toEqual([403, denied("os_masakari_api:segments:index")]);
  });
});
