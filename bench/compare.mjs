#!/usr/bin/env node
// npm run bench:compare -- --base REF [--rounds N] [--seconds S] [--workloads a,b,...]
//
// Before/after: the Worker of this working tree (head) against the Worker
// of a git ref (base), on one machine, in one run. Throughput on a shared
// machine drifts by more than most changes are worth, so the two are
// interleaved round by round (ABBA: base then head, head then base, ...)
// and compared by their medians: drift between rounds falls on both alike.
// Prints the table and writes bench/results/compare-<date>.json. See
// bench/README.md.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { commitOf, workingTree } from "./lib/checkout.mjs";
import { undoing, using } from "./lib/cleanup.mjs";
import { interleave, interleaveMarkdown, workerdPid } from "./lib/interleave.mjs";
import { knownWorkloads, requireWrk } from "./lib/load.mjs";
import { baseData, log, measure, poolHosts, WORKLOADS } from "./lib/measure.mjs";
import { compareMarkdown, compareSummary, machine } from "./lib/report.mjs";
import { buildSides } from "./lib/sides.mjs";
import { startWorker } from "./lib/targets.mjs";

const HERE = import.meta.dirname;
// One concurrency, the full run's lower one: it halves the run, and a change
// in what a request costs shows at either.
const CONNECTIONS = 8;
// In the full run's range (bench/README.md), and none of its ports, so a
// Worker it left behind cannot answer here; the same for the Nova stand-in
// of a side whose Worker has the recovery engine (lib/targets.mjs).
const PORT = 18844;
const NOVA_PORT = 18847;

const { values: opts } = parseArgs({
  options: {
    base: { type: "string" },
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "8" },
    workloads: { type: "string" },
    // "parked": the recovery runs a notification starts end at once
    // (bench/engine-parked.js); "remote": the Workflow binding is a service
    // whose create() answers at once (bench/workflows-service.js), as the
    // API sees the Workflows service deployed.
    // `none`: the Workflow binding left out, so a notification create starts
    // no recovery, as before the engine. `--base-engine-runs` (default: the
    // same as --engine-runs) is the base's: with `--base HEAD`, what wiring
    // the engine in costs the API, with nothing else changed.
    "engine-runs": { type: "string", default: "in-process" },
    "base-engine-runs": { type: "string" },
    // Both Workers up at once, runs of `--seconds` alternating N times per
    // workload, with CPU per request (lib/interleave.mjs).
    interleave: { type: "string" },
  },
});
const usage =
  "usage: npm run bench:compare -- --base <git-ref> [--rounds N] [--seconds S] [--workloads a,b,...] [--engine-runs MODE] [--base-engine-runs MODE] [--interleave N] (MODE: in-process, parked, remote or none)";
const rounds = Number(opts.rounds);
const seconds = Number(opts.seconds);
const workloads = opts.workloads?.split(",").map((w) => w.trim()) ?? WORKLOADS;
const unknown = workloads.filter((w) => !knownWorkloads().includes(w));
if (!opts.base) throw new Error(`--base is required\n${usage}`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number ≥ 1\n${usage}`);
if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`--seconds must be a whole number ≥ 1\n${usage}`);
const ENGINE_RUNS = ["in-process", "parked", "remote", "none"];
const engineRuns = { head: opts["engine-runs"], base: opts["base-engine-runs"] ?? opts["engine-runs"] };
for (const [option, mode] of [
  ["--engine-runs", engineRuns.head],
  ["--base-engine-runs", engineRuns.base],
]) {
  if (!ENGINE_RUNS.includes(mode ?? "")) throw new Error(`${option} must be ${ENGINE_RUNS.join(", ")}\n${usage}`);
}
/** How `side` starts: its own configuration, without its Workflows under `none`. */
const startAs = (side) =>
  engineRuns[side.name] === "none"
    ? { config: { ...side.config, workflows: [] }, engineRuns: "in-process" }
    : { config: side.config, engineRuns: engineRuns[side.name] };
if (unknown.length > 0)
  throw new Error(`unknown workloads: ${unknown.join(", ")} (bench/load.lua has ${knownWorkloads().join(", ")})`);

requireWrk();
const started = Date.now();
// Other work on the machine shows up as changes that are not there: the
// load before and after the run says whether there was any.
const loadBefore = os.loadavg()[0];
const now = new Date().toISOString().slice(0, 19);
// Resolved before anything is built: a mistyped ref fails at once.
const base = { name: "base", ...commitOf(opts.base) };
const head = { name: "head", ...workingTree() };
const build = path.join(HERE, ".build", "compare");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "masakari-compare-"));

const runs = await undoing(
  () => fs.rmSync(tmp, { recursive: true, force: true }),
  async () => {
    await buildSides(base, head, { build, tmp });

    if (opts.interleave !== undefined) {
      // The seconds of runs that take hosts from the pool; a pool seeded in
      // one statement past about 100,000 rows makes the local D1 give up.
      const interleavedSeconds = Math.min(seconds * Number(opts.interleave), 10);
      // Both up at once on two ports (and two Nova stand-ins when the
      // engine runs in process), then the runs interleaved.
      const starting = [base, head].map((side, i) => async () => {
        const t = await startWorker({
          port: PORT + i * 4,
          script: side.bundle.script,
          persist: path.join(tmp, side.name),
          novaPort: NOVA_PORT + i * 4,
          name: side.name,
          ...startAs(side),
        });
        await t.exec(baseData(interleavedSeconds));
        return t;
      });
      return using(starting[0], (b) =>
        using(starting[1], (h) =>
          interleave(
            [
              { name: "base", url: b.url, pid: workerdPid(PORT) },
              { name: "head", url: h.url, pid: workerdPid(PORT + 4) },
            ],
            {
              workloads,
              rounds: Number(opts.interleave),
              seconds,
              connections: CONNECTIONS,
              now,
              pool: poolHosts(interleavedSeconds),
            },
          ),
        ),
      );
    }
    const all = [];
    for (let round = 1; round <= rounds; round++) {
      for (const side of round % 2 === 1 ? [base, head] : [head, base]) {
        log(`round ${round} of ${rounds}: ${side.name}`);
        const rows = await using(
          async () => {
            const t = await startWorker({
              port: PORT,
              script: side.bundle.script,
              persist: path.join(tmp, `${side.name}-${round}`),
              novaPort: NOVA_PORT,
              name: side.name,
              ...startAs(side),
            });
            await t.exec(baseData(seconds));
            return t;
          },
          (t) => measure(t, { seconds, now, workloads, connections: [CONNECTIONS] }),
        );
        all.push(...rows.map((r) => ({ ...r, round })));
      }
    }
    return all;
  },
);

const describe = ({ name, ref, commit, subject, changed, bundle }) => ({ name, ref, commit, subject, changed, bundle });
const result = {
  date: new Date().toISOString(),
  command: `npm run bench:compare -- ${process.argv.slice(2).join(" ")}`,
  machine: machine(),
  rounds,
  seconds,
  connections: CONNECTIONS,
  workloads,
  base: describe(base),
  head: describe(head),
  runs,
  engineRuns,
  interleaved: opts.interleave !== undefined,
  summary: opts.interleave !== undefined ? undefined : compareSummary(runs, workloads),
  durationSeconds: Math.round((Date.now() - started) / 1000),
  loadAverage: { before: loadBefore, after: os.loadavg()[0] },
};
fs.mkdirSync(path.join(HERE, "results"), { recursive: true });
const file = path.join(HERE, "results", `compare-${result.date.replaceAll(":", "-")}.json`);
fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(
  result.interleaved
    ? `${result.command}: both Workers up at once, ${opts.interleave} interleaved runs of ${seconds} s per workload at ${CONNECTIONS} connections; medians. Load average before ${loadBefore.toFixed(2)}, after ${os.loadavg()[0].toFixed(2)}.\n\n${interleaveMarkdown(runs, workloads)}`
    : compareMarkdown(result),
);
const { durationSeconds: s } = result;
log(`wrote ${path.relative(process.cwd(), file)}; took ${Math.floor(s / 60)} min ${s % 60} s`);
