// The recovery engine's own cost: one COMPUTE_HOST host failure (segment
// recovery method auto) with N instances on the failed host, from
// POST /v1/notifications to the notification's status `finished`, every
// wait of the engine set to 0 and the Nova stand-in answering at once
// (every evacuation done at the first look). What remains is the engine:
// its Workflow steps, its D1 writes and its Nova round trips.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { undoing } from "./cleanup.mjs";
import { log } from "./measure.mjs";
import { startCeiling, startWorker } from "./targets.mjs";

const FLOOR_SCRIPT = path.join(import.meta.dirname, "..", "workflow-floor.js");

/** Every wait of the engine, in seconds, as the Worker's vars (src/config.ts). */
export const NO_WAITS = {
  WAIT_PERIOD_AFTER_SERVICE_UPDATE: "0",
  WAIT_PERIOD_AFTER_EVACUATION: "0",
  VERIFY_INTERVAL: "0",
  WAIT_PERIOD_AFTER_POWER_OFF: "0",
  WAIT_PERIOD_AFTER_POWER_ON: "0",
};

/** The cases of the full run: upstream's default of 3 threads, and 10 for the largest host. */
export const ENGINE_CASES = [
  { instances: 10, threads: 3 },
  { instances: 100, threads: 3 },
  { instances: 1_000, threads: 3 },
  { instances: 1_000, threads: 10 },
];
export const QUICK_ENGINE_CASES = [
  { instances: 10, threads: 3 },
  { instances: 100, threads: 3 },
];

/**
 * Hosts of any size (D20): evacuations Nova confirms only at the 31st look,
 * so every instance is polled 30 times; the evacuation phase outgrows the
 * run's instance and is carried by links. What matters here is the most
 * steps and subrequests any one Workflow instance used, not the time.
 */
export const SCALE_ENGINE_CASES = [
  { instances: 1_000, threads: 3, evacuatePolls: 30 },
  { instances: 5_000, threads: 3, evacuatePolls: 30 },
];

// Unreported, before the cases of each Worker: the isolates, the Workflow
// engine and the stand-in's first requests are not the engine's cost.
const WARM_UP = 10;
const POLL_MS = 20;
const DONE = new Set(["finished", "error", "failed", "ignored"]);
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) of process `pid` so far; null without /proc. */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** The workerd Miniflare started for this process (its child), or null. */
function workerdPid() {
  try {
    for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (parent === process.pid && stat.includes("(workerd)")) return Number(pid);
      } catch {}
    }
  } catch {}
  return null;
}

async function call(url, method, route, body) {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function expect(url, method, route, body, status) {
  const r = await call(url, method, route, body);
  if (r.status !== status) throw new Error(`${method} ${route}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** What Nova was asked, by kind: "GET /servers/{id}", "POST evacuate", ... */
function callKinds(calls) {
  const kinds = {};
  for (const c of calls) {
    const p = c.path.replace(/^.*?\/v2\.1/, "").split("?")[0];
    const kind =
      c.method === "POST" && p.endsWith("/action")
        ? `POST ${Object.keys(c.body ?? {})[0]}`
        : `${c.method} ${p.replace(/\/servers\/(?!detail)[^/]+/, "/servers/{id}").replace(/\/os-services\/.+/, "/os-services/{id}")}`;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(kinds).sort((a, b) => b[1] - a[1]));
}

/**
 * One host failure: a segment (auto) with the failed host and one other
 * host, made through the API; the same two hosts in the stand-in (the
 * failed one's nova-compute down, as Nova requires for an evacuation) and
 * `instances` servers on the failed one; then the notification, timed
 * until its status is final, and checked against the stand-in and D1.
 */
async function hostFailure(target, { instances, threads, label, evacuatePolls = 0 }) {
  const { url, nova } = target;
  await nova.control("POST", "reset");
  const failed = `${label}-failed`;
  const other = `${label}-other`;
  const segment = await expect(
    url,
    "POST",
    "/v1/segments",
    { segment: { name: label, recovery_method: "auto", service_type: "COMPUTE" } },
    202,
  );
  for (const name of [failed, other]) {
    await expect(
      url,
      "POST",
      `/v1/segments/${segment.segment.uuid}/hosts`,
      { host: { name, type: "COMPUTE", control_attributes: "SSH" } },
      201,
    );
  }
  await nova.control("POST", "hosts", { name: failed, state: "down" });
  await nova.control("POST", "hosts", { name: other });
  // evacuate_polls: how many looks at a server see its evacuation still
  // under way (0: done at the first).
  for (let i = 0; i < instances; i += 500) {
    const count = Math.min(500, instances - i);
    await nova.control("POST", "servers/bulk", {
      host: failed,
      count,
      prefix: `${label}-vm-${i}`,
      evacuate_polls: evacuatePolls,
    });
  }

  const load = os.loadavg()[0];
  const workerd = workerdPid();
  const workerdCpu = cpuSeconds(workerd);
  const novaCpu = cpuSeconds(nova.pid);
  const started = Date.now();
  const t0 = performance.now();
  const created = await expect(
    url,
    "POST",
    "/v1/notifications",
    {
      notification: {
        type: "COMPUTE_HOST",
        hostname: failed,
        generated_time: new Date().toISOString().slice(0, 19),
        payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" },
      },
    },
    202,
  );
  const uuid = created.notification.notification_uuid;
  // Generous: a minute, and a second an instance. A Workflow instance that
  // ended without ending its notification (a step limit, an uncaught
  // error) ends the wait too; it is looked at once a second.
  const deadline = t0 + 60_000 + 1_000 * instances;
  const workflowStatus = async () => (await (await target.mf.getBindings("api")).RECOVERY.get(`${uuid}-1`)).status();
  let notification = created.notification;
  for (let i = 1; !DONE.has(notification.status); i++) {
    if (performance.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    notification = (await expect(url, "GET", `/v1/notifications/${uuid}`, undefined, 200)).notification;
    if (i % Math.round(1000 / POLL_MS) === 0 && ["errored", "terminated"].includes((await workflowStatus()).status)) {
      break;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (before, after) => (before === null || after === null ? null : after - before);
  const workerdSeconds = cpu(workerdCpu, cpuSeconds(workerd));
  const novaSeconds = cpu(novaCpu, cpuSeconds(nova.pid));
  const loadAfter = os.loadavg()[0];

  const { calls } = await nova.control("GET", "calls");
  const times = calls.map((c) => Date.parse(c.time));
  const onOther = (await nova.control("GET", `state?host=${encodeURIComponent(other)}`)).servers;
  const onFailed = (await nova.control("GET", `state?host=${encodeURIComponent(failed)}`)).servers;
  const { results: moves } = await target.db
    .prepare("SELECT status, count(*) AS n FROM vmoves WHERE notification_uuid = ? GROUP BY status")
    .bind(uuid)
    .all();
  let workflow = null;
  try {
    const status = await workflowStatus();
    workflow = {
      status: status.status,
      steps: status.__LOCAL_DEV_STEP_OUTPUTS?.length ?? null,
      ...(status.error ? { error: status.error } : {}),
    };
  } catch (error) {
    workflow = { status: "unknown", error: String(error) };
  }

  // The most any one Workflow instance used: the run's, or a link of its phases (D20).
  const { results: usage } = await target.db
    .prepare(
      `SELECT 'run' AS what, max_steps AS steps, max_subrequests AS subrequests, 1 AS instances FROM recovery_runs WHERE notification_uuid = ?1
       UNION ALL SELECT scope, max_steps, max_subrequests, link FROM recovery_phases WHERE notification_uuid = ?1`,
    )
    .bind(uuid)
    .all();
  const perInstance = {
    steps: Math.max(0, ...usage.map((u) => u.steps ?? 0)),
    subrequests: Math.max(0, ...usage.map((u) => u.subrequests ?? 0)),
    instances: usage.reduce((n, u) => n + (u.instances ?? 0), 0),
    // At most this many steps in all: each instance's count is the most of its phase's links.
    totalSteps: usage.reduce((n, u) => n + (u.steps ?? 0) * (u.instances ?? 0), 0),
    byInstance: usage,
  };

  const problems = [];
  if (notification.status !== "finished") {
    problems.push(
      DONE.has(notification.status)
        ? `the notification ended ${notification.status}`
        : `the notification was still ${notification.status} after ${seconds.toFixed(0)} s`,
    );
  }
  const moved = onOther.filter((s) => s["OS-EXT-STS:vm_state"] === "active" && !s.locked).length;
  if (moved !== instances) problems.push(`${moved} of ${instances} instances active and unlocked on ${other}`);
  if (onFailed.length > 0) problems.push(`${onFailed.length} instances still on ${failed}`);
  const succeeded = moves.find((m) => m.status === "succeeded")?.n ?? 0;
  if (succeeded !== instances) problems.push(`VM moves: ${JSON.stringify(moves)}`);
  if (workflow.status !== "complete")
    problems.push(`Workflow instance ${workflow.status}: ${JSON.stringify(workflow)}`);

  return {
    instances,
    threads,
    evacuatePolls,
    notification: uuid,
    status: notification.status,
    ok: problems.length === 0,
    problems,
    seconds,
    msPerInstance: (seconds * 1000) / instances,
    workerdCpuSeconds: workerdSeconds,
    workerdCpuMsPerInstance: workerdSeconds === null ? null : (workerdSeconds * 1000) / instances,
    novaCpuSeconds: novaSeconds,
    novaCalls: calls.length,
    novaCallsPerInstance: calls.length / instances,
    novaCallKinds: callKinds(calls),
    // Not Math.min(...times): 5,000 polled instances are more calls than a spread may pass.
    firstNovaCallMs: times.length ? times.reduce((a, b) => Math.min(a, b)) - started : null,
    lastNovaCallMs: times.length ? times.reduce((a, b) => Math.max(a, b)) - started : null,
    workflow,
    perInstance,
    movedInstances: moved,
    vmoves: Object.fromEntries(moves.map((m) => [m.status, m.n])),
    loadAverage: { before: load, after: loadAfter },
  };
}

/**
 * The Workflow floor (workflow-floor.js) for one case: as many empty steps
 * as its recovery took, in as many lanes as it had threads, timed the same
 * way: from the POST that starts the instance to its status `complete`.
 */
async function floorRun(target, { steps, lanes, id }) {
  const workerd = workerdPid();
  const cpuBefore = cpuSeconds(workerd);
  const t0 = performance.now();
  await expect(target.url, "POST", `/?id=${id}&steps=${steps}&lanes=${lanes}`, undefined, 202);
  let status;
  do {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    ({ status } = await expect(target.url, "GET", `/?id=${id}`, undefined, 200));
  } while (status === "queued" || status === "running" || status === "waiting");
  const seconds = (performance.now() - t0) / 1000;
  const cpuAfter = cpuSeconds(workerd);
  return {
    steps,
    lanes,
    status,
    seconds,
    workerdCpuSeconds: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
  };
}

/**
 * Every case, grouped by thread count: one Worker (with its stand-in) per
 * HOST_FAILURE_RECOVERY_THREADS value, a warm-up host failure, then the
 * cases in order of size; then the Workflow floor of each. For other
 * experiments: `engineVars` on top of NO_WAITS, and a case's
 * `evacuatePolls` (how many looks at each server see its evacuation still
 * under way; bench/README.md's step limit run).
 */
export async function measureEngine({ script, config, port, novaPort, tmp, cases = ENGINE_CASES, engineVars = {} }) {
  const results = [];
  const started = Date.now();
  const loadBefore = os.loadavg()[0];
  for (const threads of [...new Set(cases.map((c) => c.threads))]) {
    const target = await startWorker({
      port,
      script,
      config,
      novaPort,
      persist: path.join(tmp, `engine-${threads}`),
      engineVars: { ...NO_WAITS, HOST_FAILURE_RECOVERY_THREADS: String(threads), ...engineVars },
      name: `engine-t${threads}`,
    });
    if (!target.nova) {
      await target.stop();
      throw new Error(`${script} has no recovery engine (no Workflow declared and exported)`);
    }
    await undoing(
      () => target.stop(),
      async () => {
        const warm = await hostFailure(target, { instances: WARM_UP, threads, label: `warm-t${threads}` });
        log(`engine warm-up (${WARM_UP} instances, ${threads} threads): ${warm.seconds.toFixed(2)} s ${warm.status}`);
        for (const c of cases.filter((x) => x.threads === threads).sort((a, b) => a.instances - b.instances)) {
          const polls = c.evacuatePolls ? `-p${c.evacuatePolls}` : "";
          const r = await hostFailure(target, { ...c, label: `h${c.instances}-t${threads}${polls}` });
          log(
            `engine ${String(c.instances).padStart(5)} instances, ${threads} threads: ${r.seconds.toFixed(2)} s, ` +
              `${r.msPerInstance.toFixed(1)} ms/instance, workerd CPU ${r.workerdCpuMsPerInstance?.toFixed(1) ?? "?"} ms/instance, ` +
              `${r.novaCalls} Nova calls, ${r.perInstance.instances} Workflow instances, at most ${r.perInstance.totalSteps} steps, ${r.status}` +
              (r.ok ? "" : ` — ${r.problems.join("; ")}`) +
              ` (load ${r.loadAverage.before.toFixed(2)} → ${r.loadAverage.after.toFixed(2)})`,
          );
          results.push(r);
        }
      },
    );
  }
  // The floor under each case, once the engine's Workers are gone.
  const floor = await startCeiling({
    port,
    script: FLOOR_SCRIPT,
    persist: path.join(tmp, "workflow-floor"),
    name: "workflow-floor",
    workflows: { FLOOR: { name: "workflow-floor", className: "WorkflowFloor" } },
  });
  await undoing(
    () => floor.stop(),
    async () => {
      await floorRun(floor, { steps: WARM_UP, lanes: 1, id: "warm-up" });
      for (const [i, r] of results.entries()) {
        // Empty steps as many as the run's own: not a floor for links that poll.
        if (!r.perInstance.totalSteps || r.evacuatePolls) continue;
        r.floor = await floorRun(floor, { steps: r.perInstance.totalSteps, lanes: r.threads, id: `floor-${i}` });
        log(
          `workflow floor: ${r.floor.steps} empty steps in ${r.floor.lanes} lanes: ${r.floor.seconds.toFixed(2)} s, ` +
            `workerd CPU ${r.floor.workerdCpuSeconds?.toFixed(2) ?? "?"} s, ${r.floor.status}`,
        );
      }
    },
  );
  return {
    waits: { ...NO_WAITS, ...engineVars },
    stepLimit: config.workflows?.[0]?.stepLimit ?? null,
    cases: results,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    loadAverage: { before: loadBefore, after: os.loadavg()[0] },
  };
}
