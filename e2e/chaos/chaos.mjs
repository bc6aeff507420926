#!/usr/bin/env node
// The chaos suite's driver (run by e2e/chaos/run.sh, which starts the Nova
// stand-in and `wrangler dev` and stops them afterwards):
//
//   node e2e/chaos/chaos.mjs [--seed N] [--kills K]
//
// builds a small cloud in the stand-in and in Masakari, posts four
// notifications (a host failure in an `auto` segment, one in a
// `reserved_host` segment, a VM and a PROCESS failure), and meanwhile kills
// the Worker with SIGKILL at random moments, restarts it on the same state
// and runs the Cron Trigger the way a real cron would, and injects a Nova
// outage of about 15 s mid-recovery. Once every notification has ended (or
// at the deadline) it checks, from the stand-in's call log and state and
// from the API, what must hold whatever the crashes (the report lists the
// checks; e2e/chaos/README.md explains them). Exits 1 when any check fails.
//
// environment (set by run.sh): CHAOS_ENDPOINT, CHAOS_NOVA, CHAOS_PROXY_PORT
// (the Worker's NOVA_URL points there), CHAOS_STATE (the worker-dev.sh state
// directory to kill and restart), CHAOS_WORK (logs).
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");
const WORKER_DEV = path.join(ROOT, "scripts", "worker-dev.sh");
const ENDPOINT = process.env.CHAOS_ENDPOINT ?? "http://127.0.0.1:18890";
const NOVA = process.env.CHAOS_NOVA ?? "http://127.0.0.1:18892";
// The Worker reaches the stand-in through this driver's proxy (CHAOS_PROXY_PORT).
const PROXY_PORT = Number(process.env.CHAOS_PROXY_PORT ?? 18893);
const STATE = process.env.CHAOS_STATE ?? path.join(ROOT, ".conformance", "chaos", "state");
const WORK = process.env.CHAOS_WORK ?? path.join(ROOT, ".conformance", "chaos");

// --- the engine's settings this world is built around ------------------------------------------
// run.sh's PROCESS_UNFINISHED_NOTIFICATIONS_INTERVAL: the schedule depends on it (due in even UTC minutes).
const PERIODIC_INTERVAL = 120;
// The engine's default reasons for disabling nova-compute.
const HOST_DISABLE_REASON = "Masakari detected host failed.";
const PROCESS_DISABLE_REASON = "Masakari detected process failed.";
const TERMINAL = new Set(["finished", "failed", "ignored"]);
const DEADLINE_SECONDS = 360; // from the host failures' post
const OUTAGE_SECONDS = 15;
// Marks the stand-in calls made by this driver's Nova clock, so that they
// are told apart from the engine's in the call log.
const CLOCK_TOKEN = "chaos-nova-clock";

// --- arguments and the seeded PRNG -------------------------------------------------------------
function parseArgs(argv) {
  const out = { seed: undefined, kills: 10 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const value = inline ?? argv[++i];
    if (flag === "--seed") out.seed = Number(value);
    else if (flag === "--kills") out.kills = Number(value);
    else throw new Error(`unknown argument ${argv[i]} (usage: chaos.mjs [--seed N] [--kills K])`);
    if (!Number.isInteger(flag === "--seed" ? out.seed : out.kills)) throw new Error(`${flag} needs an integer`);
  }
  out.seed ??= Math.floor(Math.random() * 2 ** 31);
  if (out.kills < 10) throw new Error("--kills must be at least 10");
  return out;
}

/** mulberry32: small, fast, and the same sequence for a seed on every machine. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    float: next,
    between: (lo, hi) => lo + next() * (hi - lo),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)],
  };
}

// --- output ----------------------------------------------------------------------------------------
const started = Date.now();
const at = () => ((Date.now() - started) / 1000).toFixed(1);
const events = [];
function say(message) {
  const line = `[${at().padStart(6)}s] ${message}`;
  events.push(line);
  console.log(line);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- HTTP ------------------------------------------------------------------------------------------
// node:http without an agent: a fresh connection per request. A pooled
// keep-alive socket to a Worker killed meanwhile would fail the first
// request after each restart.
function request(base, method, target, { body, headers = {}, timeout = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    const url = new URL(target, base);
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        agent: false,
        timeout,
        headers: { Accept: "application/json", ...(data ? { "Content-Type": "application/json" } : {}), ...headers },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            json = { text };
          }
          resolve({ status: res.statusCode, json });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${url.pathname}: no answer within ${timeout} ms`)));
    req.on("error", reject);
    req.end(data);
  });
}

// 1.3: recovery_workflow_details (1.1) and the VM moves (1.3).
const API_HEADERS = { "OpenStack-API-Version": "instance-ha 1.3" };

/** The Masakari API; a GET is retried while the Worker is down or restarting. */
async function api(method, target, body, { retryFor = 30_000 } = {}) {
  const until = Date.now() + (method === "GET" ? retryFor : 0);
  for (;;) {
    try {
      return await request(ENDPOINT, method, `/v1${target}`, { body, headers: API_HEADERS });
    } catch (error) {
      if (Date.now() >= until) throw error;
      await sleep(250);
    }
  }
}

async function apiOk(method, target, body) {
  const res = await api(method, target, body);
  if (res.status < 200 || res.status >= 300)
    throw new Error(`${method} /v1${target}: ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
  return res.json;
}

async function nova(method, target, body) {
  const res = await request(NOVA, method, `/_control/${target}`, { body });
  if (res.status >= 300) throw new Error(`stand-in ${method} ${target}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

// --- the world ---------------------------------------------------------------------------------------
// Three segments, each in its own availability zone (the stand-in's
// scheduler keeps an evacuation inside the server's zone):
//   A (auto):          A-failed (down, ~30 servers), A-t1, A-t2 (up)
//   B (reserved_host): B-failed (down, ~10 servers), B-r1, B-r2 (up, nova-compute
//                      disabled as operators keep reserved hosts, reserved in Masakari)
//   C (auto):          C-vm (up, the VM notification's server), C-proc (up, the
//                      PROCESS notification's host)
const VM_STATES = [
  ["active", 0.5],
  ["stopped", 0.3],
  ["error", 0.2],
];

function pickWeighted(rng, table) {
  let x = rng.float();
  for (const [value, weight] of table) {
    x -= weight;
    if (x < 0) return value;
  }
  return table[table.length - 1][0];
}

function buildWorld(rng, seed) {
  const tag = `s${seed.toString(36)}-${Date.now().toString(36)}`;
  const host = (name) => `chaos-${tag}-${name}`;
  const servers = (failed, count, prefix) =>
    Array.from({ length: count }, (_, i) => ({
      name: `${prefix}-${String(i + 1).padStart(2, "0")}`,
      failed,
      vm: pickWeighted(rng, VM_STATES),
      ha: rng.chance(0.6),
      evacuatePolls: rng.int(2, 5),
      powerPolls: rng.int(1, 2),
    }));
  const world = {
    tag,
    segments: {
      A: { method: "auto", zone: `${tag}-za`, failed: host("a-failed"), healthy: [host("a-t1"), host("a-t2")] },
      B: {
        method: "reserved_host",
        zone: `${tag}-zb`,
        failed: host("b-failed"),
        reserved: [host("b-r1"), host("b-r2")],
      },
      C: { method: "auto", zone: `${tag}-zc`, vmHost: host("c-vm"), procHost: host("c-proc") },
    },
  };
  world.servers = [
    ...servers(world.segments.A.failed, rng.int(28, 32), "a"),
    ...servers(world.segments.B.failed, rng.int(9, 12), "b"),
  ];
  world.vmServer = {
    name: "c-vm-ha",
    vm: rng.pick(["active", "stopped"]),
    powerPolls: rng.int(1, 2),
  };
  // Nova's page size: the failed hosts' listings span several pages.
  world.maxLimit = rng.int(6, 12);
  return world;
}

async function createWorld(world) {
  const { A, B, C } = world.segments;
  // Nova first: Masakari checks host names against it (D10).
  const hosts = [
    { name: A.failed, zone: A.zone, state: "down" },
    ...A.healthy.map((name) => ({ name, zone: A.zone })),
    { name: B.failed, zone: B.zone, state: "down" },
    ...B.reserved.map((name) => ({ name, zone: B.zone, status: "disabled", disabled_reason: "reserved host" })),
    { name: C.vmHost, zone: C.zone },
    { name: C.procHost, zone: C.zone },
  ];
  for (const h of hosts) await nova("POST", "hosts", h);
  await nova("POST", "settings", { max_limit: world.maxLimit });
  for (const s of world.servers) {
    const created = await nova("POST", "servers", {
      name: s.name,
      host: s.failed,
      vm_state: s.vm,
      metadata: s.ha ? { HA_Enabled: "True" } : {},
      evacuate_polls: s.evacuatePolls,
      power_polls: s.powerPolls,
    });
    s.id = created.id;
  }
  const vm = world.vmServer;
  vm.id = (
    await nova("POST", "servers", {
      name: vm.name,
      host: C.vmHost,
      vm_state: vm.vm,
      metadata: { HA_Enabled: "True" },
      power_polls: vm.powerPolls,
    })
  ).id;

  const segment = async (key, seg, members) => {
    const body = {
      segment: { name: `chaos-${world.tag}-${key}`, recovery_method: seg.method, service_type: "COMPUTE" },
    };
    seg.uuid = (await apiOk("POST", "/segments", body)).segment.uuid;
    seg.hostUuids = {};
    for (const [name, reserved] of members) {
      const created = await apiOk("POST", `/segments/${seg.uuid}/hosts`, {
        host: { name, type: "COMPUTE", control_attributes: "SSH", reserved },
      });
      seg.hostUuids[name] = created.host.uuid;
    }
  };
  await segment("a", A, [[A.failed, false], ...A.healthy.map((n) => [n, false])]);
  // Created in this order, B-r2 is the newest: the engine tries it first.
  await segment("b", B, [[B.failed, false], ...B.reserved.map((n) => [n, true])]);
  await segment("c", C, [
    [C.vmHost, false],
    [C.procHost, false],
  ]);
}

// --- notifications ------------------------------------------------------------------------------
// Each as its monitor posts it (masakari-monitors).
function notificationsOf(world) {
  const { A, B, C } = world.segments;
  const hostDown = { event: "STOPPED", cluster_status: "OFFLINE", host_status: "NORMAL" };
  return {
    auto: { label: "host failure (auto)", type: "COMPUTE_HOST", host: A.failed, segment: A, payload: hostDown },
    reserved: {
      label: "host failure (reserved_host)",
      type: "COMPUTE_HOST",
      host: B.failed,
      segment: B,
      payload: hostDown,
    },
    vm: {
      label: "VM LIFECYCLE/STOPPED_FAILED",
      type: "VM",
      host: C.vmHost,
      segment: C,
      payload: { event: "LIFECYCLE", instance_uuid: world.vmServer.id, vir_domain_event: "STOPPED_FAILED" },
    },
    process: {
      label: "PROCESS nova-compute STOPPED",
      type: "PROCESS",
      host: C.procHost,
      segment: C,
      payload: { event: "STOPPED", process_name: "nova-compute" },
    },
  };
}

async function post(n) {
  const body = {
    notification: {
      type: n.type,
      hostname: n.host,
      generated_time: new Date().toISOString().replace("Z", ""),
      payload: n.payload,
    },
  };
  for (let attempt = 1; attempt <= 5; attempt++) {
    let res;
    try {
      res = await api("POST", "/notifications", body);
    } catch {
      // Lost on the way: it may still have been stored. A notification of
      // that host and type in the list is this one (each host posts once).
      const hostUuid = n.segment.hostUuids[n.host];
      const listed = await apiOk("GET", `/notifications?source_host_uuid=${hostUuid}&type=${n.type}`);
      if (listed.notifications.length > 0) return listed.notifications[0].notification_uuid;
      await sleep(500);
      continue;
    }
    if (res.status !== 202) throw new Error(`POST notification ${n.label}: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json.notification.notification_uuid;
  }
  throw new Error(`POST notification ${n.label}: no answer after 5 attempts`);
}

// --- the Worker: crashes, restarts and the cron -----------------------------------------------------
// Asynchronous, so that timers (the outage's end) keep their time while
// the Worker restarts.
function workerDev(command) {
  return new Promise((resolve, reject) => {
    const child = spawn(WORKER_DEV, [command, STATE], { stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`scripts/worker-dev.sh ${command} failed (exit ${code})`)),
    );
  });
}

const CRON = "/cdn-cgi/local/scheduled?cron=*+*+*+*+*";
const sweeps = { ok: 0, failed: 0, cut: 0 };

/**
 * One tick of the Cron Trigger; `retryFor` ms while the Worker is not
 * answering yet. `doomed`: a sweep the run kills on purpose, not counted
 * as the cron failing.
 */
async function sweep(retryFor = 0, doomed = false) {
  const until = Date.now() + retryFor;
  for (;;) {
    try {
      const res = await request(ENDPOINT, "GET", CRON, { timeout: 30_000 });
      if (res.status === 200) sweeps.ok++;
      else {
        sweeps.failed++;
        say(`cron: HTTP ${res.status} ${JSON.stringify(res.json).slice(0, 200)}`);
      }
      return;
    } catch (error) {
      if (doomed) {
        sweeps.cut++;
        return;
      }
      if (Date.now() >= until) {
        sweeps.failed++;
        say(`cron: ${error.message}`);
        return;
      }
      await sleep(250);
    }
  }
}

// --- the stand-in's call log and state ---------------------------------------------------------------
async function calls(since = 0) {
  return (await nova("GET", `calls?since=${since}`)).calls;
}
const engineCalls = (list) => list.filter((c) => c.auth !== CLOCK_TOKEN);
const actionOf = (c) => (c.body && typeof c.body === "object" ? Object.keys(c.body)[0] : undefined);
const isWrite = (c) => c.method === "POST" || c.method === "PUT";
// A call still in progress when the log is read has no status yet.
const accepted = (c) => c.status !== null && c.status < 300;

async function lastSeq() {
  const all = await calls();
  return all.length ? all[all.length - 1].seq : 0;
}

// Nova finishes what it accepted at its own pace, whoever watches: the
// stand-in moves asynchronous work on only when a server is read, so this
// clock reads every server that has a task in progress every few seconds.
// Without it a server whose evacuation the engine stopped watching (its
// move failed in the outage) would stay `rebuilding` for ever.
async function novaClock() {
  const { servers } = await nova("GET", "state");
  for (const s of servers) {
    if (s["OS-EXT-STS:task_state"] === null) continue;
    await request(NOVA, "GET", `/v2.1/servers/${s.id}`, { headers: { "X-Auth-Token": CLOCK_TOKEN } }).catch(() => {});
  }
}

// --- the Worker's way to Nova: a proxy that can catch a write mid-flight --------------------------
// The stand-in can refuse or hold a call, but not apply it and then keep
// its answer back, which is the case the engine's exactly-once design is
// about (a step that made its call and died before recording it). The
// proxy forwards everything, and when a trap is set it catches the
// engine's next write of a kind: killed "answered" just after Nova's answer
// went back, "applied" with Nova's answer held back, or "unsent" held
// before Nova saw it. The held request is dropped by the kill that follows.
let trap = null;

/** Sets a trap for the next write of `action` (a server action, "os-services" for a PUT, or "any"). */
function setTrap(kind, action) {
  let fire;
  const sprung = new Promise((resolve) => {
    fire = resolve;
  });
  trap = { kind, action, fire };
  return sprung;
}

function catches(method, target, body) {
  if (!trap || (method !== "POST" && method !== "PUT")) return null;
  let action = method === "PUT" ? "os-services" : undefined;
  try {
    action ??= Object.keys(JSON.parse(body.toString() || "{}"))[0];
  } catch {
    action = undefined;
  }
  if (trap.action !== "any" && trap.action !== action) return null;
  const caught = trap;
  trap = null;
  caught.line = `${method} ${target.replace(/^\/v2\.1/, "")} ${action ?? ""}`.trim();
  return caught;
}

function startProxy() {
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const caught = catches(req.method, req.url, body);
    if (caught?.kind === "unsent") return caught.fire(caught.line);
    const { host: _, connection: __, ...headers } = req.headers;
    const upstream = http.request(new URL(req.url, NOVA), { method: req.method, headers, agent: false }, (answer) => {
      const parts = [];
      answer.on("data", (c) => parts.push(c));
      answer.on("end", () => {
        if (caught?.kind === "applied") return caught.fire(caught.line);
        res.writeHead(answer.statusCode, answer.headers);
        res.end(Buffer.concat(parts));
        if (caught?.kind === "answered") caught.fire(caught.line);
      });
    });
    upstream.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    upstream.end(body);
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(PROXY_PORT, "127.0.0.1", () => resolve(server));
  });
}

// --- the run ---------------------------------------------------------------------------------------------
/** The next minute of the wall clock in which the periodic task is not due (odd UTC minutes at 120 s). */
function nextQuietMinute(notBefore) {
  const period = Math.round(PERIODIC_INTERVAL / 60);
  let minute = Math.ceil(notBefore / 60_000);
  while (minute % period === 0) minute++;
  return minute * 60_000;
}

// What the run has done so far, for the report even when it is cut short.
const outcome = {
  world: null,
  notes: {},
  since: 0,
  state: { uuids: {}, timelines: {}, kills: [], outage: null, allTerminalAt: null, allTerminalSeq: null },
};

async function run(options) {
  // One stream each, so that the world, the schedule and the k-th kill stay
  // the same for a seed however the engine's timing shifts the rest.
  const rng = {
    world: prng(options.seed),
    plan: prng(options.seed ^ 0x9e3779b9),
    kills: prng(options.seed ^ 0x85ebca6b),
    cron: prng(options.seed ^ 0xc2b2ae35),
  };
  say(`seed ${options.seed}, at least ${options.kills} kills`);
  const world = buildWorld(rng.world, options.seed);
  await createWorld(world);
  const counts = { active: 0, stopped: 0, error: 0, ha: 0 };
  for (const s of world.servers) {
    counts[s.vm]++;
    if (s.ha) counts.ha++;
  }
  const on = (host) => world.servers.filter((s) => s.failed === host).length;
  say(
    `world ${world.tag}: ${on(world.segments.A.failed)} servers on the auto host, ` +
      `${on(world.segments.B.failed)} on the reserved_host host (${counts.active} ACTIVE, ${counts.stopped} SHUTOFF, ` +
      `${counts.error} ERROR; ${counts.ha} HA_Enabled); the VM server ${world.vmServer.vm}; ` +
      `Nova's pages of ${world.maxLimit} servers`,
  );
  const notes = notificationsOf(world);
  const since = await lastSeq();
  Object.assign(outcome, { world, notes, since });
  const state = outcome.state;

  // The schedule. The periodic task re-runs an `error` notification only in
  // the minutes it is due (even UTC minutes at 120 s, upstream's default
  // interval), so the outage is placed inside a minute when it is not: Nova
  // is back before any re-run, and every notification can end `finished`.
  // The auto host fails shortly before that minute so that its
  // evacuations are under way when the outage begins; the reserved_host
  // host (a third of the servers: its recovery lasts some 20 s) shortly
  // before the outage, so that the outage finds it running too; the VM and
  // PROCESS failures at random moments from the first post to the outage's
  // middle.
  const quiet = nextQuietMinute(Date.now() + 35_000);
  const hostFailures = quiet - rng.plan.between(18_000, 30_000);
  const outageFrom = quiet + rng.plan.between(0, 15_000);
  const plan = {
    hostFailures,
    reserved: Math.max(hostFailures, outageFrom - rng.plan.between(2_000, 20_000)),
    vm: hostFailures + rng.plan.between(-3_000, quiet + 25_000 - hostFailures),
    process: hostFailures + rng.plan.between(-3_000, quiet + 25_000 - hostFailures),
    // Right after its post, kill at the engine's first Nova write: these
    // recoveries last a second or two, which a kill at a random moment
    // would rarely hit.
    vmPrompt: rng.plan.chance(0.5),
    processPrompt: rng.plan.chance(0.5),
    outageFrom,
    outageLatest: quiet + 38_000,
    outageLength: rng.plan.between(OUTAGE_SECONDS - 1, OUTAGE_SECONDS + 1) * 1000,
  };
  const rel = (t) => `+${((t - started) / 1000).toFixed(1)}s`;
  say(
    `plan: auto host failure at ${rel(plan.hostFailures)}, reserved_host at ${rel(plan.reserved)}, ` +
      `VM at ${rel(plan.vm)}, PROCESS at ${rel(plan.process)}, ` +
      `Nova outage from ${rel(plan.outageFrom)} (once the auto host's evacuations run) for ` +
      `${(plan.outageLength / 1000).toFixed(1)} s; the periodic task is next due at ${rel(quiet + 60_000)}`,
  );

  // Kills come while some recovery is in progress, after random spans of
  // such time: waiting for the schedule or for the periodic task, the
  // Worker has nothing to lose.
  const killGap = () => rng.kills.between(0.4, 1.6) * Math.max(3, 100 / options.kills) * 1000;
  const KILL_MODES = [
    ["at once", 0.15],
    ["answered", 0.2],
    ["applied", 0.35],
    ["unsent", 0.1],
    ["during a cron sweep", 0.2],
  ];
  const TRAPS = {
    answered: "right after Nova answered",
    applied: "with Nova's answer held back from",
    unsent: "with Nova never shown",
  };
  // The writes a trap waits for: each kind the engine must send once, the
  // evacuate most of all.
  const TRAPPED_ACTIONS = [
    ["evacuate", 0.25],
    ["lock", 0.1],
    ["unlock", 0.1],
    ["os-stop", 0.1],
    ["os-resetState", 0.1],
    ["os-start", 0.05],
    ["os-services", 0.05],
    ["any", 0.25],
  ];
  // Once everything has ended the engine writes nothing to wait for.
  const LATE_KILL_MODES = [
    ["at once", 0.6],
    ["during a cron sweep", 0.4],
  ];
  let gap = killGap();
  let busyFor = 0; // ms of recovery in progress since the last kill
  let promptKill = false;
  let nextSweep = Date.now() + rng.cron.between(2_000, 5_000);
  let nextClock = Date.now() + 3_000;
  let nextPoll = Date.now();
  let deadline = Infinity;
  let lastTick = Date.now();

  const postOne = async (key) => {
    state.uuids[key] = await post(notes[key]);
    state.timelines[key] = [["new", at()]];
    say(`posted ${notes[key].label}: ${state.uuids[key]}`);
  };

  const pollStatuses = async () => {
    for (const [key, uuid] of Object.entries(state.uuids)) {
      const line = state.timelines[key];
      let res;
      try {
        res = await api("GET", `/notifications/${uuid}`, undefined, { retryFor: 0 });
      } catch {
        return; // the Worker is down: next time
      }
      const status = res.json?.notification?.status;
      if (status && status !== line.at(-1)[0]) {
        line.push([status, at()]);
        say(`${notes[key].label}: ${status}`);
      }
    }
  };
  const ended = (key) => state.timelines[key] && TERMINAL.has(state.timelines[key].at(-1)[0]);
  // A notification in `error` waits for the periodic task with nothing in flight.
  const busy = () => Object.values(state.timelines).some((line) => ["new", "running"].includes(line.at(-1)[0]));

  const kill = async (mode, action = "any") => {
    const record = { at: at(), kind: TRAPS[mode] ? `${TRAPS[mode]} a write` : mode, mode };
    if (TRAPS[mode]) {
      const sprung = await Promise.race([setTrap(mode, action), sleep(3_000).then(() => null)]);
      trap = null;
      record.mode = sprung
        ? `${TRAPS[mode]} ${sprung}`
        : `${TRAPS[mode]} the next ${action === "any" ? "write" : action} (none within 3 s: at once)`;
    } else if (mode === "during a cron sweep") {
      sweep(0, true);
      await sleep(rng.kills.between(20, 400));
    }
    record.at = at();
    await workerDev("kill");
    const down = Date.now();
    await workerDev("restart");
    record.downSeconds = ((Date.now() - down) / 1000).toFixed(1);
    state.kills.push(record);
    say(`kill #${state.kills.length} at ${record.at}s (${record.mode}); back after ${record.downSeconds} s`);
    // A restarted `wrangler dev` resumes no Workflow instance by itself:
    // the cron does, and a real one would run within the minute.
    await sweep(30_000);
  };

  for (;;) {
    const now = Date.now();
    if (busy() || state.allTerminalAt) busyFor += now - lastTick;
    lastTick = now;

    if (!state.uuids.auto && now >= plan.hostFailures) {
      await postOne("auto");
      deadline = Date.now() + DEADLINE_SECONDS * 1000;
    }
    for (const key of ["reserved", "vm", "process"]) {
      if (state.uuids[key] || now < plan[key]) continue;
      await postOne(key);
      if (plan[`${key}Prompt`]) promptKill = true;
    }

    if (!state.outage && state.uuids.auto && now >= plan.outageFrom) {
      // Mid-recovery: while the auto host's evacuations run, or at the
      // latest moment that still ends the outage within the quiet minute.
      const autoStatus = state.timelines.auto.at(-1)[0];
      const evacuating =
        autoStatus === "running" &&
        engineCalls(await calls(since)).some((c) => actionOf(c) === "evacuate" && accepted(c));
      if (evacuating || TERMINAL.has(autoStatus) || now >= plan.outageLatest) {
        const { id } = await nova("POST", "faults", { status: 500 });
        state.outage = { id, from: Date.now() };
        const why = evacuating ? "during the auto host's evacuations" : `the auto host's recovery ${autoStatus}`;
        say(`Nova outage begins (${why}): every call answered 500`);
        // On its own timer: a kill and restart under way must not stretch
        // the outage into the minute the periodic task re-runs.
        state.outage.timer = new Promise((resolve) => setTimeout(resolve, plan.outageLength))
          .then(async () => {
            await nova("DELETE", `faults/${state.outage.id}`);
            state.outage.ended = Date.now();
            say(`Nova outage ends after ${((state.outage.ended - state.outage.from) / 1000).toFixed(1)} s`);
          })
          .catch((error) => say(`the outage could not be ended: ${error.message}`));
      }
    }

    if (now >= nextPoll) {
      await pollStatuses();
      nextPoll = Date.now() + 1_000;
    }
    if (now >= nextClock) {
      await novaClock();
      nextClock = Date.now() + 3_000;
    }
    if (now >= nextSweep) {
      await sweep();
      nextSweep = Date.now() + rng.cron.between(2_000, 5_000);
    }

    const everythingPosted = Object.keys(notes).every((k) => state.uuids[k]);
    if (everythingPosted && !state.allTerminalAt && state.outage?.ended && Object.keys(notes).every(ended)) {
      state.allTerminalAt = Date.now();
      state.allTerminalSeq = await lastSeq();
      say("every notification has ended");
    }
    if (state.allTerminalAt && state.kills.length >= options.kills) break;
    if (Date.now() > deadline) {
      say(`deadline: ${DEADLINE_SECONDS} s after the host failures were posted`);
      break;
    }
    if (promptKill || busyFor >= gap) {
      const modes = state.allTerminalAt ? LATE_KILL_MODES : KILL_MODES;
      if (promptKill) await kill("applied");
      else await kill(pickWeighted(rng.kills, modes), pickWeighted(rng.kills, TRAPPED_ACTIONS));
      promptKill = false;
      busyFor = 0;
      // Once everything has ended, the kills still owed come quickly: they
      // check that a restart and a sweep start nothing again.
      gap = state.allTerminalAt ? rng.kills.between(1_000, 3_000) : killGap();
      lastTick = Date.now();
    }
    await sleep(100);
  }

  await state.outage?.timer;
  // The premise of expecting every notification `finished`: Nova was back
  // before the periodic task's minute.
  check(
    "the run's premise: the Nova outage was over before the periodic task's minute",
    state.outage && state.outage.ended < quiet + 60_000
      ? []
      : "the outage reached that minute: a re-run may have met it",
  );
  // Settle: the cron twice more, then the last word of every notification.
  for (let i = 0; i < 2; i++) {
    await sweep(30_000);
    await novaClock();
    await sleep(3_000);
  }
  await pollStatuses();
}

// --- checks ---------------------------------------------------------------------------------------------
const results = [];
function check(name, failures, detail = "") {
  const list = Array.isArray(failures) ? failures : failures ? [failures] : [];
  results.push({ name, ok: list.length === 0, failures: list, detail });
}

/**
 * Replays one server's calls with the stand-in's rules (test/fakes/nova.mjs):
 * an accepted evacuate moves the server after a number of later reads of it
 * (its evacuate_polls; one fewer for a stopped server, which shows on the
 * new host while powering off), and a reset, stop or start accepted
 * meanwhile replaces what was in progress. So the log tells, for every
 * evacuate the engine sent, whether the server had already left the failed
 * host, and how many evacuations actually moved it.
 */
function replay(server, serverCalls) {
  let vm = server.vm;
  let pending = null; // reads left before the accepted evacuation lands
  let landing = null; // its vm_state once landed
  const out = { moved: false, completed: 0, accepted: 0, cancelled: 0, afterMove: [], whileMoving: [] };
  const land = () => {
    out.moved = true;
    out.completed++;
    vm = landing;
    pending = null;
  };
  for (const c of serverCalls) {
    const action = c.method === "POST" && c.path.endsWith("/action") ? actionOf(c) : undefined;
    if (action === "evacuate") {
      if (out.moved) out.afterMove.push(c);
      else if (pending !== null) out.whileMoving.push(c);
      if (!accepted(c) || out.moved) continue;
      out.accepted++;
      const polls = server.evacuatePolls;
      landing = vm === "stopped" ? "stopped" : "active";
      pending = polls === 0 ? 0 : vm === "stopped" && polls >= 2 ? polls : polls + 1;
      if (pending === 0) land();
    } else if (["os-resetState", "os-stop", "os-start"].includes(action) && accepted(c)) {
      if (pending !== null) out.cancelled++;
      pending = null;
      if (action === "os-resetState") vm = c.body["os-resetState"].state;
    } else if (c.method === "GET" && c.path.endsWith(`/servers/${server.id}`) && c.status === 200) {
      if (pending !== null && --pending === 0) land();
    }
  }
  return out;
}

const EVACUATED = "Instances to be evacuated are: '";
const short = (c) => `#${c.seq} ${c.method} ${c.path.replace(/^\/v2\.1/, "")} ${JSON.stringify(c.body)} -> ${c.status}`;
const tasks = (details, name) => details.filter((t) => t.name === name);
const messages = (entry) => entry.progress_details.map((p) => p.message);

/** Duplicated progress messages: within each task entry, within each attempt of it. */
function duplicatedMessages(label, details) {
  const found = [];
  for (const [i, task] of details.entries()) {
    const seen = new Set();
    for (const message of messages(task)) {
      // A reserved_host flow runs Prepare and Evacuate once per reserved
      // host tried: each attempt opens with one of these.
      if (
        message === "Preparing instances for evacuation" ||
        message.startsWith("Start evacuation of instances from failed host")
      )
        seen.clear();
      if (seen.has(message)) found.push(`${label}: ${task.name} (entry ${i + 1}) repeats "${message}"`);
      seen.add(message);
    }
  }
  return found;
}

async function verify() {
  const { world, notes, state, since } = outcome;
  const all = await calls(since);
  const log = engineCalls(all);
  const { servers: novaServers } = await nova("GET", "state");
  const byId = new Map(novaServers.map((s) => [s.id, s]));
  const service = async (host) => (await nova("GET", `state?host=${host}`)).services[0];
  const shown = {};
  for (const [key, uuid] of Object.entries(state.uuids)) {
    shown[key] = (await apiOk("GET", `/notifications/${uuid}`)).notification;
  }
  const vmoves = {};
  for (const key of ["auto", "reserved"]) {
    if (state.uuids[key]) {
      vmoves[key] = (await apiOk("GET", `/notifications/${state.uuids[key]}/vmoves?limit=1000`)).vmoves;
    }
  }
  // Everything the checks read, for a post-mortem once the stand-in is gone.
  fs.mkdirSync(WORK, { recursive: true });
  fs.writeFileSync(path.join(WORK, "calls.json"), JSON.stringify(all, null, 1));
  fs.writeFileSync(path.join(WORK, "nova-state.json"), JSON.stringify(novaServers, null, 1));
  fs.writeFileSync(path.join(WORK, "notifications.json"), JSON.stringify({ world, shown, vmoves }, null, 1));
  const { A, B, C } = world.segments;

  /** A server's story for a failure: its calls from the engine, with Nova's answers, and its VM moves. */
  const story = (server) => {
    const own = log.filter((c) => c.path.includes(server.id) && c.method !== "GET");
    const steps = own.map((c) => `${actionOf(c)}${accepted(c) ? "" : `:${c.status ?? "no answer yet"}`}`).join(" ");
    const moves = Object.values(vmoves)
      .flat()
      .filter((m) => m.instance_uuid === server.id)
      .map((m) => `${m.status}${m.message ? ` "${m.message}"` : ""}`)
      .join("; ");
    return `[calls: ${steps}] [VM moves: ${moves || "none"}]`;
  };

  // 1. Every notification ended, and ended finished: the outage is over before
  //    any periodic re-run, so Nova allows every recovery to finish.
  check(
    "every notification ends finished (error only on the way: re-run by the periodic task), none left running",
    Object.entries(notes)
      .filter(([key]) => shown[key]?.status !== "finished")
      .map(([key, n]) =>
        state.uuids[key]
          ? `${n.label} ${state.uuids[key]}: ${shown[key].status} (${state.timelines[key].map(([s, t]) => `${s}@${t}s`).join(" -> ")})`
          : `${n.label}: never posted`,
      ),
  );

  // 2-4. Evacuations, from the call log replayed with the stand-in's rules.
  const failedHost = new Map([
    [A.failed, { segment: A, key: "auto", targets: A.healthy }],
    [B.failed, { segment: B, key: "reserved", targets: B.reserved }],
  ]);
  const twice = [];
  const afterMove = [];
  const ends = [];
  const replays = new Map();
  let acceptedTotal = 0;
  let acceptedTwice = 0;
  for (const server of world.servers) {
    const mine = all.filter((c) => c.path.includes(server.id));
    const r = replay(server, mine);
    replays.set(server.id, r);
    acceptedTotal += r.accepted;
    if (r.accepted > 1) acceptedTwice++;
    if (r.completed > 1) twice.push(`${server.name} ${server.id}: moved by ${r.completed} evacuations`);
    for (const c of r.afterMove)
      afterMove.push(`${server.name}: evacuate sent after it had left ${server.failed}: ${short(c)}`);
    for (const c of r.whileMoving) {
      afterMove.push(`${server.name}: evacuate sent while its accepted evacuation was in progress: ${short(c)}`);
    }
    if (r.accepted > 1 && r.accepted - 1 > r.cancelled) {
      twice.push(`${server.name}: ${r.accepted} accepted evacuates, only ${r.cancelled} of them cut short by a reset`);
    }
    const now = byId.get(server.id);
    const got = {
      host: now["OS-EXT-SRV-ATTR:host"],
      vm: now["OS-EXT-STS:vm_state"],
      task: now["OS-EXT-STS:task_state"],
      locked: now.locked,
    };
    const { targets } = failedHost.get(server.failed);
    const wrong = [];
    if (!targets.includes(got.host)) wrong.push(`on ${got.host}`);
    if (got.vm !== server.vm) wrong.push(`vm_state ${got.vm}, was ${server.vm}`);
    if (got.task !== null) wrong.push(`task_state ${got.task}`);
    if (got.locked) wrong.push("locked");
    if (wrong.length) ends.push(`${server.name} ${server.id} (${server.vm}): ${wrong.join(", ")} ${story(server)}`);
    if (r.moved !== (got.host !== server.failed)) {
      ends.push(`${server.name}: the call log's replay says moved=${r.moved}, the stand-in has it on ${got.host}`);
    }
  }
  check(
    "no instance evacuated twice (at most one evacuation that moved it; a second accepted one only after a reset)",
    twice,
  );
  check("no evacuate sent for an instance already off the failed host, or still being evacuated", afterMove);
  check(
    "every instance off its failed host, on a target of its segment, in its original state (ACTIVE active, SHUTOFF stopped, ERROR error), no task, unlocked",
    ends,
    `${acceptedTotal} accepted evacuates for ${world.servers.length} instances; ${acceptedTwice} instance(s) accepted twice`,
  );

  // 5. VM moves: none left pending/ongoing; at most one succeeded per
  //    instance, to where it is; exactly one succeeded for each instance of
  //    the final attempt (the last Prepare's "Instances to be evacuated").
  const moveProblems = [];
  const vmoveCounts = [];
  for (const [failed, { key }] of failedHost) {
    if (!state.uuids[key]) continue;
    const moves = vmoves[key];
    const label = notes[key].label;
    vmoveCounts.push(`${label}: ${moves.length} VM moves`);
    const succeeded = new Map();
    for (const m of moves) {
      if (!["succeeded", "failed", "ignored"].includes(m.status)) {
        moveProblems.push(`${label}: VM move of ${m.instance_name} left ${m.status}`);
      }
      if (m.notification_uuid !== state.uuids[key])
        moveProblems.push(`${label}: VM move ${m.uuid} of another notification`);
      if (m.status !== "succeeded") continue;
      succeeded.set(m.instance_uuid, (succeeded.get(m.instance_uuid) ?? 0) + 1);
      const now = byId.get(m.instance_uuid);
      if (m.source_host !== failed || m.dest_host !== now?.["OS-EXT-SRV-ATTR:host"]) {
        moveProblems.push(
          `${label}: succeeded VM move of ${m.instance_name}: ${m.source_host} -> ${m.dest_host}, the server is on ${now?.["OS-EXT-SRV-ATTR:host"]}`,
        );
      }
    }
    for (const [id, n] of succeeded) if (n > 1) moveProblems.push(`${label}: ${n} succeeded VM moves for ${id}`);
    // The final attempt: the last Prepare entry (the last run's flow), from
    // its last "Preparing instances" on (a reserved_host flow's last attempt).
    const prepares = tasks(shown[key].recovery_workflow_details ?? [], "PrepareHAEnabledInstancesTask");
    const lastEntry = prepares.length ? messages(prepares.at(-1)) : [];
    const lastAttempt = lastEntry.slice(Math.max(0, lastEntry.lastIndexOf("Preparing instances for evacuation")));
    const listed = lastAttempt.find((m) => m.startsWith(EVACUATED));
    const finalIds = listed ? listed.slice(EVACUATED.length, -1).split(",").filter(Boolean) : [];
    if (shown[key].status === "finished") {
      for (const id of finalIds) {
        if (succeeded.get(id) !== 1) {
          moveProblems.push(`${label}: ${id} of the final attempt has ${succeeded.get(id) ?? 0} succeeded VM moves`);
        }
      }
    }
    vmoveCounts.push(`${label}: final attempt of ${finalIds.length} instance(s)`);
  }
  check(
    "VM moves: none left pending or ongoing; at most one succeeded per instance, from the failed host to where it is; exactly one for each instance of the final attempt",
    moveProblems,
    vmoveCounts.join("; "),
  );

  // 6. Reserved hosts: taken once at most, and only to be used.
  const reservedProblems = [];
  const reservedInfo = [];
  const hostsOf = async (seg) => (await apiOk("GET", `/segments/${seg.uuid}/hosts`)).hosts;
  const bHosts = new Map((await hostsOf(B)).map((h) => [h.name, h]));
  for (const name of B.reserved) {
    const svc = await service(name);
    const enables = log.filter(
      (c) => c.method === "PUT" && c.path.endsWith(`/os-services/${svc.id}`) && c.body?.status === "enabled",
    );
    const acceptedEnables = enables.filter(accepted).length;
    const evacuations = log.filter((c) => actionOf(c) === "evacuate" && c.body.evacuate?.host === name);
    const used = evacuations.filter(accepted).length;
    const reserved = bHosts.get(name)?.reserved;
    reservedInfo.push(
      `${name.split("-").pop()}: reserved=${reserved}, nova-compute ${svc.status}, ${acceptedEnables} enable(s), ${used} evacuation(s) accepted of ${evacuations.length}`,
    );
    if (acceptedEnables > 1) reservedProblems.push(`${name}: enabled ${acceptedEnables} times (taken twice)`);
    if (reserved === false) {
      if (svc.status !== "enabled")
        reservedProblems.push(`${name}: taken (not reserved) but nova-compute ${svc.status}`);
      if (used === 0) reservedProblems.push(`${name}: taken (not reserved) but no evacuation to it was accepted`);
    } else {
      if (svc.status !== "disabled") reservedProblems.push(`${name}: still reserved but nova-compute ${svc.status}`);
      if (used > 0) reservedProblems.push(`${name}: still reserved but ${used} evacuation(s) to it were accepted`);
    }
  }
  check(
    "reserved hosts: none taken twice; taken only when used (not reserved ⇔ enabled in Nova ⇔ an evacuation to it accepted)",
    reservedProblems,
    reservedInfo.join("; "),
  );

  // 7. Progress messages: none written twice within an attempt of a task.
  const duplicates = [];
  for (const [key, n] of Object.entries(notes)) {
    if (shown[key]) duplicates.push(...duplicatedMessages(n.label, shown[key].recovery_workflow_details ?? []));
  }
  check("no progress message repeated within a task's attempt (recovery_workflow_details, 1.1+)", duplicates);

  // 8. Once a notification has ended, no task of it is still RUNNING.
  const running = [];
  for (const [key, n] of Object.entries(notes)) {
    if (!shown[key] || !TERMINAL.has(shown[key].status)) continue;
    for (const t of shown[key].recovery_workflow_details ?? []) {
      if (t.state === "RUNNING" || t.state === "PENDING") running.push(`${n.label}: ${t.name} ${t.state}`);
    }
  }
  check("no task left RUNNING in an ended notification", running);

  // 9. Side effects once per run: each run (one entry per task in the
  //    details) disables, stops or starts at most once.
  const onceProblems = [];
  const perRun = (label, accepted, entries, what) => {
    if (accepted > entries)
      onceProblems.push(`${label}: ${accepted} accepted ${what} for ${entries} run(s) of the task`);
  };
  for (const [failed, { key }] of failedHost) {
    if (!shown[key]) continue;
    const svc = await service(failed);
    const disables = log.filter((c) => c.method === "PUT" && c.path.endsWith(`/os-services/${svc.id}`) && accepted(c));
    const entries = tasks(shown[key].recovery_workflow_details ?? [], "DisableComputeServiceTask").length;
    perRun(notes[key].label, disables.length, entries, "disables of the failed host");
    if (svc.status !== "disabled" || svc.disabled_reason !== HOST_DISABLE_REASON) {
      onceProblems.push(`${failed}: nova-compute ${svc.status} (${svc.disabled_reason}), not disabled by Masakari`);
    }
  }
  for (const server of world.servers) {
    const stops = log.filter((c) => c.path.includes(server.id) && actionOf(c) === "os-stop" && accepted(c)).length;
    const evacuations = replays.get(server.id).completed;
    if (stops > evacuations)
      onceProblems.push(`${server.name}: ${stops} accepted os-stop for ${evacuations} evacuation(s)`);
  }
  if (shown.vm) {
    const vmCalls = log.filter((c) => c.path.includes(world.vmServer.id) && accepted(c));
    const details = shown.vm.recovery_workflow_details ?? [];
    perRun(
      "VM",
      vmCalls.filter((c) => actionOf(c) === "os-stop").length,
      tasks(details, "StopInstanceTask").length,
      "os-stop",
    );
    perRun(
      "VM",
      vmCalls.filter((c) => actionOf(c) === "os-start").length,
      tasks(details, "StartInstanceTask").length,
      "os-start",
    );
    const s = byId.get(world.vmServer.id);
    if (
      s["OS-EXT-SRV-ATTR:host"] !== C.vmHost ||
      s["OS-EXT-STS:vm_state"] !== "active" ||
      s["OS-EXT-STS:task_state"] !== null ||
      s.locked
    ) {
      onceProblems.push(
        `VM server: ${s["OS-EXT-SRV-ATTR:host"]} ${s["OS-EXT-STS:vm_state"]}/${s["OS-EXT-STS:task_state"]} locked=${s.locked}, expected active on ${C.vmHost}`,
      );
    }
  }
  if (shown.process) {
    const svc = await service(C.procHost);
    const disables = log.filter((c) => c.method === "PUT" && c.path.endsWith(`/os-services/${svc.id}`) && accepted(c));
    const entries = tasks(shown.process.recovery_workflow_details ?? [], "DisableComputeNodeTask").length;
    perRun("PROCESS", disables.length, entries, "disables");
    if (svc.status !== "disabled" || svc.disabled_reason !== PROCESS_DISABLE_REASON) {
      onceProblems.push(`${C.procHost}: nova-compute ${svc.status} (${svc.disabled_reason})`);
    }
  }
  for (const name of [...A.healthy, C.vmHost]) {
    const svc = await service(name);
    if (svc.status !== "enabled") onceProblems.push(`${name}: nova-compute ${svc.status}; no recovery should touch it`);
  }
  check(
    "side effects once per run (disable, os-stop, os-start); the failed and the PROCESS hosts disabled with Masakari's reason; the VM server active on its host; healthy hosts untouched",
    onceProblems,
  );

  // 10. Masakari's hosts afterwards.
  const hostProblems = [];
  const aHosts = new Map((await hostsOf(A)).map((h) => [h.name, h]));
  const cHosts = new Map((await hostsOf(C)).map((h) => [h.name, h]));
  for (const [name, map] of [
    [A.failed, aHosts],
    [B.failed, bHosts],
    [C.procHost, cHosts],
  ]) {
    if (map.get(name)?.on_maintenance !== true) hostProblems.push(`${name}: not on maintenance`);
  }
  for (const [name, map] of [...A.healthy.map((n) => [n, aHosts]), [C.vmHost, cHosts]]) {
    if (map.get(name)?.on_maintenance !== false) hostProblems.push(`${name}: on maintenance`);
  }
  check("Masakari's hosts: the failed and the PROCESS hosts on maintenance, the others not", hostProblems);

  // 11. Nothing done again once everything ended: kills, restarts and sweeps
  //     after that point may only unlock what a recovery left locked.
  if (state.allTerminalSeq !== null) {
    const late = log.filter((c) => c.seq > state.allTerminalSeq && isWrite(c) && actionOf(c) !== "unlock");
    check("nothing done again after every notification ended (restarts and sweeps only unlock)", late.map(short));
  }
}

// --- the engine's own account: its log and its tables ------------------------------------------------
/** Lines of wrangler.log worth a look: the outage's consequences counted, anything else listed. */
function engineLog() {
  const file = path.join(WORK, "wrangler.log");
  if (!fs.existsSync(file)) return { outage: 0, other: [] };
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const notable = /given up|died|carries it on|uncaught|unhandled|✘|TypeError|RangeError|ReferenceError|SyntaxError/i;
  return {
    outage: lines.filter((l) => l.includes("Injected fault")).length,
    // wrangler's own look for updates fails offline: not the engine's.
    other: lines.filter((l) => notable.test(l) && !/workers\.cloudflare\.com/.test(l)),
  };
}

/**
 * What the engine's tables say of the runs (read-only, from the local D1's
 * SQLite file): each notification's runs and their generations, and how
 * far each phase's chain of Evacuation links went. Coverage, not a check.
 */
async function engineTables() {
  try {
    const dir = path.join(STATE, "v3", "d1", "miniflare-D1DatabaseObject");
    const file = fs.readdirSync(dir).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(path.join(dir, file), { readOnly: true });
    const runs = db
      .prepare("SELECT notification_uuid AS uuid, run, mode, generation, outcome FROM recovery_runs ORDER BY run")
      .all();
    const phases = db
      .prepare("SELECT notification_uuid AS uuid, run, scope, link, generation FROM recovery_phases ORDER BY run")
      .all();
    db.close();
    return { runs, phases };
  } catch (error) {
    return { error: error.message };
  }
}

function report(options, tables) {
  const { state, notes } = outcome;
  console.log("\n=== test:chaos report ===");
  console.log(
    `seed ${options.seed}   reproduce: scripts/with-node.sh e2e/chaos/run.sh --seed ${options.seed} --kills ${options.kills}`,
  );
  console.log(
    `duration ${at()} s; ${state.kills.length} kills (SIGKILL of wrangler dev, then a restart on the same state)`,
  );
  const modes = {};
  for (const k of state.kills) modes[k.kind] = (modes[k.kind] ?? 0) + 1;
  console.log(
    `  by moment: ${Object.entries(modes)
      .map(([m, n]) => `${n} ${m}`)
      .join(", ")}`,
  );
  console.log(
    `cron sweeps: ${sweeps.ok} answered, ${sweeps.failed} failed, ${sweeps.cut} cut short by a kill on purpose`,
  );
  if (state.outage) {
    console.log(
      `Nova outage: ${(((state.outage.ended ?? Date.now()) - state.outage.from) / 1000).toFixed(1)} s of 500s at +${((state.outage.from - started) / 1000).toFixed(1)} s`,
    );
  }
  console.log("notifications:");
  for (const [key, n] of Object.entries(notes)) {
    const line = state.timelines[key] ?? [];
    console.log(
      `  ${n.label.padEnd(30)} ${state.uuids[key] ?? "-"}  ${line.map(([s, t]) => `${s}@${t}s`).join(" -> ")}`,
    );
  }
  if (tables.error) console.log(`the engine's tables could not be read: ${tables.error}`);
  else {
    console.log("the engine's runs (run mode generation -> outcome; links of each evacuation phase):");
    for (const [key, n] of Object.entries(notes)) {
      const mine = (rows) => rows.filter((r) => r.uuid === state.uuids[key]);
      const runs = mine(tables.runs).map((r) => `${r.run} ${r.mode} g${r.generation} -> ${r.outcome ?? "-"}`);
      const links = mine(tables.phases).map((p) => `run ${p.run} ${p.scope}: ${p.link} link(s), g${p.generation}`);
      console.log(`  ${n.label.padEnd(30)} ${runs.join("; ") || "-"}${links.length ? `; ${links.join("; ")}` : ""}`);
    }
  }
  const logged = engineLog();
  console.log(`engine log: ${logged.outage} line(s) about the injected outage's 500s`);
  if (logged.other.length) {
    console.log(`engine log lines worth a look (${logged.other.length}; .conformance/chaos/wrangler.log):`);
    for (const l of logged.other.slice(0, 15)) console.log(`  ${l.slice(0, 300)}`);
  }
  console.log("checks:");
  for (const r of results) {
    console.log(`  ${r.ok ? "PASS" : "FAIL"}  ${r.name}${r.detail ? `\n        (${r.detail})` : ""}`);
    for (const f of r.failures.slice(0, 12)) console.log(`        - ${f}`);
    if (r.failures.length > 12) console.log(`        ... and ${r.failures.length - 12} more`);
  }
  const ok = results.length > 0 && results.every((r) => r.ok);
  console.log(`test:chaos: ${ok ? "PASS" : "FAIL"} (seed ${options.seed})`);
  return ok;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  try {
    await startProxy();
    await run(options);
    await verify();
  } catch (error) {
    say(`aborted: ${error.stack ?? error}`);
    results.push({ name: "the run itself", ok: false, failures: [String(error.message ?? error)], detail: "" });
  } finally {
    fs.mkdirSync(WORK, { recursive: true });
    fs.writeFileSync(path.join(WORK, "events.log"), `${events.join("\n")}\n`);
  }
  const ok = report(options, await engineTables());
  process.exit(ok ? 0 : 1);
}

await main();
