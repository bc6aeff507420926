// One measured run of wrk (C, from Debian's package) against a target. wrk
// is lighter than a Node.js load generator, which matters on two cores.
// It runs as a child process while this one's event loop keeps turning: a
// Worker's logs reach us through workerd's stdout, and a workerd whose
// stdout is not read stops when the pipe is full (the recovery engine logs
// every run), so nothing here may block while wrk loads it.
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const SCRIPT = path.join(import.meta.dirname, "..", "load.lua");

/** Every workload load.lua can make requests for (its `kinds`). */
export function knownWorkloads() {
  return [...fs.readFileSync(SCRIPT, "utf8").matchAll(/^kinds\["([^"]+)"\]/gm)].map((m) => m[1]);
}

export function requireWrk() {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
  } catch (error) {
    // wrk --version exits 1 after printing; only a missing binary matters.
    if (error.code === "ENOENT") throw new Error("wrk is not installed: apt-get install wrk");
  }
}

/**
 * @returns {Promise<{ requests: number, rps: number, p50_ms: number, p99_ms: number, errors: number, notified: number }>}
 */
export async function runWrk({
  url,
  workload,
  connections,
  seconds,
  tag,
  offset = 1,
  segments = 100,
  marker = 50,
  now,
}) {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "-s", SCRIPT, url];
  args.push("--", workload, tag, String(offset), String(segments), String(marker), now);
  const { stdout: out } = await promisify(execFile)("wrk", args, { encoding: "utf8", maxBuffer: 16 << 20 });
  const line = out.split("\n").find((l) => l.startsWith("BENCH "));
  if (!line) throw new Error(`wrk printed no result:\n${out}`);
  const r = JSON.parse(line.slice("BENCH ".length));
  const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
  return {
    requests: r.requests,
    rps: r.requests / (r.duration_us / 1e6),
    p50_ms: r.p50_us / 1000,
    p99_ms: r.p99_us / 1000,
    errors,
    notified: r.notified,
  };
}
