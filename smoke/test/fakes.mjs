// Stand-ins for the smoke test's own tests: an in-memory instance-ha API
// with knobs for the failures the smoke must survive, and a Keystone that
// issues one token with a catalog. Both listen on an ephemeral loopback port.

import { randomUUID } from "node:crypto";
import http from "node:http";

/**
 * @param {object} [knobs]
 * @param {string} [knobs.token]  required as X-Auth-Token on /v1 (keystone mode)
 * @param {string} [knobs.maxVersion]  advertised maximum microversion (default 1.2, as Masakari 14.0.2)
 * @param {number} [knobs.createStatus]  default 201
 * @param {boolean} [knobs.bookmarks]  send x-d1-bookmark as masakari-edge does
 * @param {boolean} [knobs.failUpdate]  PUT answers 409
 * @param {number} [knobs.failDeletes]  so many DELETEs answer 500 first
 * @param {boolean} [knobs.dropCreateAnswer]  create, then close the connection unanswered
 */
export async function fakeMasakari(knobs = {}) {
  const segments = new Map();
  const requests = [];
  let failDeletes = knobs.failDeletes ?? 0;
  let writes = 0;
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString();
    const body = text ? JSON.parse(text) : undefined;
    const { pathname } = new URL(req.url, "http://fake");
    requests.push({ method: req.method, path: req.url, headers: req.headers, body });
    const send = (status, json, headers = {}) => {
      if (knobs.bookmarks && pathname.startsWith("/v1/")) headers["x-d1-bookmark"] = bookmark(writes);
      res.writeHead(status, { "Content-Type": "application/json", ...headers });
      res.end(json === undefined ? "" : JSON.stringify(json));
    };
    const version = { id: "v1.0", status: "CURRENT", version: knobs.maxVersion ?? "1.2", min_version: "1.0" };
    if (pathname === "/") return send(200, { versions: [version] });
    if (knobs.token && req.headers["x-auth-token"] !== knobs.token) {
      return send(
        401,
        { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } },
        {
          "WWW-Authenticate": 'Keystone uri="http://keystone.invalid"',
        },
      );
    }
    if (pathname === "/v1" || pathname === "/v1/") return send(200, { version });
    const rest = pathname.replace(/^\/v1(\/[0-9a-f-]{3,}(?=\/))?/, "");
    const notFound = (id) => send(404, { itemNotFound: { code: 404, message: `No failover segment with id ${id}.` } });
    if (rest === "/segments" && req.method === "GET") return send(200, { segments: [...segments.values()].reverse() });
    if (rest === "/notifications" && req.method === "GET") return send(200, { notifications: [] });
    if (rest === "/segments" && req.method === "POST") {
      const segment = { id: segments.size + 1, uuid: randomUUID(), enabled: true, description: null, ...body.segment };
      segments.set(segment.uuid, segment);
      writes++;
      if (knobs.dropCreateAnswer) return req.socket.destroy();
      return send(knobs.createStatus ?? 201, { segment });
    }
    const hosts = /^\/segments\/([^/]+)\/hosts$/.exec(rest);
    if (hosts) return segments.has(hosts[1]) ? send(200, { hosts: [] }) : notFound(hosts[1]);
    const one = /^\/segments\/([^/]+)$/.exec(rest);
    if (one) {
      const segment = segments.get(one[1]);
      if (!segment) return notFound(one[1]);
      if (req.method === "GET") return send(200, { segment });
      if (req.method === "PUT") {
        if (knobs.failUpdate) {
          return send(409, {
            conflictingRequest: { code: 409, message: `Failover segment ${segment.uuid} can't be updated.` },
          });
        }
        Object.assign(segment, body.segment);
        writes++;
        return send(200, { segment });
      }
      if (req.method === "DELETE") {
        if (failDeletes-- > 0) return send(500, { masakariFault: { code: 500, message: "Unexpected API Error." } });
        segments.delete(segment.uuid);
        writes++;
        return send(204);
      }
    }
    return send(404, { itemNotFound: { code: 404, message: "The resource could not be found." } });
  });
  const url = await listen(server);
  return { url, segments, requests, close: () => close(server) };
}

const bookmark = (n) => `00000000-${n.toString(16).padStart(8, "0")}-00000000-${"0".repeat(32)}`;

/**
 * A Keystone v3 that answers POST /v3/auth/tokens with a token and a catalog
 * whose instance-ha endpoint is `instanceHa` (public, RegionOne), plus an
 * internal one elsewhere.
 */
export async function fakeKeystone({ instanceHa, token = "gAAAA-smoke-token", projectId = "0123abcd" }) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = JSON.parse(Buffer.concat(chunks).toString() || "null");
    requests.push({ method: req.method, path: req.url, body });
    if (req.method !== "POST" || req.url !== "/v3/auth/tokens") {
      res.writeHead(404).end();
      return;
    }
    const secret =
      body?.auth?.identity?.password?.user?.password ?? body?.auth?.identity?.application_credential?.secret;
    if (secret !== "secret") {
      res.writeHead(401, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." },
        }),
      );
      return;
    }
    const url = (template) => template.replace("$(project_id)s", projectId);
    const catalog = [
      { type: "identity", name: "keystone", endpoints: [] },
      {
        type: "instance-ha",
        name: "masakari",
        endpoints: [
          { interface: "internal", region_id: "RegionOne", url: "http://internal.invalid/v1" },
          { interface: "public", region_id: "RegionOne", url: url(instanceHa) },
        ],
      },
    ];
    res.writeHead(201, { "Content-Type": "application/json", "X-Subject-Token": token });
    res.end(JSON.stringify({ token: { project: { id: projectId }, catalog } }));
  });
  const base = await listen(server);
  return { url: base, token, requests, close: () => close(server) };
}

function listen(server) {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

function close(server) {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
}
