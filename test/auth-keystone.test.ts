import { describe, expect, it } from "vitest";
import {
  appWith,
  type CallOptions,
  type Exchange,
  fakeCalls,
  fault,
  faultHeaders,
  holdRecoveries,
  KEYSTONE_SETTINGS,
  sql,
  successHeaders,
  unique,
  v1Headers,
} from "./helpers";

holdRecoveries();

// D8, AUTH_STRATEGY=keystone: X-Auth-Token is validated against Keystone
// (the fake in test/fakes/openstack.mjs), as keystonemiddleware's auth_token
// would in front of upstream Masakari. Every test uses tokens of its own:
// validations are cached.

const APPCRED = {
  AUTH_STRATEGY: "keystone",
  KEYSTONE_URL: "http://keystone.test",
  KEYSTONE_APPLICATION_CREDENTIAL_ID: "appcred-id",
  KEYSTONE_APPLICATION_CREDENTIAL_SECRET: "appcred-secret",
  KEYSTONE_TIMEOUT_MS: "300",
};

const ADMIN_PROJECT = "a".repeat(32);
const MEMBER_PROJECT = "d".repeat(32);
const OTHER_PROJECT = "0123456789abcdef0123456789abcdef";

const app = appWith(KEYSTONE_SETTINGS);

/** A token the fake Keystone reads by its prefix, unique to the caller. */
const token = (prefix: string) => `${prefix}-${crypto.randomUUID()}`;
const withToken = (value: string, options: CallOptions = {}): CallOptions => ({
  ...options,
  headers: { ...options.headers, "X-Auth-Token": value },
});

const UNAUTHORIZED_TEXT =
  '{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}';

/** keystonemiddleware's 401, with no microversion headers. */
function expectUnauthorized(res: Exchange) {
  expect({
    status: res.status,
    body: res.json,
    text: res.text,
    wwwAuthenticate: res.headers.get("www-authenticate"),
    contentType: res.headers.get("content-type"),
    version: res.headers.get("openstack-api-version"),
  }).toEqual({
    status: 401,
    body: {
      error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." },
    },
    text: UNAUTHORIZED_TEXT,
    wwwAuthenticate: 'Keystone uri="http://keystone.test"',
    contentType: expect.stringMatching(/^application\/json/),
    version: null,
  });
}

/** The identity service could not be asked: 503, never 401 or 500. */
function expectUnavailable(res: Exchange) {
  expect({ status: res.status, body: res.json, contentType: res.headers.get("content-type") }).toEqual({
    status: 503,
    body: { serviceUnavailable: { code: 503, message: expect.any(String) } },
    contentType: "application/json; charset=UTF-8",
  });
}

const segmentBody = () => ({ segment: { name: unique("ks-seg"), recovery_method: "auto", service_type: "COMPUTE" } });

describe("D8: requests without a valid token", () => {
  it.each([
    ["GET", "/v1/segments"],
    ["GET", "/v1"],
    ["GET", "/v1/"],
    ["GET", "/v1/extensions"],
    ["POST", "/v1/segments"],
    ["DELETE", `/v1/segments/${crypto.randomUUID()}`],
    ["GET", `/v1/${ADMIN_PROJECT}/segments`],
    ["GET", "/v1/no-such-route"],
  ])("D8: %s %s without X-Auth-Token is 401", async (method, path) => {
    expectUnauthorized(await app(method, path, method === "POST" ? { body: segmentBody() } : {}));
  });

  it("D8: no 401 carries a microversion header, even when one was asked for", async () => {
    expectUnauthorized(await app("GET", "/v1/segments", { version: "1.2" }));
    expectUnauthorized(await app("GET", "/v1/segments", withToken(token("garbage"), { version: "1.2" })));
  });

  it("D8: an empty X-Auth-Token is 401", async () => {
    expectUnauthorized(await app("GET", "/v1/segments", withToken("")));
  });

  it("D8: a token Keystone does not know is 401", async () => {
    const garbage = token("garbage");
    expectUnauthorized(await app("GET", "/v1/segments", withToken(garbage)));
    expect(await fakeCalls(`keystone:${garbage}`)).toBe(1);
  });

  it("D8: an expired token is 401, although Keystone answers 200 for it", async () => {
    const past = token("past");
    expectUnauthorized(await app("GET", "/v1/segments", withToken(past)));
    expectUnauthorized(await app("GET", "/v1", withToken(past)));
  });

  it("D8: a rejected write stores nothing", async () => {
    const body = segmentBody();
    expectUnauthorized(await app("POST", "/v1/segments", { body }));
    expectUnauthorized(await app("POST", "/v1/segments", withToken(token("garbage"), { body })));
    expect(await sql("SELECT * FROM failover_segments WHERE name = ?", body.segment.name)).toEqual([]);
  });
});

describe("D8: what needs a token", () => {
  it("D8: GET / needs no token", async () => {
    const res = await app("GET", "/");
    expect(res.status).toBe(200);
    expect(res.json.versions[0]).toMatchObject({ id: "v1.0", status: "CURRENT" });
  });

  it("D8: GET /healthcheck needs no token", async () => {
    const res = await app("GET", "/healthcheck");
    expect([res.status, res.text]).toEqual([200, "OK"]);
  });

  it("D8: other paths outside /v1 need no token (300 multiple choices)", async () => {
    const res = await app("GET", "/v2");
    expect(res.status).toBe(300);
    expect(res.json.choices[0].id).toBe("v1.0");
  });

  it("D8: GET /v1 needs a token, but no policy: any valid token reads it", async () => {
    expectUnauthorized(await app("GET", "/v1"));
    for (const prefix of ["admin", "member", "unscoped", "role-reader"]) {
      const res = await app("GET", "/v1", withToken(token(prefix)));
      expect({ prefix, status: res.status, headers: v1Headers(res) }).toEqual({
        prefix,
        status: 200,
        headers: successHeaders(),
      });
      expect(res.json.version).toMatchObject({ id: "v1.0", version: "1.3", min_version: "1.0" });
    }
  });
});

describe("D8: an admin token", () => {
  it("D8: reads and writes every resource", async () => {
    const admin = withToken(token("admin"));
    const created = await app("POST", "/v1/segments", { ...admin, body: segmentBody() });
    expect({ status: created.status, headers: v1Headers(created) }).toEqual({
      status: 202,
      headers: successHeaders(),
    });
    const segment = created.json.segment.uuid;

    expect((await app("GET", "/v1/segments", admin)).status).toBe(200);
    expect((await app("GET", `/v1/segments/${segment}`, admin)).json.segment.uuid).toBe(segment);
    const updated = await app("PUT", `/v1/segments/${segment}`, {
      ...admin,
      body: { segment: { description: "by admin" } },
    });
    expect([updated.status, updated.json.segment.description]).toEqual([200, "by admin"]);

    const host = await app("POST", `/v1/segments/${segment}/hosts`, {
      ...admin,
      body: { host: { name: unique("ks-host"), type: "COMPUTE", control_attributes: "ssh" } },
    });
    expect(host.status).toBe(201);
    const hostUuid = host.json.host.uuid;
    expect((await app("GET", `/v1/segments/${segment}/hosts`, admin)).json.hosts).toHaveLength(1);
    expect((await app("GET", `/v1/segments/${segment}/hosts/${hostUuid}`, admin)).status).toBe(200);
    expect(
      (await app("PUT", `/v1/segments/${segment}/hosts/${hostUuid}`, { ...admin, body: { host: { reserved: true } } }))
        .status,
    ).toBe(200);

    const notification = await app("POST", "/v1/notifications", {
      ...admin,
      body: {
        notification: {
          type: "COMPUTE_HOST",
          hostname: host.json.host.name,
          generated_time: "2026-01-01T10:00:00",
          payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "ONLINE" },
        },
      },
    });
    expect(notification.status).toBe(202);
    const notificationUuid = notification.json.notification.notification_uuid;
    expect((await app("GET", "/v1/notifications", admin)).status).toBe(200);
    expect((await app("GET", `/v1/notifications/${notificationUuid}`, admin)).status).toBe(200);
    expect((await app("GET", `/v1/notifications/${notificationUuid}/vmoves`, admin)).json).toEqual({ vmoves: [] });
    // Upstream master's six and ours: D21-D24's four (README.md, rows D21-D24)
    // and os-notification-events (docs/console.md).
    expect((await app("GET", "/v1/extensions", admin)).json.extensions.map((e: { alias: string }) => e.alias)).toEqual([
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
    ]);
    expect((await app("GET", "/v1/extensions/segments", admin)).status).toBe(200);

    // The notification (status new) keeps the segment in use; a second,
    // idle segment can be deleted.
    const idle = await app("POST", "/v1/segments", { ...admin, body: segmentBody() });
    const deleted = await app("DELETE", `/v1/segments/${idle.json.segment.uuid}`, admin);
    expect([deleted.status, deleted.text]).toEqual([204, ""]);
  });

  it("D8: the admin role decides, in any case (role-admin-*, role-ADMIN-*)", async () => {
    for (const prefix of ["role-admin", "role-ADMIN", "role-Admin"]) {
      const res = await app("GET", "/v1/segments", withToken(token(prefix)));
      expect({ prefix, status: res.status, headers: v1Headers(res) }).toEqual({
        prefix,
        status: 200,
        headers: successHeaders(),
      });
    }
  });

  it("D8: any other role is not admin", async () => {
    for (const prefix of ["role-reader", "role-administrator", "member", "unscoped"]) {
      const res = await app("GET", "/v1/segments", withToken(token(prefix)));
      expect({ prefix, status: res.status, body: res.json, headers: v1Headers(res) }).toEqual({
        prefix,
        status: 403,
        body: fault("forbidden", 403, "Policy doesn't allow os_masakari_api:segments:index to be performed."),
        headers: faultHeaders(),
      });
    }
  });

  it("D8: identity headers sent by the caller are ignored", async () => {
    const member = token("member");
    const res = await app(
      "GET",
      "/v1/segments",
      withToken(member, { headers: { "X-Roles": "admin", "X-Is-Admin": "True", "X-Project-Id": ADMIN_PROJECT } }),
    );
    expect([res.status, res.json]).toEqual([
      403,
      fault("forbidden", 403, "Policy doesn't allow os_masakari_api:segments:index to be performed."),
    ]);
    const spoofed = await app(
      "GET",
      `/v1/${ADMIN_PROJECT}/segments`,
      withToken(member, { headers: { "X-Project-Id": ADMIN_PROJECT, "X-Tenant-Id": ADMIN_PROJECT } }),
    );
    expect([spoofed.status, spoofed.json]).toEqual([
      400,
      fault(
        "badRequest",
        400,
        `Malformed request URL: URL's project_id '${ADMIN_PROJECT}' doesn't match Context's project_id '${MEMBER_PROJECT}'`,
      ),
    ]);
  });
});

describe("D8: the project of /v1/{project_id}/... is the token's", () => {
  it("D8: the token's own project is accepted", async () => {
    const res = await app("GET", `/v1/${ADMIN_PROJECT}/segments`, withToken(token("admin")));
    expect({ status: res.status, headers: v1Headers(res) }).toEqual({ status: 200, headers: successHeaders() });
    expect(res.json).toEqual({ segments: expect.any(Array) });
  });

  it("D8: another project is 400, naming both", async () => {
    const res = await app("GET", `/v1/${OTHER_PROJECT}/segments`, withToken(token("admin")));
    expect({ status: res.status, body: res.json, headers: v1Headers(res) }).toEqual({
      status: 400,
      body: fault(
        "badRequest",
        400,
        `Malformed request URL: URL's project_id '${OTHER_PROJECT}' doesn't match Context's project_id '${ADMIN_PROJECT}'`,
      ),
      headers: faultHeaders(),
    });
  });

  it("D8: an unscoped token has project None", async () => {
    const res = await app("GET", `/v1/${OTHER_PROJECT}/segments`, withToken(token("unscoped")));
    expect({ status: res.status, body: res.json, headers: v1Headers(res) }).toEqual({
      status: 400,
      body: fault(
        "badRequest",
        400,
        `Malformed request URL: URL's project_id '${OTHER_PROJECT}' doesn't match Context's project_id 'None'`,
      ),
      headers: faultHeaders(),
    });
  });

  it("D8: the project check comes before policy (non-admin, wrong project: 400)", async () => {
    const res = await app("GET", `/v1/${OTHER_PROJECT}/segments`, withToken(token("member")));
    expect([res.status, res.json]).toEqual([
      400,
      fault(
        "badRequest",
        400,
        `Malformed request URL: URL's project_id '${OTHER_PROJECT}' doesn't match Context's project_id '${MEMBER_PROJECT}'`,
      ),
    ]);
  });
});

describe("D8: Keystone failing", () => {
  it("D8: Keystone answering 500 is 503, and the failure is not cached", async () => {
    const broken = token("error");
    expectUnavailable(await app("GET", "/v1/segments", withToken(broken)));
    expectUnavailable(await app("GET", "/v1", withToken(broken)));
    expect(await fakeCalls(`keystone:${broken}`)).toBe(2);
  });

  it("D8: Keystone not answering is 503 within KEYSTONE_TIMEOUT_MS", async () => {
    const slow = token("slow");
    const started = Date.now();
    const res = await app("GET", "/v1/segments", withToken(slow));
    const elapsed = Date.now() - started;
    expectUnavailable(res);
    expect(elapsed).toBeLessThan(2000);
    expect(await fakeCalls(`keystone:${slow}`)).toBe(1);
  });

  it("D8: a wrong service password is 503: nothing can be validated", async () => {
    const wrong = appWith({ ...KEYSTONE_SETTINGS, KEYSTONE_SERVICE_PASSWORD: "wrong-secret" });
    const admin = token("admin");
    const res = await wrong("GET", "/v1/segments", withToken(admin));
    expectUnavailable(res);
    expect(res.text).not.toContain("wrong-secret");
    // The Worker never got as far as asking about the caller's token.
    expect(await fakeCalls(`keystone:${admin}`)).toBe(0);
  });

  it("D8: a wrong application credential is 503", async () => {
    const wrong = appWith({ ...APPCRED, KEYSTONE_APPLICATION_CREDENTIAL_SECRET: "nope" });
    expectUnavailable(await wrong("GET", "/v1/segments", withToken(token("admin"))));
  });

  it("D8: the service's token rejected once: it logs in again and the request goes on", async () => {
    // Its own service user, so logins of other tests running at once don't count.
    const user = `masakari-${crypto.randomUUID()}`;
    const fresh = appWith({ ...KEYSTONE_SETTINGS, KEYSTONE_SERVICE_USER: user });
    const reauth = token("reauth");
    const logins = await fakeCalls(`keystone-auth:${user}`);
    const res = await fresh("GET", "/v1/segments", withToken(reauth));
    const after = await fakeCalls(`keystone-auth:${user}`);
    // reauth-* ends as a member: authenticated, then refused by policy.
    expect({ status: res.status, body: res.json, headers: v1Headers(res) }).toEqual({
      status: 403,
      body: fault("forbidden", 403, "Policy doesn't allow os_masakari_api:segments:index to be performed."),
      headers: faultHeaders(),
    });
    expect(await fakeCalls(`keystone:${reauth}`)).toBe(2);
    expect(after - logins).toBe(2);
    // Then it is cached like any other validation.
    expect((await fresh("GET", "/v1", withToken(reauth))).status).toBe(200);
    expect(await fakeCalls(`keystone:${reauth}`)).toBe(2);
  });
});

describe("D8: the service's own login", () => {
  it("D8: the service logs in once for many validations", async () => {
    const user = `masakari-${crypto.randomUUID()}`;
    const fresh = appWith({ ...KEYSTONE_SETTINGS, KEYSTONE_SERVICE_USER: user });
    const tokens = [token("admin"), token("member"), token("role-ops"), token("admin")];
    const before = await fakeCalls(`keystone-auth:${user}`);
    for (const t of tokens) expect((await fresh("GET", "/v1", withToken(t))).status).toBe(200);
    const after = await fakeCalls(`keystone-auth:${user}`);
    expect(after - before).toBe(1);
    for (const t of tokens) expect(await fakeCalls(`keystone:${t}`)).toBe(1);
  });

  it("D8: an application credential logs in", async () => {
    const appcred = appWith(APPCRED);
    const admin = token("admin");
    const res = await appcred("GET", "/v1/segments", withToken(admin));
    expect({ status: res.status, headers: v1Headers(res) }).toEqual({ status: 200, headers: successHeaders() });
    expect(await fakeCalls(`keystone:${admin}`)).toBe(1);
    expect((await appcred("GET", "/v1/segments", withToken(token("member")))).status).toBe(403);
    expectUnauthorized(await appcred("GET", "/v1/segments", withToken(token("garbage"))));
  });
});

describe("D8: the validation cache", () => {
  it("D8: the same token twice asks Keystone once", async () => {
    const admin = token("admin");
    expect((await app("GET", "/v1/segments", withToken(admin))).status).toBe(200);
    expect((await app("GET", "/v1/extensions", withToken(admin))).status).toBe(200);
    expect(await fakeCalls(`keystone:${admin}`)).toBe(1);
  });

  it("D8: a refused token is refused again", async () => {
    const garbage = token("garbage");
    expectUnauthorized(await app("GET", "/v1", withToken(garbage)));
    expectUnauthorized(await app("GET", "/v1", withToken(garbage)));
  });

  it("D8: TOKEN_CACHE_SECONDS=0 asks Keystone every time", async () => {
    const uncached = appWith({ ...KEYSTONE_SETTINGS, TOKEN_CACHE_SECONDS: "0" });
    const admin = token("admin");
    expect((await uncached("GET", "/v1/segments", withToken(admin))).status).toBe(200);
    expect((await uncached("GET", "/v1/segments", withToken(admin))).status).toBe(200);
    expect(await fakeCalls(`keystone:${admin}`)).toBe(2);
  });

  it("D8: a validation is not reused past the token's expiry", async () => {
    // soon-* expires 2 s after each validation; Keystone then validates it again.
    const soon = token("soon");
    expect((await app("GET", "/v1", withToken(soon))).status).toBe(200);
    expect((await app("GET", "/v1", withToken(soon))).status).toBe(200);
    expect(await fakeCalls(`keystone:${soon}`)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 2200));
    expect((await app("GET", "/v1", withToken(soon))).status).toBe(200);
    expect(await fakeCalls(`keystone:${soon}`)).toBe(2);
  });
});

describe("D8: the token stays secret", () => {
  it("D8: no response echoes the caller's token, in its body or its headers", async () => {
    const exchanges: [string, Exchange][] = [];
    const record = async (t: string, method: string, path: string, options: CallOptions = {}) => {
      exchanges.push([t, await app(method, path, withToken(t, options))]);
    };
    const admin = token("admin");
    await record(admin, "GET", "/v1/segments");
    await record(admin, "GET", "/v1");
    await record(admin, "POST", "/v1/segments", { body: segmentBody() });
    await record(admin, "POST", "/v1/segments", { body: { segment: {} } });
    await record(admin, "GET", `/v1/${OTHER_PROJECT}/segments`);
    await record(admin, "GET", "/v1/segments", { version: "9.9" });
    await record(token("member"), "GET", "/v1/segments");
    await record(token("garbage"), "GET", "/v1/segments");
    await record(token("past"), "GET", "/v1/segments");
    await record(token("error"), "GET", "/v1/segments");
    await record(token("slow"), "GET", "/v1/segments");
    await record(token("unscoped"), "GET", `/v1/${OTHER_PROJECT}/segments`);
    const statuses = exchanges.map(([, res]) => res.status);
    expect(statuses).toEqual([200, 200, 202, 400, 400, 406, 403, 401, 401, 503, 503, 400]);
    for (const [t, res] of exchanges) {
      const id = t.slice(-36); // the token's random part
      expect(res.text).not.toContain(id);
      for (const [name, value] of res.headers) expect(`${name}: ${value}`).not.toContain(id);
    }
  });
});
