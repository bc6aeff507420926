import { describe, expect, it } from "vitest";
import { appWith, fault, ORIGIN, sql, unique } from "./helpers";

// Secure by default: wrangler.toml deploys AUTH_STRATEGY=keystone, and a
// Worker without its Keystone identity (KEYSTONE_URL and an application
// credential or service user) refuses every /v1 request with the
// configuration error instead of serving the API open. The public
// documents stay up.

/** No Keystone identity at all (the tests' Worker has one, for the engine). */
const NO_IDENTITY = {
  KEYSTONE_URL: "",
  KEYSTONE_SERVICE_USER: "",
  KEYSTONE_SERVICE_PASSWORD: "",
  KEYSTONE_SERVICE_PROJECT: "",
};
const unconfigured = appWith({ AUTH_STRATEGY: "keystone", ...NO_IDENTITY });
const NEEDS =
  "masakari-edge configuration: AUTH_STRATEGY=keystone needs KEYSTONE_URL and the Worker's own identity: KEYSTONE_APPLICATION_CREDENTIAL_ID and _SECRET, or KEYSTONE_SERVICE_USER, _PASSWORD and _PROJECT";

describe("keystone without the Worker's identity", () => {
  it.each([
    ["GET", "/v1"],
    ["GET", "/v1/segments"],
    ["GET", "/v1/notifications"],
    ["GET", "/v1/nothing-here"],
  ])("%s %s is a 500 naming what is missing, with a request id", async (method, path) => {
    const res = await unconfigured(method, path, { headers: { "X-Roles": "admin" } });
    expect({
      status: res.status,
      body: res.json,
      requestId: /^req-/.test(res.headers.get("x-openstack-request-id") ?? ""),
    }).toEqual({ status: 500, body: fault("masakariFault", 500, NEEDS), requestId: true });
  });

  it("a segment create is refused and writes nothing", async () => {
    const name = unique("open");
    const res = await unconfigured("POST", "/v1/segments", {
      body: { segment: { name, recovery_method: "auto", service_type: "COMPUTE" } },
    });
    expect([res.status, res.json]).toEqual([500, fault("masakariFault", 500, NEEDS)]);
    expect(await sql("SELECT id FROM failover_segments WHERE name = ?", name)).toEqual([]);
  });

  it("half a service user names what is missing", async () => {
    const app = appWith({
      AUTH_STRATEGY: "keystone",
      ...NO_IDENTITY,
      KEYSTONE_URL: "http://keystone.test",
      KEYSTONE_SERVICE_USER: "u",
    });
    const res = await app("GET", "/v1/segments");
    expect(res.status).toBe(500);
    expect(res.json.masakariFault.message).toContain("KEYSTONE_SERVICE_USER, _PASSWORD and _PROJECT");
  });

  it("the versions document and the healthcheck stay public", async () => {
    const root = await unconfigured("GET", "/");
    expect([root.status, root.json.versions[0].links[0].href]).toEqual([200, `${ORIGIN}/v1/`]);
    const health = await unconfigured("GET", "/healthcheck");
    expect([health.status, health.text]).toEqual([200, "OK"]);
  });
});
