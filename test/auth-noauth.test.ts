import { describe, expect, it } from "vitest";
import {
  appWith,
  type Exchange,
  expectFault,
  expectList,
  fakeCalls,
  fault,
  get,
  holdRecoveries,
  KEYSTONE_SETTINGS,
  post,
  successHeaders,
  unique,
  v1Headers,
} from "./helpers";

holdRecoveries();

// D8, AUTH_STRATEGY=noauth2 (the Worker's configuration in the tests, as
// wrangler.toml sets it): upstream master's noauth2. Nothing is validated,
// every caller is admin, and user, project and roles come from the standard
// identity headers (oslo.context's from_environ; docs/upstream.md,
// "Authentication").

const HEX = "0123456789abcdef0123456789abcdef";
const OTHER = "fedcba9876543210fedcba9876543210";

function expectMismatch(res: Exchange, url: string, context: string) {
  expectFault(
    res,
    400,
    "badRequest",
    `Malformed request URL: URL's project_id '${url}' doesn't match Context's project_id '${context}'`,
  );
}

describe("D8: noauth2 makes every caller admin", () => {
  it.each([
    ["no identity headers", {}],
    ["a garbage token", { "X-Auth-Token": "not-a-token" }],
    ["a Keystone-looking member token", { "X-Auth-Token": "member-1234" }],
    ["X-Roles: member", { "X-Roles": "member" }],
    ["X-Roles: reader and a user and project", { "X-Roles": "reader", "X-User-Id": "bob", "X-Project-Id": "p1" }],
    ["X-Is-Admin: False", { "X-Is-Admin": "False" }],
  ])("%s: lists, creates and sees every extension", async (_what, headers: Record<string, string>) => {
    expectList(await get("/v1/segments", { headers }), "segments", expect.any(Array));

    const name = unique("na-seg");
    const created = await post(
      "/v1/segments",
      { segment: { name, recovery_method: "auto", service_type: "COMPUTE" } },
      { headers },
    );
    expect({ status: created.status, headers: v1Headers(created), name: created.json?.segment?.name }).toEqual({
      status: 202,
      headers: successHeaders(),
      name,
    });

    // Upstream master's six extensions and ours: D21-D24's four (README.md,
    // "Where we differ from Masakari", rows D21-D24) and os-notification-events
    // (docs/console.md), sorted by alias.
    const extensions = await get("/v1/extensions", { headers });
    expect(extensions.json.extensions.map((e: { alias: string }) => e.alias)).toEqual([
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
  });

  it("exchange #13: a garbage token with non-admin user headers lists segments", async () => {
    expectList(
      await get("/v1/segments", {
        headers: { "X-Auth-Token": "not-a-token", "X-User-Id": "bob", "X-Roles": "member" },
      }),
      "segments",
      expect.any(Array),
    );
  });

  it("no token is ever sent to Keystone", async () => {
    const t = `admin-${crypto.randomUUID()}`;
    expectList(await get("/v1/segments", { headers: { "X-Auth-Token": t } }), "segments", expect.any(Array));
    expect(await fakeCalls(`keystone:${t}`)).toBe(0);
  });

  it("no 401 and no WWW-Authenticate, whatever is sent", async () => {
    for (const path of ["/v1", "/v1/segments", "/v1/notifications"]) {
      const res = await get(path, { headers: { "X-Auth-Token": "expired" } });
      expect({ path, status: res.status, www: res.headers.get("www-authenticate") }).toEqual({
        path,
        status: 200,
        www: null,
      });
    }
  });

  it("an explicitly configured noauth2 app behaves the same, even with the Worker's Keystone identity set", async () => {
    // The identity is the engine's, for Nova (D14); noauth2 checks no token with it.
    const user = unique("masakari");
    const app = appWith({ ...KEYSTONE_SETTINGS, KEYSTONE_SERVICE_USER: user, AUTH_STRATEGY: "noauth2" });
    expectList(await app("GET", "/v1/segments", { headers: { "X-Roles": "member" } }), "segments", expect.any(Array));
    expect(await fakeCalls(`keystone-auth:${user}`)).toBe(0);
  });
});

describe("D8: noauth2 takes the project from the identity headers", () => {
  it("exchange #14: no project header, project URL → 400 naming 'None'", async () => {
    expectMismatch(await get(`/v1/${HEX}/segments`), HEX, "None");
  });

  it("X-Project-Id sets the project", async () => {
    expectList(await get(`/v1/${HEX}/segments`, { headers: { "X-Project-Id": HEX } }), "segments", expect.any(Array));
  });

  it("X-Tenant-Id sets the project", async () => {
    expectList(await get(`/v1/${HEX}/segments`, { headers: { "X-Tenant-Id": HEX } }), "segments", expect.any(Array));
  });

  it("X-Tenant sets the project", async () => {
    expectList(await get(`/v1/${HEX}/segments`, { headers: { "X-Tenant": HEX } }), "segments", expect.any(Array));
  });

  it("a different project is 400, naming both", async () => {
    expectMismatch(await get(`/v1/${HEX}/segments`, { headers: { "X-Project-Id": OTHER } }), HEX, OTHER);
    expectMismatch(await get(`/v1/${HEX}/segments`, { headers: { "X-Tenant-Id": OTHER } }), HEX, OTHER);
    expectMismatch(await get(`/v1/${HEX}/segments`, { headers: { "X-Project-Id": "p1" } }), HEX, "p1");
  });

  it("X-Project-Id comes before X-Tenant-Id, which comes before X-Tenant", async () => {
    const both = { "X-Project-Id": HEX, "X-Tenant-Id": OTHER, "X-Tenant": OTHER };
    expectList(await get(`/v1/${HEX}/segments`, { headers: both }), "segments", expect.any(Array));
    expectMismatch(await get(`/v1/${OTHER}/segments`, { headers: both }), OTHER, HEX);
    const tenants = { "X-Tenant-Id": HEX, "X-Tenant": OTHER };
    expectList(await get(`/v1/${HEX}/segments`, { headers: tenants }), "segments", expect.any(Array));
    expectMismatch(await get(`/v1/${OTHER}/segments`, { headers: tenants }), OTHER, HEX);
  });

  it("X-Auth-Token is not read as user:project (unlike Nova)", async () => {
    expectMismatch(await get(`/v1/${HEX}/segments`, { headers: { "X-Auth-Token": `admin:${HEX}` } }), HEX, "None");
  });

  it("the project check holds for writes too, before the body schema", async () => {
    const res = await post(`/v1/${HEX}/segments`, { segment: {} }, { headers: { "X-Project-Id": OTHER } });
    expectMismatch(res, HEX, OTHER);
    const ok = await post(
      `/v1/${HEX}/segments`,
      { segment: { name: unique("na-proj"), recovery_method: "auto", service_type: "COMPUTE" } },
      { headers: { "X-Project-Id": HEX } },
    );
    expect(ok.status).toBe(202);
  });

  it("garbage in X-Service-Catalog is ignored", async () => {
    for (const catalog of ["not json", "{", '{"a": 1}', "[]"]) {
      expectList(
        await get(`/v1/${HEX}/segments`, { headers: { "X-Project-Id": HEX, "X-Service-Catalog": catalog } }),
        "segments",
        expect.any(Array),
      );
    }
  });
});

describe("D8: noauth2 takes the user and roles from the identity headers", () => {
  // Observable through a policy override: the context is admin, so rules are
  // written to look at user_id and roles alone.
  const byUser = appWith({
    AUTH_STRATEGY: "noauth2",
    POLICY: JSON.stringify({ "os_masakari_api:segments:index": "user_id:bob" }),
  });
  const byRole = appWith({
    AUTH_STRATEGY: "noauth2",
    POLICY: JSON.stringify({ "os_masakari_api:segments:index": "role:ops" }),
  });
  const deniedIndex = fault("forbidden", 403, "Policy doesn't allow os_masakari_api:segments:index to be performed.");

  it("X-User-Id sets the user", async () => {
    expectList(await byUser("GET", "/v1/segments", { headers: { "X-User-Id": "bob" } }), "segments", expect.any(Array));
    const alice = await byUser("GET", "/v1/segments", { headers: { "X-User-Id": "alice" } });
    expect([alice.status, alice.json]).toEqual([403, deniedIndex]);
  });

  it("X-User sets the user when X-User-Id is absent", async () => {
    expectList(await byUser("GET", "/v1/segments", { headers: { "X-User": "bob" } }), "segments", expect.any(Array));
    const both = await byUser("GET", "/v1/segments", { headers: { "X-User-Id": "alice", "X-User": "bob" } });
    expect([both.status, both.json]).toEqual([403, deniedIndex]);
  });

  it("no user header: no user", async () => {
    const res = await byUser("GET", "/v1/segments");
    expect([res.status, res.json]).toEqual([403, deniedIndex]);
  });

  it("X-Roles sets the roles, comma-separated", async () => {
    expectList(await byRole("GET", "/v1/segments", { headers: { "X-Roles": "ops" } }), "segments", expect.any(Array));
    expectList(
      await byRole("GET", "/v1/segments", { headers: { "X-Roles": "member, OPS" } }),
      "segments",
      expect.any(Array),
    );
    const res = await byRole("GET", "/v1/segments", { headers: { "X-Roles": "member,reader" } });
    expect([res.status, res.json]).toEqual([403, deniedIndex]);
  });

  it("the admin role is not needed: is_admin is always true", async () => {
    const app = appWith({
      AUTH_STRATEGY: "noauth2",
      POLICY: JSON.stringify({ "os_masakari_api:segments:index": "is_admin:True" }),
    });
    expectList(await app("GET", "/v1/segments", { headers: { "X-Roles": "member" } }), "segments", expect.any(Array));
  });
});
