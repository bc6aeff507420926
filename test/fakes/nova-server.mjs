// The Nova stand-in (nova.mjs) as a Node.js HTTP server, for end-to-end runs:
//   node test/fakes/nova-server.mjs PORT
// Each IncomingMessage becomes a Request for the stand-in's fetch(), whose
// Response is written back. A client that hangs up aborts the Request's
// signal, which ends a `hang` fault. SIGTERM (or SIGINT) closes everything.

import http from "node:http";
import { createNova } from "./nova.mjs";

const port = Number(process.argv[2] ?? 18990);
const nova = createNova();

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks);

  const gone = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) gone.abort();
  });

  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (["host", "connection", "content-length", "transfer-encoding"].includes(name)) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const request = new Request(new URL(req.url ?? "/", `http://127.0.0.1:${port}`), {
    method: req.method,
    headers,
    body: body.length > 0 && req.method !== "GET" && req.method !== "HEAD" ? body : undefined,
    signal: gone.signal,
  });

  try {
    const response = await nova.fetch(request);
    if (gone.signal.aborted) return;
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    res.writeHead(500, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ computeFault: { code: 500, message: String(error) } }));
  }
});

server.listen(port, "127.0.0.1", () => {
  console.log(`nova stand-in listening on http://127.0.0.1:${port}`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // also ends requests held open by `hang`
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
