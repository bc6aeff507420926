// Before/after with both Workers up at once and their runs interleaved:
// for each workload, short runs alternate between base and head (ABAB...,
// BABA... the next time), so a burst of other work on the machine, or its
// drift, falls on both sides alike. Besides requests a second, each run
// reads the CPU time the Worker's workerd process used (/proc: user plus
// system), so the result is also CPU per request, the Worker's own cost,
// which the machine's load changes far less than throughput.
import fs from "node:fs";
import { runWrk } from "./load.mjs";
import { FIRST_FREE_HOST, log } from "./measure.mjs";

const TICKS_PER_SECOND = 100; // Linux's USER_HZ

/** The pid of the workerd process that listens on `port` (Miniflare starts one per instance). */
export function workerdPid(port) {
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline;
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (cmdline.includes("workerd") && cmdline.includes(`127.0.0.1:${port}`)) return Number(entry);
  }
  throw new Error(`no workerd process listens on ${port}`);
}

/** CPU time the process has used, in ms (all its threads). */
function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  // utime and stime: fields 14 and 15 of stat, 12 and 13 after the name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * `rounds` alternations of `seconds` each for every workload on `sides`
 * ([{name, url, pid}]); the rows of every run.
 */
export async function interleave(sides, { workloads, rounds, seconds, connections, now, pool }) {
  const offsets = new Map(sides.map((s) => [s.name, FIRST_FREE_HOST]));
  const rows = [];
  const once = async (side, workload, secs, tag) => {
    const before = cpuMs(side.pid);
    const r = await runWrk({
      url: side.url,
      workload,
      connections,
      seconds: secs,
      tag,
      offset: offsets.get(side.name),
      now,
    });
    const offset = offsets.get(side.name) + r.notified;
    if (offset > pool) throw new Error(`the host pool (${pool}) is too small for this run`);
    offsets.set(side.name, offset);
    return { ...r, cpuMsPerRequest: (cpuMs(side.pid) - before) / Math.max(r.requests, 1) };
  };
  for (const side of sides) await once(side, "show-segment", 2, "warm");
  for (const workload of workloads) {
    for (const side of sides) await once(side, workload, 1, `w${workload}`);
    for (let round = 1; round <= rounds; round++) {
      for (const side of round % 2 === 1 ? sides : [...sides].reverse()) {
        const r = await once(side, workload, seconds, `${workload}-${round}`);
        rows.push({ target: side.name, workload, round, connections, ...r });
      }
    }
    const summary = sides.map((s) => {
      const mine = rows.filter((r) => r.target === s.name && r.workload === workload);
      return `${s.name} ${median(mine.map((r) => r.rps)).toFixed(0)} req/s, ${(median(mine.map((r) => r.cpuMsPerRequest)) * 1000).toFixed(0)} µs CPU/request`;
    });
    log(`${workload.padEnd(24)} ${summary.join("; ")}`);
  }
  return rows;
}

/** The Markdown table of an interleaved comparison: medians of every side, and head against base. */
export function interleaveMarkdown(rows, workloads) {
  const lines = [
    "| workload | base req/s | head req/s | change | base µs CPU/request | head µs CPU/request | change | base p50 ms | head p50 ms |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  const pct = (a, b) => `${b >= a ? "+" : "−"}${Math.abs((b / a - 1) * 100).toFixed(1)} %`;
  for (const workload of workloads) {
    const of = (name, key) =>
      median(rows.filter((r) => r.target === name && r.workload === workload).map((r) => r[key]));
    const [rb, rh] = [of("base", "rps"), of("head", "rps")];
    const [cb, ch] = [of("base", "cpuMsPerRequest") * 1000, of("head", "cpuMsPerRequest") * 1000];
    lines.push(
      `| ${workload} | ${rb.toFixed(0)} | ${rh.toFixed(0)} | ${pct(rb, rh)} | ${cb.toFixed(0)} | ${ch.toFixed(0)} | ${pct(cb, ch)} | ${of("base", "p50_ms").toFixed(1)} | ${of("head", "p50_ms").toFixed(1)} |`,
    );
  }
  return lines.join("\n");
}
