// npm run demo [-- fail HOST | recover HOST | status | stop | --var NAME:value ...]
//
// A small simulated cloud and this Worker wired to it, to watch a recovery
// end to end (docs/demo.md):
//   (no command)   starts the Nova stand-in (test/fakes/nova-server.mjs) with
//                  three compute hosts and a dozen servers, the Worker under
//                  `wrangler dev` on a fresh local D1 (scripts/worker-dev.sh)
//                  with short engine waits, creates a failover segment with the
//                  three hosts, prints the URLs, and stays in the foreground
//                  until Ctrl-C, which stops everything it started. Arguments
//                  starting with -- go to wrangler dev (e.g. --var NAME:value).
//   fail HOST      takes HOST down as a monitor sees it (its nova-compute down
//                  in the stand-in, then a COMPUTE_HOST notification), follows
//                  the recovery until it is over and shows where each server
//                  went; exit status 0 when it finished.
//   recover HOST   brings HOST back as an operator would after a repair.
//   status         the hosts, the servers and the latest notifications.
//   stop           stops a demo running in another terminal (as Ctrl-C there).
//
// The running demo writes its ports and pids to DEMO_DIR/demo.json, which the
// other commands read.
//
// environment:
//   DEMO_PORT            (8787)  the Worker, as `npm run dev`
//   DEMO_INSPECTOR_PORT  (9230)  wrangler dev's devtools inspector (9229 is npm run dev's)
//   DEMO_NOVA_PORT       (8774)  the Nova stand-in (Nova's own port)
//   DEMO_DIR             (.wrangler/demo)  state, logs and demo.json; git-ignored
//   DEMO_FAIL_TIMEOUT    (300)   seconds `fail` follows a recovery before giving up

import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const WORKER_DEV = path.join(ROOT, "scripts/worker-dev.sh");
const env = process.env;
const PORT = Number(env.DEMO_PORT ?? 8787);
const INSPECTOR_PORT = Number(env.DEMO_INSPECTOR_PORT ?? 9230);
const NOVA_PORT = Number(env.DEMO_NOVA_PORT ?? 8774);
const DIR = path.resolve(ROOT, env.DEMO_DIR ?? ".wrangler/demo");
const STATE = path.join(DIR, "state"); // wrangler's state, owned by worker-dev.sh
const STATE_FILE = path.join(DIR, "demo.json");
const WRANGLER_LOG = path.join(DIR, "wrangler.log");
const NOVA_LOG = path.join(DIR, "nova.log");
const FAIL_TIMEOUT = Number(env.DEMO_FAIL_TIMEOUT ?? 300);
const rel = (p) => path.relative(ROOT, p) || ".";

// --- the simulated cloud -------------------------------------------------------------------

// One zone, three hosts of the same size. compute-2 is kept nearly full so
// that compute-1's servers, placed by the stand-in's scheduler (the first
// host by name with room), spill over onto compute-3 too.
const HOSTS = ["compute-1", "compute-2", "compute-3"];
const HOST_SIZE = { vcpus: 16, memory_mb: 32768, local_gb: 400 };
const FLAVORS = {
  "m1.small": { vcpus: 1, ram: 2048, disk: 20 },
  "m1.medium": { vcpus: 2, ram: 4096, disk: 40 },
  "m1.large": { vcpus: 4, ram: 8192, disk: 80 },
};
const HA = { HA_Enabled: "True" };
// D24: the metadata the Worker is started with (HOST_FAILURE_PRIORITY_METADATA_KEY,
// HOST_FAILURE_EXCLUDE_METADATA), so that a failure shows an ordering and a skip.
const PRIORITY_KEY = "ha-priority";
const EXCLUDE = "managed-by=octavia";
const SERVERS = [
  { name: "db-1", host: "compute-1", flavor: "m1.large", metadata: { ...HA, [PRIORITY_KEY]: "100" } },
  { name: "web-1", host: "compute-1", flavor: "m1.medium", metadata: HA },
  { name: "app-1", host: "compute-1", flavor: "m1.medium", metadata: HA },
  { name: "amphora-1", host: "compute-1", flavor: "m1.small", metadata: { ...HA, "managed-by": "octavia" } },
  { name: "batch-1", host: "compute-1", flavor: "m1.small", metadata: {} },
  { name: "db-2", host: "compute-2", flavor: "m1.large", metadata: { ...HA, [PRIORITY_KEY]: "100" } },
  { name: "web-2", host: "compute-2", flavor: "m1.medium", metadata: HA },
  { name: "app-2", host: "compute-2", flavor: "m1.large", metadata: HA },
  { name: "cache-2", host: "compute-2", flavor: "m1.medium", metadata: {} },
  { name: "web-3", host: "compute-3", flavor: "m1.small", metadata: HA },
  { name: "app-3", host: "compute-3", flavor: "m1.medium", metadata: HA },
  { name: "worker-3", host: "compute-3", flavor: "m1.small", metadata: {} },
];
// Each evacuation completes after this many reads of the server, about as
// many seconds at VERIFY_INTERVAL 1: long enough to watch, short enough for a demo.
const EVACUATE_POLLS = 3;

// Upstream's waits are minutes; these keep a host failure well under a minute.
const ENGINE_VARS = {
  WAIT_PERIOD_AFTER_SERVICE_UPDATE: 5,
  WAIT_PERIOD_AFTER_EVACUATION: 30,
  WAIT_PERIOD_AFTER_POWER_OFF: 30,
  WAIT_PERIOD_AFTER_POWER_ON: 30,
  VERIFY_INTERVAL: 1,
  // Only HA-enabled servers move, so the demo shows the difference the metadata makes.
  HOST_FAILURE_EVACUATE_ALL_INSTANCES: "false",
  HOST_FAILURE_PRIORITY_METADATA_KEY: PRIORITY_KEY,
  HOST_FAILURE_EXCLUDE_METADATA: EXCLUDE,
};

// --- small helpers -------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (line = "") => process.stdout.write(`${line}\n`);
const warn = (line) => process.stderr.write(`demo: ${line}\n`);
const pad = (text, width) => String(text).padEnd(width);
const clock = () => new Date().toISOString().slice(11, 19);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}
// Whether pid is still the process we recorded, not a recycled pid.
function runs(pid, marker) {
  if (!alive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
  } catch {
    return true; // no /proc: trust the pid
  }
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function readState() {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, "utf8"));
  } catch {
    return undefined;
  }
}
const writeState = (state) => fs.writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);

/** A JSON call; throws with the status and the fault's message unless it is 2xx. */
async function call(base, method, route, body, headers = {}) {
  const response = await fetch(base + route, {
    method,
    headers: { ...(body ? { "Content-Type": "application/json" } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
    // wrangler dev answers nothing while it rebuilds after a change to src/: wait it out.
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { text };
  }
  if (!response.ok) {
    const fault = Object.values(json ?? {})[0];
    const message = fault?.message ?? json?.error ?? text;
    throw new Error(`${method} ${route}: ${response.status} ${message}`.trim());
  }
  return json;
}
const version = (v) => ({ "OpenStack-API-Version": `instance-ha ${v}` });

// --- the running demo, as the other commands find it ---------------------------------------

async function running() {
  const state = readState();
  if (!state || !runs(state.pid, "demo.mjs") || !state.ready) {
    warn(`no demo is running (nothing in ${rel(STATE_FILE)}); start one with: npm run demo`);
    process.exit(1);
  }
  return state;
}

// --- start ---------------------------------------------------------------------------------

async function start(wranglerArgs) {
  const earlier = readState();
  if (earlier && runs(earlier.pid, "demo.mjs")) {
    warn(
      `a demo already runs (pid ${earlier.pid}, ${earlier.publicUrl}); stop it with Ctrl-C there or: npm run demo -- stop`,
    );
    process.exit(1);
  }
  fs.mkdirSync(DIR, { recursive: true });
  if (earlier) leftovers(earlier);
  for (const port of [PORT, INSPECTOR_PORT, NOVA_PORT]) {
    if (await listening(port)) {
      warn(`port ${port} is already in use (npm run dev?); set DEMO_PORT, DEMO_INSPECTOR_PORT or DEMO_NOVA_PORT`);
      process.exit(1);
    }
  }

  const began = Date.now();
  const api = `http://127.0.0.1:${PORT}`;
  const nova = `http://127.0.0.1:${NOVA_PORT}`;
  const publicUrl = `http://localhost:${PORT}`;
  const state = { pid: process.pid, ready: false, api, publicUrl, nova, novaPid: undefined, workerState: STATE };
  writeState(state);

  // From here on, whatever ends this process stops what it started.
  let starter; // scripts/worker-dev.sh start, while it runs
  let novaChild;
  const timers = [];
  let stopping;
  let cleaned = false;
  const stopAll = async (code, why) => {
    if (stopping) return stopping;
    stopping = (async () => {
      for (const t of timers) clearInterval(t);
      if (why) say(`\n${why}`);
      say("demo: stopping the Worker and the Nova stand-in…");
      // A start under way stops what it started once it is signalled (its EXIT trap).
      if (starter && starter.exitCode === null && starter.signalCode === null) {
        const ended = new Promise((resolve) => starter.once("exit", resolve));
        killGroup(starter.pid, "SIGTERM");
        await Promise.race([ended, sleep(15_000)]);
      }
      // In a group of its own, so that a second Ctrl-C cannot cut the stop short.
      await new Promise((resolve) => {
        const stop = spawn(WORKER_DEV, ["stop", STATE], { stdio: "inherit", detached: true });
        stop.once("exit", resolve);
        stop.once("error", resolve);
      });
      await endNova(novaChild);
      fs.rmSync(STATE_FILE, { force: true });
      cleaned = true;
      say(`demo: stopped; logs in ${rel(DIR)}/`);
      process.exit(code);
    })();
    return stopping;
  };
  // Last resort for an exit that did not go through stopAll (it ends the process itself).
  process.on("exit", () => {
    if (cleaned) return;
    spawnSync(WORKER_DEV, ["kill", STATE], { stdio: "ignore" });
    if (novaChild) killGroup(novaChild.pid, "SIGKILL");
    fs.rmSync(STATE_FILE, { force: true });
  });
  process.on("SIGINT", () => stopAll(130));
  process.on("SIGTERM", () => stopAll(143));
  process.on("SIGHUP", () => stopAll(129));
  process.on("uncaughtException", (error) => stopAll(1, `demo: ${error.stack ?? error}`));

  try {
    await launch();
  } catch (error) {
    await stopAll(1, `demo: ${error.message ?? error}`);
  }

  async function launch() {
    // 1. The Nova stand-in, in its own process group.
    say(`demo: the Nova stand-in on ${nova}`);
    const novaOut = fs.openSync(NOVA_LOG, "w");
    novaChild = spawn(process.execPath, [path.join(ROOT, "test/fakes/nova-server.mjs"), String(NOVA_PORT)], {
      cwd: ROOT,
      stdio: ["ignore", novaOut, novaOut],
      detached: true,
    });
    fs.closeSync(novaOut);
    state.novaPid = novaChild.pid;
    writeState(state);
    novaChild.once("exit", (code, signal) => {
      if (!stopping) stopAll(1, `demo: the Nova stand-in ended (${signal ?? code}); see ${rel(NOVA_LOG)}`);
    });
    await until(() => listening(NOVA_PORT), 10_000, `the Nova stand-in did not listen on ${NOVA_PORT}`);
    await seed(nova);

    // 2. The Worker under wrangler dev on a fresh local D1, wired to the stand-in.
    say(`demo: wrangler dev on ${api}: building, migrating a fresh local D1 in ${rel(STATE)} (some seconds)…`);
    const vars = {
      AUTH_STRATEGY: "noauth2",
      NOVA_URL: `${nova}/v2.1`,
      DEMO_MODE: "true",
      PUBLIC_URL: publicUrl,
      ...ENGINE_VARS,
    };
    const args = [
      "start",
      STATE,
      String(PORT),
      String(INSPECTOR_PORT),
      WRANGLER_LOG,
      "--log-level",
      "log",
      ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
      ...wranglerArgs,
    ];
    starter = spawn(WORKER_DEV, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"], detached: true });
    const [code] = await new Promise((resolve) => starter.once("exit", (...end) => resolve(end)));
    starter = undefined;
    if (code !== 0) return stopAll(1, `demo: wrangler dev did not start; see ${rel(WRANGLER_LOG)}`);
    if (stopping) return;
    const wranglerPgid = Number(fs.readFileSync(path.join(STATE, "worker-dev.pid"), "utf8"));

    // 3. The failover segment, through the API.
    const segment = (
      await call(api, "POST", "/v1/segments", {
        segment: {
          name: "demo",
          recovery_method: "auto",
          service_type: "COMPUTE",
          description: "npm run demo: three compute hosts of the Nova stand-in",
        },
      })
    ).segment;
    for (const name of HOSTS) {
      await call(api, "POST", `/v1/segments/${segment.uuid}/hosts`, {
        host: { name, type: "COMPUTE", control_attributes: "SSH" },
      });
    }
    Object.assign(state, { ready: true, segment: { uuid: segment.uuid, name: segment.name }, hosts: HOSTS });
    writeState(state);

    say();
    say(`masakari-edge demo: up in ${seconds(Date.now() - began)}`);
    say();
    say(`  console   ${publicUrl}/console/`);
    say(`  API       ${publicUrl}/v1   (noauth2: every caller is admin; API reference at ${publicUrl}/docs)`);
    say(`  Nova      ${nova}/v2.1   (the stand-in; its control API at ${nova}/_control)`);
    say(`  segment   ${segment.name} (${segment.recovery_method}) ${segment.uuid}`);
    say();
    for (const host of HOSTS) {
      const on = SERVERS.filter((s) => s.host === host).map(describe);
      say(
        `  ${pad(host, 10)} ${HOST_SIZE.vcpus} vCPUs, ${HOST_SIZE.memory_mb / 1024} GB, ${HOST_SIZE.local_gb} GB disk`,
      );
      say(`             ${on.join(", ")}`);
    }
    say();
    say("Next, in another terminal:");
    say("  npm run demo -- fail compute-1     # a host goes down; watch the recovery");
    say("  npm run demo -- status             # hosts, servers, notifications");
    say();
    say("Ctrl-C here stops everything. Notifications as they change:");

    // 4. In the foreground: notifications as they change, the cron wrangler dev
    // does not fire on schedule (docs/engine.md, "Running it locally"), and an
    // end to the demo if either process dies. The notification list names no
    // host, only its uuid.
    const hostNames = new Map();
    for (const h of (await call(api, "GET", `/v1/segments/${segment.uuid}/hosts`)).hosts) hostNames.set(h.uuid, h.name);
    const hostName = (n) => hostNames.get(n.source_host_uuid) ?? n.source_host_uuid;
    const seen = new Map();
    const cron = () =>
      fetch(`${api}/cdn-cgi/local/scheduled?cron=*+*+*+*+*`, { signal: AbortSignal.timeout(30_000) }).catch(() => {});
    // wrangler dev rebuilds and reloads when a file under src/ changes, and a
    // reload leaves sleeping recovery runs asleep until the cron nudges them:
    // nudge them at once rather than let a poll run out of time.
    let logAt = fs.statSync(WRANGLER_LOG).size;
    const reloaded = () => {
      const size = fs.statSync(WRANGLER_LOG).size;
      if (size <= logAt) return false;
      const fd = fs.openSync(WRANGLER_LOG, "r");
      const fresh = Buffer.alloc(size - logAt);
      fs.readSync(fd, fresh, 0, fresh.length, logAt);
      fs.closeSync(fd);
      logAt = size;
      return fresh.toString().includes("Local server updated and ready");
    };
    let busy = false;
    timers.push(
      setInterval(async () => {
        if (stopping || busy) return;
        if (!alive(-wranglerPgid)) return stopAll(1, `demo: wrangler dev ended; see ${rel(WRANGLER_LOG)}`);
        busy = true;
        try {
          if (reloaded()) {
            say(`  ${clock()}  wrangler dev reloaded (a file under src/ changed); any live recovery nudged`);
            cron();
          }
          const { notifications } = await call(api, "GET", "/v1/notifications?limit=20");
          for (const n of notifications.reverse()) {
            if (seen.get(n.notification_uuid) === n.status) continue;
            seen.set(n.notification_uuid, n.status);
            const what = n.type === "COMPUTE_HOST" ? `${n.type} ${hostName(n)}` : n.type;
            say(`  ${clock()}  ${n.notification_uuid}  ${pad(what, 24)} ${n.status}`);
          }
        } catch {
          // wrangler dev busy or restarting: the next tick tries again
        } finally {
          busy = false;
        }
      }, 2000),
      setInterval(cron, 60_000),
    );
  }
}

// What an earlier demo, killed before it could clean up, left running.
function leftovers(earlier) {
  let any = false;
  if (fs.existsSync(path.join(earlier.workerState ?? STATE, "worker-dev.pid"))) {
    spawnSync(WORKER_DEV, ["stop", earlier.workerState ?? STATE], { stdio: "inherit" });
    any = true;
  }
  if (runs(earlier.novaPid, "nova-server.mjs")) {
    killGroup(earlier.novaPid, "SIGKILL");
    any = true;
  }
  if (any) say("demo: stopped what an earlier demo left running");
  fs.rmSync(STATE_FILE, { force: true });
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

async function endNova(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const ended = new Promise((resolve) => child.once("exit", resolve));
  killGroup(child.pid, "SIGTERM");
  if (await Promise.race([ended.then(() => true), sleep(3000).then(() => false)])) return;
  killGroup(child.pid, "SIGKILL");
  await ended;
}

async function until(condition, ms, message) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(message);
    await sleep(100);
  }
}

async function seed(nova) {
  for (const name of HOSTS) await call(nova, "POST", "/_control/hosts", { name, zone: "nova", ...HOST_SIZE });
  for (const s of SERVERS) {
    await call(nova, "POST", "/_control/servers", {
      name: s.name,
      host: s.host,
      metadata: s.metadata,
      flavor: { ...FLAVORS[s.flavor], original_name: s.flavor },
      evacuate_polls: EVACUATE_POLLS,
    });
  }
}

function describe(server) {
  const m = server.metadata ?? {};
  const notes = [];
  if (m.HA_Enabled === "True") notes.push("HA");
  if (m[PRIORITY_KEY]) notes.push(`priority ${m[PRIORITY_KEY]}`);
  if (`managed-by=${m["managed-by"]}` === EXCLUDE) notes.push(EXCLUDE);
  return `${server.name}${notes.length ? ` (${notes.join(", ")})` : ""}`;
}

// --- fail HOST -----------------------------------------------------------------------------

const FINAL = ["finished", "ignored", "failed"];

async function fail(host) {
  if (!host) {
    warn("usage: npm run demo -- fail HOST   (e.g. compute-1)");
    process.exit(2);
  }
  const state = await running();
  if (!state.hosts.includes(host)) {
    warn(`${host} is not a host of the demo; its hosts are ${state.hosts.join(", ")}`);
    process.exit(2);
  }
  const before = (await call(state.nova, "GET", `/_control/state?host=${encodeURIComponent(host)}`)).servers.reverse();
  // The engine's messages name servers by id; the terminal shows their names instead.
  const names = new Map((await call(state.nova, "GET", "/_control/state")).servers.map((s) => [s.id, s.name]));
  const named = (text) =>
    text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (id) => names.get(id) ?? id);

  // As a monitor sees it: nova-compute goes down, then the host monitor reports it.
  const began = Date.now();
  await call(state.nova, "POST", "/_control/hosts", { name: host, state: "down" });
  say(`demo: ${host}'s nova-compute is down in the Nova stand-in`);
  const report = {
    notification: {
      type: "COMPUTE_HOST",
      hostname: host,
      generated_time: new Date().toISOString().slice(0, 19),
      payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" },
    },
  };
  const { notification } = await call(state.api, "POST", "/v1/notifications", report);
  const id = notification.notification_uuid;
  say(`demo: reported as notification ${id} (${notification.status})`);
  say(`      ${state.publicUrl}/v1/notifications/${id}`);
  say("      its progress, as the API gives it at microversion 1.1 (servers named in place of their ids):");
  say();

  // Its status and the recovery's progress messages (microversion 1.1) until it is over.
  let status = notification.status;
  const shown = new Set();
  const deadline = began + FAIL_TIMEOUT * 1000;
  let n = notification;
  for (;;) {
    n = (await call(state.api, "GET", `/v1/notifications/${id}`, undefined, version("1.1"))).notification;
    const changed = n.status !== status;
    status = n.status;
    const over = FINAL.includes(status) || status === "error";
    const stamp = () => pad(`+${seconds(Date.now() - began)}`, 8);
    if (changed && !over) say(`  ${stamp()} status: ${status}`);
    for (const task of n.recovery_workflow_details ?? []) {
      for (const d of task.progress_details ?? []) {
        const key = `${task.name}|${d.timestamp}|${d.message}`;
        if (shown.has(key)) continue;
        shown.add(key);
        say(`  ${stamp()} ${pad(task.name, 31)} ${named(d.message)}`);
      }
    }
    if (changed && over) say(`  ${stamp()} status: ${status}`);
    // D22: held by the storm guard, it waits for an operator, not for time.
    if (status === "new" && (n.recovery_workflow_details ?? []).some((t) => t.name === "StormGuard")) {
      say();
      say(`demo: ${id} is held by the storm guard; release it with:`);
      say(
        `      curl -s ${state.publicUrl}/v1/notifications/${id}/action -H 'Content-Type: application/json' -d '{"release": null}'`,
      );
      process.exit(1);
    }
    if (FINAL.includes(status) || status === "error") break;
    if (Date.now() > deadline) {
      warn(`still ${status} after ${FAIL_TIMEOUT} s; follow it with: npm run demo -- status`);
      process.exit(1);
    }
    await sleep(500);
  }
  const took = Date.now() - began;
  say();
  say(`demo: ${id} ${status} ${seconds(took)} after ${host} went down`);
  if (status === "error") {
    say("      the periodic task retries an error once; or retry it now:");
    say(
      `      curl -s ${state.publicUrl}/v1/notifications/${id}/action -H 'Content-Type: application/json' -d '{"retry": null}'`,
    );
  }
  if (n.message && status !== "finished") say(`      message: ${n.message}`);

  // Where each of its servers went.
  const moves = (await call(state.api, "GET", `/v1/notifications/${id}/vmoves`, undefined, version("1.3"))).vmoves;
  const byServer = new Map(moves.map((m) => [m.instance_uuid, m]));
  const now = new Map(
    (await call(state.nova, "GET", "/_control/state")).servers.map((s) => [s.id, s["OS-EXT-SRV-ATTR:host"]]),
  );
  say();
  say(`Where ${host}'s servers went:`);
  for (const s of before) {
    const m = byServer.get(s.id);
    const where = now.get(s.id);
    const excluded = `managed-by=${s.metadata?.["managed-by"]}` === EXCLUDE;
    let fate;
    if (m?.status === "succeeded") fate = `-> ${m.dest_host}`;
    else if (m) fate = `${m.status}${m.message ? `: ${m.message}` : ""} (on ${where})`;
    else if (excluded) fate = `stays on ${where}: excluded (${EXCLUDE}), left to its service`;
    else if (s.metadata?.HA_Enabled !== "True") fate = `stays on ${where}: not HA-enabled`;
    else fate = `stays on ${where}`;
    say(`  ${pad(describe(s), 44)} ${fate}`);
  }
  process.exit(status === "finished" ? 0 : 1);
}

// --- recover HOST ----------------------------------------------------------------------------

// What an operator does once a failed host is repaired: nova-compute up and
// enabled again, and the host out of maintenance in Masakari, so that it
// takes servers again and a new failure of it is recovered.
async function recover(host) {
  const state = await running();
  if (!state.hosts.includes(host)) {
    warn(`usage: npm run demo -- recover HOST   (one of ${state.hosts.join(", ")})`);
    process.exit(2);
  }
  // Masakari first: while a notification of the segment is open, it refuses (upstream's rule).
  const { hosts } = await call(state.api, "GET", `/v1/segments/${state.segment.uuid}/hosts`);
  const masakari = hosts.find((h) => h.name === host);
  try {
    await call(state.api, "PUT", `/v1/segments/${state.segment.uuid}/hosts/${masakari.uuid}`, {
      host: { on_maintenance: false },
    });
  } catch (error) {
    if (!error.message.includes("in-use")) throw error;
    warn(`${error.message}`);
    warn("a notification of the segment is still new, running or error: let it end, or set it aside first:");
    warn(
      `  curl -s ${state.publicUrl}/v1/notifications/ID/action -H 'Content-Type: application/json' -d '{"ignore": {"reason": "demo"}}'`,
    );
    process.exit(1);
  }
  await call(state.nova, "POST", "/_control/hosts", { name: host, state: "up", status: "enabled" });
  say(`demo: ${host} is back: nova-compute up and enabled, out of maintenance (its servers stay where they went)`);
}

// --- status --------------------------------------------------------------------------------

async function status() {
  const state = await running();
  const { hosts } = await call(state.api, "GET", `/v1/segments/${state.segment.uuid}/hosts`);
  say(`segment ${state.segment.name} ${state.segment.uuid}   console ${state.publicUrl}/console/`);
  say();
  for (const host of state.hosts) {
    const { servers, services } = await call(state.nova, "GET", `/_control/state?host=${encodeURIComponent(host)}`);
    const service = services[0] ?? {};
    const masakari = hosts.find((h) => h.name === host);
    const nova = `nova-compute ${service.state}/${service.status}`;
    const maintenance = masakari?.on_maintenance ? "on maintenance" : "in service";
    say(`${pad(host, 10)} ${pad(nova, 26)} masakari: ${maintenance}`);
    for (const s of servers.reverse()) say(`    ${pad(describe(s), 44)} ${s.status}`);
  }
  const { notifications } = await call(state.api, "GET", "/v1/notifications?limit=5");
  say();
  say(notifications.length ? "latest notifications:" : "no notifications yet: npm run demo -- fail compute-1");
  const names = new Map(hosts.map((h) => [h.uuid, h.name]));
  for (const n of notifications) {
    say(`  ${n.notification_uuid}  ${pad(n.type, 12)} ${pad(names.get(n.source_host_uuid) ?? "", 10)} ${n.status}`);
  }
}

// --- stop ----------------------------------------------------------------------------------

async function stop() {
  const state = readState();
  if (!state) {
    warn("no demo is running");
    return;
  }
  if (!runs(state.pid, "demo.mjs")) {
    // It died without cleaning up (SIGKILL): what it started may still run.
    leftovers(state);
    return;
  }
  process.kill(state.pid, "SIGINT");
  const deadline = Date.now() + 30_000;
  while (alive(state.pid)) {
    if (Date.now() > deadline) {
      warn(`the demo (pid ${state.pid}) did not stop within 30 s`);
      process.exit(1);
    }
    await sleep(200);
  }
  say("demo: stopped");
}

// --- main ----------------------------------------------------------------------------------

const [command, ...rest] = process.argv.slice(2);
// `npm run demo -- status | head`: a closed pipe ends a one-shot command quietly.
if (command !== undefined && command !== "start" && !command.startsWith("--")) {
  process.stdout.on("error", () => process.exit(0));
}
try {
  if (command === undefined || command === "start" || command.startsWith("--")) {
    await start(command === undefined || command === "start" ? rest : [command, ...rest]);
  } else if (command === "fail") await fail(rest[0]);
  else if (command === "recover") await recover(rest[0]);
  else if (command === "status") await status();
  else if (command === "stop") await stop();
  else {
    warn("usage: npm run demo [-- fail HOST | recover HOST | status | stop | --var NAME:value ...]");
    process.exit(2);
  }
} catch (error) {
  warn(error.message);
  process.exit(1);
}
