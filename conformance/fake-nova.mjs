// A stand-in for Nova's os-services API on loopback, for replays against the
// reference catalogue: every host name is a nova-compute service except the
// names in UNKNOWN_COMPUTES (default "unknown-compute"), as the reference
// server's own stand-in answers.
//   node conformance/fake-nova.mjs [port]
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 15999);
const unknown = new Set((process.env.UNKNOWN_COMPUTES ?? "unknown-compute").split(","));

createServer((request, response) => {
  const url = new URL(request.url ?? "/", "http://localhost");
  if (request.method !== "GET" || !url.pathname.endsWith("/os-services")) {
    response.writeHead(404, { "Content-Type": "application/json" }).end('{"itemNotFound": {"code": 404}}');
    return;
  }
  const host = url.searchParams.get("host");
  const services =
    host === null || unknown.has(host)
      ? []
      : [{ id: 1, binary: "nova-compute", host, zone: "nova", status: "enabled", state: "up" }];
  response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ services }));
}).listen(port, "127.0.0.1", () => console.error(`fake nova on http://127.0.0.1:${port}`));
