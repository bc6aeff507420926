// A small Keystone v3 stand-in for npm run test:console, as a Node.js HTTP
// server on loopback (a real Keystone, e2e/keystone, is too heavy for a
// browser suite):
//   node e2e/console/keystone.mjs PORT NOVA_URL
// What the Worker asks of Keystone, and nothing else:
//   POST   /v3/auth/tokens  password auth scoped to a project (by names, domain "Default"):
//                           201, X-Subject-Token, the token (catalog unless ?nocatalog)
//   GET    /v3/auth/tokens  X-Auth-Token (any live token) validates X-Subject-Token: 200, else 404
//   DELETE /v3/auth/tokens  revokes X-Subject-Token: 204
//   GET    /_calls          {"logins": {user: n}, "revoked": n}: what the suite checks
// Users (password "<user>-secret"): masakari (the Worker's own, admin on
// "service"), operator (admin on "ops"), viewer (member and reader on "ops").
// SIGTERM or SIGINT stops it.
import crypto from "node:crypto";
import http from "node:http";

const port = Number(process.argv[2] ?? 18943);
const novaUrl = process.argv[3] ?? "http://127.0.0.1:18942/v2.1";

const USERS = {
  masakari: { project: "service", roles: ["admin"] },
  operator: { project: "ops", roles: ["admin", "member", "reader"] },
  viewer: { project: "ops", roles: ["member", "reader"] },
};
const tokens = new Map();
const calls = { logins: {}, revoked: 0 };

const id = (text) => crypto.createHash("md5").update(text).digest("hex");

function tokenBody(who, catalog) {
  return {
    token: {
      methods: ["password"],
      user: { id: id(`user ${who.user}`), name: who.user, domain: { id: "default", name: "Default" } },
      project: { id: id(`project ${who.project}`), name: who.project, domain: { id: "default", name: "Default" } },
      roles: who.roles.map((name) => ({ id: id(`role ${name}`), name })),
      expires_at: new Date(who.expires).toISOString(),
      issued_at: new Date().toISOString(),
      ...(catalog
        ? {
            catalog: [
              {
                type: "compute",
                name: "nova",
                endpoints: [{ interface: "public", region_id: "RegionOne", region: "RegionOne", url: novaUrl }],
              },
            ],
          }
        : {}),
    },
  };
}

const send = (res, status, body, headers = {}) => {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(body === undefined ? "" : JSON.stringify(body));
};
const unauthorized = (res) =>
  send(res, 401, {
    error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." },
  });

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", `http://127.0.0.1:${port}`);
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  if (url.pathname === "/_calls") return send(res, 200, calls);
  if (url.pathname !== "/v3/auth/tokens") return send(res, 404, { error: { code: 404, message: "not here" } });
  if (req.method === "POST") {
    let auth = {};
    try {
      auth = JSON.parse(Buffer.concat(chunks).toString()).auth ?? {};
    } catch {}
    const user = auth.identity?.password?.user ?? {};
    const project = auth.scope?.project ?? {};
    const known = USERS[user.name];
    calls.logins[user.name] = (calls.logins[user.name] ?? 0) + 1;
    if (!known || user.password !== `${user.name}-secret` || project.name !== known.project) return unauthorized(res);
    const token = crypto.randomBytes(24).toString("hex");
    const who = { user: user.name, project: known.project, roles: known.roles, expires: Date.now() + 3600_000 };
    tokens.set(token, who);
    return send(res, 201, tokenBody(who, !url.searchParams.has("nocatalog")), { "X-Subject-Token": token });
  }
  const caller = tokens.get(req.headers["x-auth-token"] ?? "");
  if (!caller) return unauthorized(res);
  const subject = req.headers["x-subject-token"] ?? "";
  if (req.method === "DELETE") {
    if (tokens.delete(subject)) calls.revoked++;
    return send(res, 204);
  }
  const who = tokens.get(subject);
  if (!who) return send(res, 404, { error: { code: 404, title: "Not Found", message: "Could not find token" } });
  return send(res, 200, tokenBody(who, false), { "X-Subject-Token": subject });
});

server.listen(port, "127.0.0.1", () => console.log(`keystone stand-in on http://127.0.0.1:${port}`));
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
