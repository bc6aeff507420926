#!/usr/bin/env node
// npm run bench:cpu -- --base REF [--rounds N] [--requests N] [--workloads a,b,...]
//
// What one request costs in the Worker's own JavaScript, before and after a
// change, to a few percent. The throughput before/after (compare.mjs) serves
// the Worker in workerd with the local D1 emulator on the same thread and wrk
// beside it on two cores: its rounds differ by 10-20 %, more than most
// changes are worth. Here both bundles (head: this working tree; base: REF),
// built exactly as `wrangler deploy` would upload them, run in this one Node
// process, each on its own in-memory SQLite behind D1's binding API
// (lib/node-d1.mjs), with their own migrations and the full run's data. Each
// workload's requests are sent one after another, awaited, in batches that
// alternate between the two (ABBA), and each batch's wall and CPU time is
// divided by its requests. Nothing else runs on the thread, so what differs
// is the Worker's code. Not measured: the runtime's HTTP and D1's own work,
// which are the same for both. See bench/README.md.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { commitOf, workingTree } from "./lib/checkout.mjs";
import { undoing } from "./lib/cleanup.mjs";
import { BASE_SEGMENTS, baseData, FIRST_FREE_HOST, log, poolHosts, WORKLOADS } from "./lib/measure.mjs";
import { NodeD1 } from "./lib/node-d1.mjs";
import { machine } from "./lib/report.mjs";
import { segmentUuid } from "./lib/seed.mjs";
import { buildSides } from "./lib/sides.mjs";

const HERE = import.meta.dirname;
const { values: opts } = parseArgs({
  options: {
    base: { type: "string" },
    rounds: { type: "string", default: "20" },
    requests: { type: "string", default: "300" },
    workloads: { type: "string" },
  },
});
const usage = "usage: npm run bench:cpu -- --base <git-ref> [--rounds N] [--requests N] [--workloads a,b,...]";
const rounds = Number(opts.rounds);
const requests = Number(opts.requests);
const workloads = opts.workloads?.split(",").map((w) => w.trim()) ?? WORKLOADS;
if (!opts.base) throw new Error(`--base is required\n${usage}`);
if (!Number.isInteger(rounds) || rounds < 2 || rounds % 2 !== 0)
  throw new Error(`--rounds must be an even whole number ≥ 2 (ABBA)\n${usage}`);
if (!Number.isInteger(requests) || requests < 1) throw new Error(`--requests must be a whole number ≥ 1\n${usage}`);
if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc (npm run bench:cpu does)");

// The requests of bench/load.lua, the same bodies and addresses.
const NOW = new Date().toISOString().slice(0, 19);
const MARKER = String(Math.ceil(BASE_SEGMENTS / 2));
// With its Content-Length, as wrk and every OpenStack client send a body:
// Hono's bodyLimit reads a body that has none to count its bytes.
const json = (method, url, body) => {
  const text = JSON.stringify(body);
  return new Request(`http://bench.local${url}`, {
    method,
    headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) },
    body: text,
  });
};
const get = (url) => new Request(`http://bench.local${url}`);
const KINDS = {
  "show-segment": (side) => get(`/v1/segments/${segmentUuid((side.counter % BASE_SEGMENTS) + 1)}`),
  "list-segments": () => get("/v1/segments"),
  "list-segments-page": () => get(`/v1/segments?limit=50&sort_key=name&marker=${MARKER}`),
  "list-notifications-new": () => get("/v1/notifications?status=new"),
  "create-segment": (side) =>
    json("POST", "/v1/segments", {
      segment: { name: `b-${side.name}-${side.counter}`, recovery_method: "auto", service_type: "COMPUTE" },
    }),
  "create-host": (side) =>
    json("POST", `/v1/segments/${segmentUuid((side.counter % BASE_SEGMENTS) + 1)}/hosts`, {
      host: { name: `bh-${side.name}-${side.counter}`, type: "COMPUTE", control_attributes: "SSH" },
    }),
  // A pool host no other notification named, so none is a duplicate.
  "create-notification": (side) =>
    json("POST", "/v1/notifications", {
      notification: {
        type: "COMPUTE_HOST",
        hostname: `host-${String(side.nextHost++).padStart(7, "0")}`,
        generated_time: NOW,
        payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" },
      },
    }),
  // load.lua's mix, in a fixed order rather than at random: 40 % show, 30 %
  // paged list, 10 % each create.
  mix: (side) => {
    const k = side.counter % 10;
    if (k < 4) return KINDS["show-segment"](side);
    if (k < 7) return KINDS["list-segments-page"]();
    return KINDS[["create-segment", "create-host", "create-notification"][k - 7]](side);
  },
};
const unknown = workloads.filter((w) => !(w in KINDS));
if (unknown.length > 0)
  throw new Error(`unknown workloads: ${unknown.join(", ")} (known: ${Object.keys(KINDS).join(", ")})`);

// `cloudflare:workers`, which only workerd has: the Worker's `env` (read at
// module load) and the Workflow base class its module exports.
const RUNTIME_SHIM = `export const env = globalThis.__benchEnv;
export class WorkflowEntrypoint { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }
export class WorkerEntrypoint { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }
export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }
`;

/** The side's bundle as a module of this process, on its own database. */
async function load(side, dir) {
  fs.mkdirSync(dir, { recursive: true });
  // Padded to the same length, so the bundle's source map still applies.
  const code = fs
    .readFileSync(side.bundle.script, "utf8")
    .replaceAll(
      '"cloudflare:workers"',
      `"./runtime.mjs"${" ".repeat('"cloudflare:workers"'.length - '"./runtime.mjs"'.length)}`,
    );
  fs.writeFileSync(path.join(dir, "runtime.mjs"), RUNTIME_SHIM);
  fs.writeFileSync(path.join(dir, "worker.mjs"), code);
  const db = new NodeD1();
  for (const statement of side.config.migrations) db.exec(statement);
  for (const statement of baseData(0)) db.exec(statement);
  // As `npm run dev` and the tests run it. With the recovery engine, the
  // Workflow binding answers create() at once: the API's part of starting a
  // recovery, not the recovery (the engine's own cost is measured by
  // `npm run bench -- --engine-only`).
  const env = {
    DB: db,
    AUTH_STRATEGY: "noauth2",
    ...(side.config.workflows.length > 0
      ? { RECOVERY: { create: async ({ id } = {}) => ({ id }), get: async (id) => ({ id, status: async () => ({}) }) } }
      : {}),
  };
  globalThis.__benchEnv = env;
  const mod = await import(pathToFileURL(path.join(dir, "worker.mjs")).href);
  return { ...side, env, worker: mod.default, counter: 0, nextHost: FIRST_FREE_HOST, errors: 0, firstError: null };
}

async function batch(side, workload, count) {
  const waits = [];
  const ctx = { waitUntil: (p) => waits.push(p), passThroughOnException() {}, props: {} };
  globalThis.gc();
  const cpu = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    side.counter++;
    const res = await side.worker.fetch(KINDS[workload](side), side.env, ctx);
    const body = await res.text();
    if (res.status >= 400) {
      side.errors++;
      side.firstError ??= `${workload}: ${res.status} ${body.slice(0, 200)}`;
    }
  }
  await Promise.all(waits);
  const wall = Number(process.hrtime.bigint() - t0) / 1e3 / count;
  const { user, system } = process.cpuUsage(cpu);
  return { wallUs: wall, cpuUs: (user + system) / count };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)} %`;

const started = Date.now();
const loadBefore = os.loadavg()[0];
const base = { name: "base", ...commitOf(opts.base) };
const head = { name: "head", ...workingTree({ except: "bench" }) };
const build = path.join(HERE, ".build", "cpu");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "masakari-cpu-"));

const results = await undoing(
  () => fs.rmSync(tmp, { recursive: true, force: true }),
  async () => {
    await buildSides(base, head, { build, tmp });
    // Every notification created takes a pool host of its own (the mix's
    // every tenth request too), warm-up included.
    const notified = (workloads.includes("create-notification") ? 1 : 0) + (workloads.includes("mix") ? 0.1 : 0);
    if (FIRST_FREE_HOST + (rounds + 1) * requests * notified > poolHosts(0))
      throw new Error(`the host pool (${poolHosts(0)}) is too small for ${rounds} rounds of ${requests} requests`);
    const sides = [await load(base, path.join(tmp, "base")), await load(head, path.join(tmp, "head"))];
    // The Worker's own log lines would time the terminal, not the Worker.
    const quiet = {};
    for (const level of ["log", "info", "warn", "error", "debug"]) {
      quiet[level] = console[level];
      console[level] = () => {};
    }
    const out = [];
    try {
      for (const workload of workloads) {
        // A warm-up per side: the JIT's and SQLite's caches, before anything counts.
        for (const side of sides) await batch(side, workload, requests);
        const runs = { base: [], head: [] };
        for (let round = 0; round < rounds; round++) {
          for (const side of round % 4 === 0 || round % 4 === 3 ? sides : [...sides].reverse())
            runs[side.name].push(await batch(side, workload, requests));
        }
        // Head over base per pair of adjacent batches: drift falls on both.
        const ratios = runs.head.map((h, i) => h.wallUs / runs.base[i].wallUs);
        const cpuRatios = runs.head.map((h, i) => h.cpuUs / runs.base[i].cpuUs);
        const row = {
          workload,
          base: { wallUs: median(runs.base.map((r) => r.wallUs)), cpuUs: median(runs.base.map((r) => r.cpuUs)) },
          head: { wallUs: median(runs.head.map((r) => r.wallUs)), cpuUs: median(runs.head.map((r) => r.cpuUs)) },
          change: median(ratios) - 1,
          changeMin: Math.min(...ratios) - 1,
          changeMax: Math.max(...ratios) - 1,
          cpuChange: median(cpuRatios) - 1,
          runs,
        };
        out.push(row);
        quiet.error(
          `[bench] ${workload.padEnd(24)} base ${row.base.wallUs.toFixed(0)} µs, head ${row.head.wallUs.toFixed(0)} µs: ${pct(row.change)}`,
        );
      }
    } finally {
      Object.assign(console, quiet);
    }
    for (const side of sides) if (side.errors) log(`${side.name}: ${side.errors} errors, first: ${side.firstError}`);
    return { rows: out, errors: Object.fromEntries(sides.map((s) => [s.name, s.errors])) };
  },
);

const describe = ({ name, ref, commit, subject, changed, bundle }) => ({
  name,
  ref,
  commit,
  subject,
  changed,
  gzipKiB: bundle.gzipKiB,
});
const result = {
  date: new Date().toISOString(),
  command: `npm run bench:cpu -- ${process.argv.slice(2).join(" ")}`,
  machine: machine(),
  node: process.version,
  rounds,
  requests,
  base: describe(base),
  head: describe(head),
  ...results,
  durationSeconds: Math.round((Date.now() - started) / 1000),
  loadAverage: { before: loadBefore, after: os.loadavg()[0] },
};
fs.mkdirSync(path.join(HERE, "results"), { recursive: true });
const file = path.join(HERE, "results", `cpu-${result.date.replaceAll(":", "-")}.json`);
fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
const fmt = (x) => x.toFixed(0);
console.log(
  [
    `${result.command}: base ${base.commit.slice(0, 12)} "${base.subject}", head ${head.commit.slice(0, 12)}${head.changed ? " + uncommitted changes" : ""} "${head.subject}". Node.js ${process.version}; ${rounds} batches of ${requests} requests per side and workload, ABBA; medians. Load average before ${loadBefore.toFixed(2)}, after ${os.loadavg()[0].toFixed(2)}. Errors: base ${results.errors.base}, head ${results.errors.head}.`,
    "",
    "| workload | base µs/request | head µs/request | change (pairs: min … max) | CPU µs base → head | CPU change |",
    "|---|--:|--:|--:|--:|--:|",
    ...results.rows.map(
      (r) =>
        `| ${r.workload} | ${fmt(r.base.wallUs)} | ${fmt(r.head.wallUs)} | ${pct(r.change)} (${pct(r.changeMin)} … ${pct(r.changeMax)}) | ${fmt(r.base.cpuUs)} → ${fmt(r.head.cpuUs)} | ${pct(r.cpuChange)} |`,
    ),
  ].join("\n"),
);
log(`wrote ${path.relative(process.cwd(), file)}; took ${result.durationSeconds} s`);
