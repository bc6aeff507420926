import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { policies } from "../src/policy";
import {
  type CallOptions,
  call,
  createHost,
  createSegment,
  type Exchange,
  fakeCalls,
  holdRecoveries,
  KEYSTONE_SETTINGS,
  sql,
  unique,
} from "./helpers";

holdRecoveries();

// The web console's API (src/console/api.ts; docs/console.md): its session
// under both strategies, the cookie, the CSRF and origin checks, /v1
// through the console giving the API's own answers, policy as the API
// applies it, and the demo route. Keystone is the fake of
// test/fakes/openstack.mjs: it signs in any "masakari-*" user with
// "masakari-secret" on project "service", and validates tokens by their
// prefix (admin-*, member-*, role-R-*), so the proxy's tests put such a
// token in the cookie themselves.

const ORIGIN = "http://masakari.test";
const COOKIE = "__Secure-masakari-console";
const V13 = { "OpenStack-API-Version": "instance-ha 1.3" };

type Settings = Partial<Record<string, string>>;

/** A console request through an app built with `settings`. */
function consoleWith(settings: Settings) {
  const app = createApp(loadConfig({ ...env, ...settings }));
  return (method: string, path: string, options: CallOptions = {}): Promise<Exchange> =>
    call(method, path, options, (request) => app.fetch(request, env));
}

const noauth = consoleWith({});
const keystone = consoleWith(KEYSTONE_SETTINGS);

/** The cookie a session with `token` carries (the shape src/console/session.ts writes). */
function cookieFor(token: string, names = { u: "someone", p: "some-project", d: "Default" }) {
  const json = JSON.stringify({ t: token, ...names });
  const value = btoa(json).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${COOKIE}=${value}`;
}

const tokenOf = (prefix: string) => `${prefix}-${crypto.randomUUID()}`;

/** The headers of a state-changing request from the console's own page. */
async function fromPage(client: typeof noauth, cookie?: string): Promise<Record<string, string>> {
  const session = await client("GET", "/console/api/session", { headers: cookie ? { cookie } : {} });
  return {
    origin: ORIGIN,
    "sec-fetch-site": "same-origin",
    "x-console-csrf": session.json.csrf_token,
    ...(cookie ? { cookie } : {}),
  };
}

/** What must be equal between the API's answer and the console's: all but the per-request headers. */
function answer(res: Exchange) {
  const headers = Object.fromEntries(
    [...res.headers].filter(([name]) => !["x-openstack-request-id", "x-d1-bookmark"].includes(name)),
  );
  return { status: res.status, headers, text: res.text };
}

const segmentBody = () => ({ segment: { name: unique("console"), recovery_method: "auto", service_type: "COMPUTE" } });

describe("the session under noauth2", () => {
  it("GET /console/api/session: no sign-in needed, an admin's permissions, a CSRF token, demo off", async () => {
    const res = await noauth("GET", "/console/api/session");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.json).toMatchObject({ auth_strategy: "noauth2", demo: false, signed_in: true, roles: [] });
    expect(res.json.csrf_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Object.values(res.json.permissions).every((v) => v === true)).toBe(true);
    expect(res.json.permissions[policies.segments.create]).toBe(true);
    expect(res.json.permissions[policies.events.index]).toBe(true);
  });

  it("there is no sign-in or sign-out: POST and DELETE /console/api/session are 404", async () => {
    const headers = await fromPage(noauth);
    for (const method of ["POST", "DELETE"]) {
      const res = await noauth(method, "/console/api/session", { headers, body: {} });
      expect([res.status, Object.keys(res.json)]).toEqual([404, ["itemNotFound"]]);
    }
  });

  it("an unknown console path is a 404 fault, never the versions document", async () => {
    const res = await noauth("GET", "/console/api/nothing-here");
    expect([res.status, res.json]).toEqual([404, { itemNotFound: { code: 404, message: expect.any(String) } }]);
  });
});

describe("CSRF: what changes state must come from the console's page", () => {
  it("without the header, with another session's, from another origin or site, or with no Origin: 403, nothing written", async () => {
    const page = await fromPage(noauth);
    const refusals: [string, Record<string, string>, RegExp][] = [
      ["no CSRF header", { ...page, "x-console-csrf": "" }, /x-console-csrf/],
      ["a wrong CSRF token", { ...page, "x-console-csrf": "A".repeat(43) }, /x-console-csrf/],
      ["another origin", { ...page, origin: "https://evil.example" }, /origin/],
      ["no Origin", { "x-console-csrf": page["x-console-csrf"] as string }, /origin/],
      ["another site", { ...page, "sec-fetch-site": "cross-site" }, /another site/],
    ];
    for (const [what, headers, why] of refusals) {
      const body = segmentBody();
      const res = await noauth("POST", "/console/api/v1/segments", { headers, body });
      expect([what, res.status, Object.keys(res.json)]).toEqual([what, 403, ["forbidden"]]);
      expect(res.json.forbidden.message).toMatch(why);
      expect(await sql("SELECT id FROM failover_segments WHERE name = ?", body.segment.name)).toEqual([]);
    }
  });

  it("from the page: the same request is the API's 202", async () => {
    const body = segmentBody();
    const res = await noauth("POST", "/console/api/v1/segments", { headers: await fromPage(noauth), body });
    expect([res.status, res.json.segment.name]).toEqual([202, body.segment.name]);
  });

  it("GET needs no CSRF header: reading changes nothing", async () => {
    expect((await noauth("GET", "/console/api/v1/segments")).status).toBe(200);
  });
});

describe("/console/api/v1: the API's own answers", () => {
  it("lists, shows, and every fault are byte for byte the API's, at the microversion asked", async () => {
    const segment = await createSegment();
    const host = await createHost(segment.uuid);
    const page = await fromPage(noauth);
    const pairs: [string, string, CallOptions][] = [
      ["GET", `/v1/segments?limit=2&sort_key=name`, { headers: V13 }],
      ["GET", `/v1/segments/${segment.uuid}`, { headers: V13 }],
      ["GET", `/v1/segments/${segment.uuid}/hosts/${host.uuid}`, {}],
      ["GET", "/v1/segments/not-a-segment", { headers: V13 }],
      ["GET", "/v1/segments?sort_key=bogus", {}],
      ["GET", "/v1/segments", { headers: { "OpenStack-API-Version": "instance-ha 9.9" } }],
      ["GET", "/v1/no-such-route", {}],
      ["POST", "/v1/segments", { body: { segment: { name: "" } } }],
      ["POST", "/v1/segments", { raw: "{not json", headers: { "content-type": "application/json" } }],
      ["PUT", `/v1/segments/${segment.uuid}`, { body: { segment: { name: segment.name } }, headers: V13 }],
      ["DELETE", "/v1/notifications/whatever", {}],
    ];
    for (const [method, path, options] of pairs) {
      const direct = await noauth(method, path, options);
      const viaConsole = await noauth(method, `/console/api${path}`, {
        ...options,
        headers: { ...options.headers, ...(method === "GET" ? {} : page) },
      });
      expect(answer(viaConsole), `${method} ${path}`).toEqual(answer(direct));
      expect(viaConsole.headers.get("x-openstack-request-id")).toMatch(/^req-/);
    }
  });

  it("the 409 of a segment in use, as the API words it", async () => {
    const segment = await createSegment();
    const host = await createHost(segment.uuid);
    await sql(
      `INSERT INTO notifications (created_at, deleted, notification_uuid, generated_time, source_host_uuid, type, payload, status)
       VALUES ('2026-01-01 10:00:00.000000', 0, ?, '2026-01-01 10:00:00.000000', ?, 'COMPUTE_HOST', '{}', 'running')`,
      crypto.randomUUID(),
      host.uuid,
    );
    const res = await noauth("DELETE", `/console/api/v1/segments/${segment.uuid}`, {
      headers: await fromPage(noauth),
    });
    expect([res.status, res.json]).toEqual([
      409,
      {
        conflictingRequest: {
          code: 409,
          message: `Failover segment (${segment.uuid}) can't be deleted as it is in-use to process notifications.`,
        },
      },
    ]);
  });

  it("no cookie, client token or identity header of the browser's reaches the API", async () => {
    // Under keystone a client X-Auth-Token is dropped: without a cookie the API's 401 it is.
    const res = await keystone("GET", "/console/api/v1/segments", { headers: { "x-auth-token": tokenOf("admin") } });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Keystone uri="http://keystone.test"');
  });
});

describe("the session under keystone", () => {
  const user = () => `masakari-console-${crypto.randomUUID().slice(0, 8)}`;
  const signIn = (username: string, password = "masakari-secret", headers: Record<string, string> = {}) =>
    keystone("POST", "/console/api/session", {
      headers: { origin: ORIGIN, "sec-fetch-site": "same-origin", ...headers },
      body: { username, password, project: "service", domain: "Default" },
    });

  it("GET /console/api/session without a cookie: not signed in, the strategy, no token", async () => {
    const res = await keystone("GET", "/console/api/session");
    expect([res.status, res.json]).toEqual([200, { auth_strategy: "keystone", demo: false, signed_in: false }]);
  });

  it("sign-in: the Worker asks Keystone once; an HttpOnly, Secure, SameSite=Strict cookie on /console", async () => {
    const name = user();
    const res = await signIn(name);
    expect(res.status).toBe(201);
    expect(await fakeCalls(`keystone-auth:${name}`)).toBe(1);
    const cookie = res.headers.get("set-cookie") ?? "";
    const attributes = cookie.split("; ").slice(1);
    expect(cookie.startsWith(`${COOKIE}=`)).toBe(true);
    expect(attributes.slice(0, 4)).toEqual(["Path=/console", "HttpOnly", "Secure", "SameSite=Strict"]);
    // The fake's token lives an hour.
    const maxAge = Number(/^Max-Age=(\d+)$/.exec(attributes[4] ?? "")?.[1]);
    expect(maxAge).toBeGreaterThan(3500);
    expect(maxAge).toBeLessThanOrEqual(3600);
    // The token is not in the body: the page never holds it.
    expect(res.text).not.toMatch(/svc-\d+/);
    expect(res.json).toMatchObject({
      auth_strategy: "keystone",
      signed_in: true,
      user: { id: "u-masakari", name: "u-masakari" },
      project: { name: "p" },
      roles: ["admin"],
    });
    expect(res.json.csrf_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.json.permissions[policies.segments.delete]).toBe(true);
  });

  it("a wrong password is 401 with no cookie; a sign-in from another origin is 403 and never reaches Keystone", async () => {
    const name = user();
    const wrong = await signIn(name, "not-the-password");
    expect([wrong.status, wrong.headers.get("set-cookie"), wrong.json.unauthorized.message]).toEqual([
      401,
      null,
      "Keystone refused these credentials: check the user name, password, project and domain.",
    ]);
    const elsewhere = user();
    const cross = await signIn(elsewhere, "masakari-secret", { origin: "https://evil.example" });
    expect(cross.status).toBe(403);
    expect(await fakeCalls(`keystone-auth:${elsewhere}`)).toBe(0);
    const missing = await keystone("POST", "/console/api/session", {
      headers: { origin: ORIGIN },
      body: { username: "", password: "x", project: "p" },
    });
    expect([missing.status, missing.json.badRequest.message]).toEqual([
      400,
      "username must be a non-empty string of at most 255 characters.",
    ]);
  });

  it("the cookie's token is the caller: the API's answers, its 403 for a member, its 401 for no cookie", async () => {
    const admin = cookieFor(tokenOf("admin"));
    const member = cookieFor(tokenOf("member"));
    const direct = await keystone("GET", "/v1/segments", { headers: { "x-auth-token": tokenOf("admin"), ...V13 } });
    const viaConsole = await keystone("GET", "/console/api/v1/segments", { headers: { cookie: admin, ...V13 } });
    expect(answer(viaConsole)).toEqual(answer(direct));
    const denied = await keystone("GET", "/console/api/v1/segments", { headers: { cookie: member } });
    const deniedDirect = await keystone("GET", "/v1/segments", { headers: { "x-auth-token": tokenOf("member") } });
    expect(answer(denied)).toEqual(answer(deniedDirect));
    expect(denied.json.forbidden.message).toBe("Policy doesn't allow os_masakari_api:segments:index to be performed.");
    const none = await keystone("GET", "/console/api/v1/segments");
    const noneDirect = await keystone("GET", "/v1/segments");
    expect(answer(none)).toEqual(answer(noneDirect));
  });

  it("the permissions are the API's policy for this caller: defaults, and POLICY overrides", async () => {
    const member = cookieFor(tokenOf("member"));
    const info = (await keystone("GET", "/console/api/session", { headers: { cookie: member } })).json;
    expect(info).toMatchObject({
      signed_in: true,
      user: { id: "u-member", name: "someone" },
      roles: ["member", "reader"],
    });
    expect(Object.values(info.permissions).some((v) => v === true)).toBe(false);
    const operators = consoleWith({
      ...KEYSTONE_SETTINGS,
      POLICY: JSON.stringify({
        "os_masakari_api:segments:index": "role:member",
        "os_masakari_api:segments:detail": "role:member",
      }),
    });
    const allowed = (await operators("GET", "/console/api/session", { headers: { cookie: member } })).json.permissions;
    expect(Object.keys(allowed).filter((rule) => allowed[rule])).toEqual([
      policies.segments.index,
      policies.segments.detail,
    ]);
    // ...and the API agrees, rule for rule.
    const list = await operators("GET", "/console/api/v1/segments", { headers: { cookie: member } });
    const create = await operators("POST", "/console/api/v1/segments", {
      headers: await fromPage(operators, member),
      body: segmentBody(),
    });
    expect([list.status, create.status]).toEqual([200, 403]);
  });

  it("a cookie Keystone no longer knows: not signed in, and the cookie cleared", async () => {
    const res = await keystone("GET", "/console/api/session", { headers: { cookie: cookieFor("nobody-knows-this") } });
    expect([res.status, res.json.signed_in]).toEqual([200, false]);
    expect(res.headers.get("set-cookie")).toBe(
      `${COOKIE}=; Path=/console; HttpOnly; Secure; SameSite=Strict; Max-Age=0`,
    );
  });

  it("a session's CSRF token is its own: another session's is refused", async () => {
    const mine = cookieFor(tokenOf("admin"));
    const theirs = await fromPage(keystone, cookieFor(tokenOf("admin")));
    const res = await keystone("POST", "/console/api/v1/segments", {
      headers: { ...theirs, cookie: mine },
      body: segmentBody(),
    });
    expect([res.status, res.json.forbidden.message]).toEqual([
      403,
      "The console refused this request: its x-console-csrf header is missing or not this session's.",
    ]);
  });

  it("sign-out needs the CSRF token, clears the cookie and revokes the token at Keystone", async () => {
    const token = tokenOf("admin");
    const cookie = cookieFor(token);
    const refused = await keystone("DELETE", "/console/api/session", { headers: { cookie, origin: ORIGIN } });
    expect(refused.status).toBe(403);
    const headers = await fromPage(keystone, cookie);
    const before = await fakeCalls(`keystone:${token}`);
    const res = await keystone("DELETE", "/console/api/session", { headers });
    expect([res.status, res.headers.get("set-cookie")]).toEqual([
      204,
      `${COOKIE}=; Path=/console; HttpOnly; Secure; SameSite=Strict; Max-Age=0`,
    ]);
    // One DELETE /v3/auth/tokens with the token as its subject.
    expect(await fakeCalls(`keystone:${token}`)).toBe(before + 1);
  });
});

describe("demo mode: POST /console/api/demo/fail", () => {
  it("is a 404 unless DEMO_MODE is on", async () => {
    const res = await noauth("POST", "/console/api/demo/fail", {
      headers: await fromPage(noauth),
      body: { host: "x" },
    });
    expect([res.status, Object.keys(res.json)]).toEqual([404, ["itemNotFound"]]);
  });

  it("takes the host down in the Nova stand-in, then reports it through the API as a monitor would", async () => {
    const demo = consoleWith({ DEMO_MODE: "true", NOVA_URL: "http://compute.test/v2.1" });
    const name = unique("demo-host");
    await env.NOVA_STAND_IN.fetch("http://compute.test/_control/hosts", {
      method: "POST",
      body: JSON.stringify({ name, zone: `zone-${name}` }),
    });
    const segment = await createSegment();
    await createHost(segment.uuid, { name });
    expect((await demo("GET", "/console/api/session")).json.demo).toBe(true);
    const refused = await demo("POST", "/console/api/demo/fail", { headers: { origin: ORIGIN }, body: { host: name } });
    expect(refused.status).toBe(403);
    const res = await demo("POST", "/console/api/demo/fail", { headers: await fromPage(demo), body: { host: name } });
    expect(res.status).toBe(202);
    expect(res.json.notification).toMatchObject({
      type: "COMPUTE_HOST",
      status: "new",
      payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" },
    });
    const state = await (await env.NOVA_STAND_IN.fetch(`http://compute.test/_control/state?host=${name}`)).json();
    expect(JSON.stringify(state)).toMatch(/"state":\s*"down"/);
  });
});
