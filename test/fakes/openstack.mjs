// A fake OpenStack for the tests: an auxiliary Worker that the Worker under
// test reaches for every outbound fetch (vitest.config.ts: outboundService).
// Its answers follow from the request itself, so test files running at once
// cannot disturb each other; it counts the calls it gets per token so tests
// can ask how often it was called.
//
// Nova at compute.test: the stateful stand-in (./nova.mjs) the recovery engine
// works against, named in the Worker's Keystone catalog.
// Nova (any other host but keystone.test), GET .../os-services?binary=nova-compute&host=NAME:
//   a nova-compute service exists for every NAME except those starting with
//   "unknown"; NAME starting with "broken" answers 500, "slow" never answers
//   in time (30 s).
// Keystone (keystone.test), v3:
//   POST /v3/auth/tokens: the Worker's own login. Accepts user "masakari" (or
//   "masakari-<anything>", so a test can count its own logins) with password
//   "masakari-secret" on project "service", or application credential
//   "appcred-id" / "appcred-secret"; issues a service token "svc-N" whose
//   catalog names compute at http://compute.test/v2.1.
//   GET /v3/auth/tokens: X-Auth-Token must be a service token it issued
//   (else 401). The subject token's prefix says who it is:
//     admin-*    user u-admin,  project aaaa...(32), roles admin, member, reader
//     member-*   user u-member, project dddd...(32), roles member, reader
//     role-R-*   user u-R,      project eeee...(32), role R
//     unscoped-* no project, no roles;  soon-* expires in 2 s
//     past-*     answered 200 although already expired
//     error-*    500;  slow-* never answers in time (30 s)
//     reauth-*   401 once for the service token in use (as if it expired),
//                then 200 as member-* for a new service token
//     anything else 404, as Keystone answers an unknown token.
// Control (http://control.test, through the FAKE_OPENSTACK binding):
//   GET /calls?key=K  -> {"calls": N}, the calls seen for key K: nova:<host>,
//   nova-token:<token>, keystone:<subject token>, keystone-auth (every
//   login), keystone-auth:<user> (the logins of one service user).

const calls = new Map();
const count = (key) => calls.set(key, (calls.get(key) ?? 0) + 1);
const json = (status, body) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const serviceTokens = new Set();
let issued = 0;
const hex = (c) => c.repeat(32);
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();
const keystoneError = (code, title, message) => json(code, { error: { code, title, message } });

const CATALOG = [
  {
    type: "compute",
    name: "nova",
    endpoints: [{ interface: "public", region_id: "RegionOne", region: "RegionOne", url: "http://compute.test/v2.1" }],
  },
];

const identities = {
  admin: { user: "u-admin", project: hex("a"), roles: ["admin", "member", "reader"] },
  member: { user: "u-member", project: hex("d"), roles: ["member", "reader"] },
};

function validToken(subject) {
  const [prefix, role] = subject.split("-");
  if (identities[prefix]) return { ...identities[prefix], expires: inAnHour() };
  if (prefix === "role") return { user: `u-${role}`, project: hex("e"), roles: [role], expires: inAnHour() };
  if (prefix === "unscoped") return { user: "u-unscoped", project: null, roles: [], expires: inAnHour() };
  if (prefix === "soon") return { ...identities.member, expires: new Date(Date.now() + 2000).toISOString() };
  if (prefix === "past") return { ...identities.member, expires: new Date(Date.now() - 1000).toISOString() };
  return undefined;
}

function tokenBody(who) {
  return {
    token: {
      methods: ["password"],
      user: { id: who.user, name: who.user, domain: { id: "default", name: "Default" } },
      expires_at: who.expires,
      issued_at: new Date().toISOString(),
      ...(who.project ? { project: { id: who.project, name: "p", domain: { id: "default" } }, is_domain: false } : {}),
      ...(who.project ? { roles: who.roles.map((name) => ({ id: `r-${name}`, name })) } : {}),
    },
  };
}

async function keystone(request, url) {
  if (url.pathname !== "/v3/auth/tokens") return keystoneError(404, "Not Found", "not a fake Keystone route");
  if (request.method === "POST") {
    count("keystone-auth");
    const auth = (await request.json().catch(() => ({}))).auth ?? {};
    const identity = auth.identity ?? {};
    const user = identity.password?.user;
    const appcred = identity.application_credential;
    if (user?.name) count(`keystone-auth:${user.name}`);
    const byPassword =
      (user?.name === "masakari" || user?.name?.startsWith("masakari-")) &&
      user?.password === "masakari-secret" &&
      auth.scope?.project?.name === "service";
    const byAppcred = appcred?.id === "appcred-id" && appcred?.secret === "appcred-secret";
    if (!byPassword && !byAppcred) {
      return keystoneError(401, "Unauthorized", "The request you have made requires authentication.");
    }
    const token = `svc-${++issued}`;
    serviceTokens.add(token);
    const body = tokenBody({ user: "u-masakari", project: hex("5"), roles: ["admin"], expires: inAnHour() });
    body.token.catalog = CATALOG;
    const response = json(201, body);
    response.headers.set("X-Subject-Token", token);
    return response;
  }
  const service = request.headers.get("X-Auth-Token") ?? "";
  const subject = request.headers.get("X-Subject-Token") ?? "";
  count(`keystone:${subject}`);
  if (!serviceTokens.has(service)) {
    return keystoneError(401, "Unauthorized", "The request you have made requires authentication.");
  }
  if (subject.startsWith("reauth-") && !calls.has(`reauth-done:${subject}`)) {
    count(`reauth-done:${subject}`);
    serviceTokens.delete(service);
    return keystoneError(401, "Unauthorized", "The request you have made requires authentication.");
  }
  if (subject.startsWith("error-")) return keystoneError(500, "Internal Server Error", "broken");
  if (subject.startsWith("slow-")) await sleep(30000);
  const who = subject.startsWith("reauth-") ? { ...identities.member, expires: inAnHour() } : validToken(subject);
  if (!who) return keystoneError(404, "Not Found", "Could not recognize Fernet token");
  const response = json(200, tokenBody(who));
  response.headers.set("X-Subject-Token", subject);
  return response;
}

async function nova(request, url) {
  if (request.method !== "GET" || !url.pathname.endsWith("/os-services")) {
    return json(404, { itemNotFound: { code: 404, message: "not a fake Nova route" } });
  }
  const host = url.searchParams.get("host") ?? "";
  count(`nova:${host}`);
  count(`nova-token:${request.headers.get("X-Auth-Token") ?? ""}`);
  if (host.startsWith("broken")) return json(500, { computeFault: { code: 500, message: "broken" } });
  if (host.startsWith("slow")) await sleep(30000);
  if (url.searchParams.get("binary") !== "nova-compute" || host.startsWith("unknown"))
    return json(200, { services: [] });
  return json(200, {
    services: [{ id: 1, binary: "nova-compute", host, zone: "nova", status: "enabled", state: "up" }],
  });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.hostname === "compute.test") return env.NOVA.fetch(request);
    if (url.hostname === "control.test") {
      if (url.pathname === "/calls") return json(200, { calls: calls.get(url.searchParams.get("key")) ?? 0 });
      return json(404, {});
    }
    if (url.hostname === "keystone.test") return keystone(request, url);
    return nova(request, url);
  },
};
