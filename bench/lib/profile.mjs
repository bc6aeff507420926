// A CPU profile of the Worker's isolate while wrk loads it, through
// workerd's DevTools inspector (Chrome DevTools Protocol). Self time is
// summed by function and by the package the function comes from.
import fs from "node:fs";

async function cdp(inspectorPort) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((t) => !t.title?.startsWith("core:")) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  };
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const n = ++id;
      pending.set(n, resolve);
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  return { send, close: () => ws.close(), title: target.title };
}

const D1_BINDING = new Set([
  "cloudflare-internal:d1-api",
  "fetch",
  "enterSpan",
  "setAttributes",
  "cloudflare-internal:tracing-helpers",
]);
const OWN = new Set([
  "drizzle-orm",
  "hono",
  "zod",
  "@hono/zod-validator",
  "src (this project)",
  "other (bundler glue)",
]);

/** The part of the isolate's time a profile entry belongs to. */
export function category(part) {
  if (OWN.has(part)) return part === "other (bundler glue)" ? "src (this project)" : part;
  if (D1_BINDING.has(part)) return "D1 binding (workerd's d1-api, fetch, tracing)";
  if (part === "(idle)") return "idle";
  if (part === "(program)" || part === "(garbage collector)") return "V8 (program, GC)";
  return "runtime built-ins (Request, Headers, URL, JSON...)";
}

/** Runs `load` while profiling; returns self time by function and by file. */
export async function profile(inspectorPort, load, { out, sourceFor } = {}) {
  const session = await cdp(inspectorPort);
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: 200 });
  await session.send("Profiler.start");
  await load();
  const { result } = await session.send("Profiler.stop");
  session.close();
  const p = result.profile;
  if (out) fs.writeFileSync(out, JSON.stringify(p));
  const dt = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const delta = p.timeDeltas[i + 1] ?? 0;
    dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + delta);
  }
  const byFn = new Map();
  const byPart = new Map();
  let total = 0;
  for (const node of p.nodes) {
    const t = dt.get(node.id) ?? 0;
    total += t;
    const f = node.callFrame;
    // Minified names say little: name the source file a bundle function came from.
    const where =
      f.url.endsWith("index.js") && sourceFor ? ` ${sourceFor(f.lineNumber + 1, f.columnNumber, true)}` : "";
    const key =
      `${f.functionName || "(anonymous)"} ${f.url ? `${f.url.split("/").at(-1)}:${f.lineNumber + 1}` : ""}${where}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + t);
    const file = f.url.split("/").at(-1);
    const part = !f.url
      ? f.functionName
      : sourceFor && file === "index.js"
        ? sourceFor(f.lineNumber + 1, f.columnNumber)
        : file;
    byPart.set(part, (byPart.get(part) ?? 0) + t);
  }
  const top = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, t]) => ({ name, ms: t / 1000, share: t / total }));
  const byCategory = new Map();
  for (const [part, t] of byPart) byCategory.set(category(part), (byCategory.get(category(part)) ?? 0) + t);
  return { totalMs: total / 1000, categories: top(byCategory, 20), functions: top(byFn, 25), parts: top(byPart, 15) };
}
