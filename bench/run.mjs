#!/usr/bin/env node
// npm run bench [-- --seconds N] [--quick] [--skip-reference] [--skip-scale] [--skip-engine]
// npm run bench -- --engine-only
//
// Loads the built Worker (workerd through Miniflare, local D1), the real
// Masakari 14.0.2 and two ceiling Workers in turn with the same wrk load,
// the same data and the same durations; then the scale run and the
// recovery engine's host failures. Prints the tables, writes
// bench/results/<date>.json and the tables into bench/README.md. With
// --engine-only, only the recovery engine (bench/results/engine-<date>.json).
// See bench/README.md.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { buildBundle, sourceLocator } from "./lib/bundle.mjs";
import { workingTree } from "./lib/checkout.mjs";
import { undoing, using } from "./lib/cleanup.mjs";
import { ENGINE_CASES, measureEngine, QUICK_ENGINE_CASES, SCALE_ENGINE_CASES } from "./lib/engine.mjs";
import { requireWrk, runWrk } from "./lib/load.mjs";
import { BASE_SEGMENTS, baseData, FIRST_FREE_HOST, log, measure } from "./lib/measure.mjs";
import { profile } from "./lib/profile.mjs";
import {
  checks,
  ENGINE_SECTION,
  engineMarkdown,
  machine,
  markdown,
  RESULTS_SECTION,
  writeReadme,
} from "./lib/report.mjs";
import * as seed from "./lib/seed.mjs";
import { startCeiling, startReference, startWorker, workerConfig } from "./lib/targets.mjs";

const HERE = import.meta.dirname;
const { values: opts } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    quick: { type: "boolean", default: false },
    "skip-reference": { type: "boolean", default: false },
    "skip-scale": { type: "boolean", default: false },
    "skip-profile": { type: "boolean", default: false },
    "skip-engine": { type: "boolean", default: false },
    // The recovery engine's host failures alone (bench/lib/engine.mjs).
    "engine-only": { type: "boolean", default: false },
    // A diagnosis, not a measurement of the API as deployed: V8 flags for
    // every workerd Miniflare starts (MINIFLARE_WORKERD_V8_FLAGS). Such a run
    // leaves bench/README.md alone.
    "v8-flags": { type: "string" },
  },
});
const seconds = opts.quick ? 3 : Number(opts.seconds);
if (opts["v8-flags"] !== undefined) process.env.MINIFLARE_WORKERD_V8_FLAGS = opts["v8-flags"];
const SCALE_SEGMENTS = opts.quick ? [100, 10_000] : [100, 10_000, 100_000];
const SCALE_NOTIFICATIONS = opts.quick ? [200, 10_000] : [200, 10_000, 1_000_000];
const PROFILED = ["show-segment", "list-segments", "create-segment", "create-notification"];
const SCALE_WORKLOADS = [
  "show-segment",
  "list-segments",
  "list-segments-first-100",
  "list-segments-page",
  "create-segment",
];

const ENGINE = opts.quick ? QUICK_ENGINE_CASES : [...ENGINE_CASES, ...SCALE_ENGINE_CASES];

const now = new Date().toISOString().slice(0, 19);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "masakari-bench-"));
// The Worker's targets run one at a time, each with its Nova stand-in on
// `nova` (lib/targets.mjs).
const ports = { worker: 18840, hello: 18841, floor: 18842, scale: 18843, nova: 18845, engine: 18846, reference: 18850 };
const measured = (target, options) => measure(target, { seconds, now, ...options });
const startWorkerTarget = (options) => startWorker({ novaPort: ports.nova, ...options });
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
const engineRun = () =>
  measureEngine({
    script: bundle.script,
    config: workerConfig(),
    port: ports.engine,
    novaPort: ports.nova,
    tmp,
    cases: ENGINE,
  });

if (!opts["engine-only"]) requireWrk();
log("building the Worker bundle (wrangler deploy --dry-run)");
const bundle = buildBundle(path.join(HERE, ".build"));
log(`bundle: ${bundle.uploadKiB} KiB, gzip ${bundle.gzipKiB} KiB`);
// What the bundle was built from.
const source = workingTree({ except: "bench" });

if (opts["engine-only"]) {
  const engine = await undoing(() => fs.rmSync(tmp, { recursive: true, force: true }), engineRun);
  const result = {
    date: new Date().toISOString(),
    command,
    machine: machine(),
    source,
    v8Flags: opts["v8-flags"] ?? null,
    bundle,
    engine,
  };
  fs.mkdirSync(path.join(HERE, "results"), { recursive: true });
  const file = path.join(HERE, "results", `engine-${result.date.replaceAll(":", "-")}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  const table = engineMarkdown(result);
  console.log(table);
  if (result.v8Flags === null) writeReadme(path.join(HERE, "README.md"), table, ENGINE_SECTION);
  log(`wrote ${path.relative(process.cwd(), file)}${result.v8Flags === null ? " and bench/README.md" : ""}`);
  process.exit(0);
}

const runs = [];

runs.push(
  ...(await using(
    () => startCeiling({ port: ports.hello, script: path.join(HERE, "hello.js"), name: "hello-world" }),
    (t) => measured(t, { workloads: ["show-segment"] }),
  )),
);
runs.push(
  ...(await using(
    async () => {
      const t = await startCeiling({
        port: ports.floor,
        script: path.join(HERE, "d1-floor.js"),
        persist: path.join(tmp, "floor"),
        name: "d1-floor",
      });
      await t.exec([seed.segments(BASE_SEGMENTS)]);
      return t;
    },
    (t) => measured(t, { workloads: ["show-segment"] }),
  )),
);
runs.push(
  ...(await using(
    async () => {
      const t = await startWorkerTarget({
        port: ports.worker,
        script: bundle.script,
        persist: path.join(tmp, "worker"),
      });
      await t.exec(baseData(seconds));
      return t;
    },
    (t) => measured(t),
  )),
);
if (!opts["skip-reference"]) {
  runs.push(
    ...(await using(
      async () => {
        const t = await startReference({ port: ports.reference, dir: path.join(tmp, "reference") });
        await t.exec(baseData(seconds));
        return t;
      },
      (t) => measured(t),
    )),
  );
}

const scale = [];
if (!opts["skip-scale"]) {
  for (const n of SCALE_SEGMENTS) {
    log(`scale: ${n} segments`);
    const rows = await using(
      async () => {
        const t = await startWorkerTarget({
          port: ports.scale,
          script: bundle.script,
          persist: path.join(tmp, `scale-${n}`),
        });
        await t.exec(seed.chunked((count, start) => seed.segments(count, start), n));
        return t;
      },
      (t) => measured(t, { workloads: SCALE_WORKLOADS, connections: [8], segments: n }),
    );
    scale.push(...rows.map((r) => ({ ...r, segments: n })));
  }
  for (const n of SCALE_NOTIFICATIONS) {
    log(`scale: ${n} notifications`);
    const rows = await using(
      async () => {
        const t = await startWorkerTarget({
          port: ports.scale,
          script: bundle.script,
          persist: path.join(tmp, `scale-n${n}`),
        });
        await t.exec([
          seed.segments(BASE_SEGMENTS),
          seed.hosts(1_000, BASE_SEGMENTS),
          ...seed.chunked((count, start) => seed.notifications(count, 1_000, start), n),
        ]);
        return t;
      },
      (t) =>
        measured(t, { workloads: ["list-notifications-new", "list-notifications-new-first-100"], connections: [8] }),
    );
    scale.push(...rows.map((r) => ({ ...r, notifications: n })));
  }
}

// Where the Worker's isolate spends its time, per workload: a CPU profile
// through workerd's inspector while wrk loads it (8 connections).
const profiles = [];
if (!opts["skip-profile"]) {
  const sourceFor = sourceLocator(bundle.script);
  for (const workload of PROFILED) {
    log(`profile: ${workload}`);
    const p = await using(
      async () => {
        const t = await startWorkerTarget({
          port: ports.scale,
          script: bundle.script,
          persist: path.join(tmp, "profile"),
          inspectorPort: 9240,
        });
        await t.exec(baseData(seconds));
        return t;
      },
      async (t) => {
        await runWrk({ url: t.url, workload, connections: 8, seconds: 1, tag: "pw", offset: FIRST_FREE_HOST, now });
        return profile(
          9240,
          async () => {
            await runWrk({
              url: t.url,
              workload,
              connections: 8,
              seconds,
              tag: "p",
              offset: FIRST_FREE_HOST + 10_000,
              now,
            });
          },
          { sourceFor },
        );
      },
    );
    profiles.push({ workload, ...p });
  }
}

// The recovery engine's own cost per instance of a failed host.
let engine = null;
if (!opts["skip-engine"]) {
  log("recovery engine: host failures");
  engine = await engineRun();
}

const result = {
  date: new Date().toISOString(),
  command,
  machine: machine(),
  source,
  seconds,
  v8Flags: opts["v8-flags"] ?? null,
  bundle,
  runs,
  scale,
  profiles,
  engine,
};
result.checks = checks(result);
fs.rmSync(tmp, { recursive: true, force: true });
fs.mkdirSync(path.join(HERE, "results"), { recursive: true });
const file = path.join(HERE, "results", `${result.date.replaceAll(":", "-")}.json`);
fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
const table = markdown(result);
console.log(table);
const engineTable = engine ? engineMarkdown(result) : null;
if (engineTable) console.log(`\n${engineTable}`);
if (result.v8Flags === null) {
  writeReadme(path.join(HERE, "README.md"), table, RESULTS_SECTION);
  if (engineTable) writeReadme(path.join(HERE, "README.md"), engineTable, ENGINE_SECTION);
  log(`wrote ${path.relative(process.cwd(), file)} and bench/README.md`);
} else {
  log(`wrote ${path.relative(process.cwd(), file)} (V8 flags ${result.v8Flags}: bench/README.md left as it is)`);
}
