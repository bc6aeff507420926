import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { database } from "../src/db/database";
import { recoveryWorkflowDetails } from "../src/resources/notifications/details";
import { type Cluster, type ClusterServer, hostFlags, novaCalls, novaControl, traceCluster } from "./engine-helpers";
import { type Executed, type FaultKind, Runtime } from "./engine-runtime";
import { type Json, seedNotification, sql } from "./helpers";

// Every step of every flow is safe to run again (docs/engine.md, "Exactly
// once"). For each scenario, a clean run enumerates the steps the engine
// actually takes (no list is written by hand: a new step is covered as
// soon as it runs); then each step, one at a time, is made to
//   (a) run twice in full,
//   (b) run with its writes and Nova calls done but its result lost (its
//       journal entry too), the instance replayed,
//   (c) run to its end, the instance then dying for good and the periodic
//       work carrying the run on,
// and every variant must end as the clean run did: the notification's
// status, Masakari's hosts, the VM moves, the recovery's details
// (timestamps aside), and no Nova action that must not be repeated sent
// more often than in the clean run. Each run is on a cluster of its own,
// compared by roles and names.

const VARIANTS: { kind: FaultKind; label: string }[] = [
  { kind: "twice", label: "(a) run twice in full" },
  { kind: "lost-journal", label: "(b) its result lost after its writes, then run again" },
  { kind: "die-after", label: "(c) the instance dying right after it, the periodic work carrying on" },
];

interface Scenario {
  readonly name: string;
  readonly method: string;
  readonly servers: readonly ClusterServer[];
  readonly cluster?: { reserved?: boolean; healthyDisabled?: boolean; secondReserved?: boolean };
  readonly options?: Record<string, string>;
  readonly notification: (c: Cluster) => { type: string; host: string; payload: Json };
  readonly before?: (c: Cluster) => Promise<void>;
  /** The notification's status after a clean run: finished unless said. */
  readonly status?: string;
  /** The status of every VM move after a clean run, when the scenario is about them. */
  readonly vmoves?: string;
}

const hostDown = (c: Cluster) => ({
  type: "COMPUTE_HOST",
  host: c.failed,
  payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" },
});

const MIXED: readonly ClusterServer[] = [
  { name: "ha-active", metadata: { HA_Enabled: "True" } },
  { name: "ha-stopped", vm_state: "stopped", metadata: { HA_Enabled: "True" } },
  { name: "non-ha" },
  { name: "in-error", vm_state: "error" },
];

const SCENARIOS: Scenario[] = [
  { name: "COMPUTE_HOST auto", method: "auto", servers: MIXED, notification: hostDown },
  {
    name: "COMPUTE_HOST auto in links, evacuations polled",
    method: "auto",
    servers: MIXED.map((s) => ({ ...s, evacuate_polls: 2 })),
    options: { RECOVERY_SUBREQUESTS_PER_INSTANCE: "100", HOST_FAILURE_RECOVERY_THREADS: "2" },
    notification: hostDown,
  },
  {
    name: "COMPUTE_HOST reserved_host and aggregates",
    method: "reserved_host",
    servers: MIXED,
    options: { HOST_FAILURE_ADD_RESERVED_HOST_TO_AGGREGATE: "true" },
    before: async (c) => {
      await novaControl("POST", "aggregates", { name: `${c.zone}-agg`, hosts: [c.failed, c.healthy] });
    },
    notification: hostDown,
  },
  {
    name: "COMPUTE_HOST auto_priority falling back",
    method: "auto_priority",
    servers: MIXED.slice(0, 2),
    cluster: { healthyDisabled: true },
    notification: hostDown,
  },
  {
    name: "COMPUTE_HOST rh_priority falling back",
    method: "rh_priority",
    servers: MIXED.slice(0, 2),
    cluster: { reserved: false },
    notification: hostDown,
  },
  {
    name: "COMPUTE_HOST reserved_host, one unusable",
    method: "reserved_host",
    servers: MIXED.slice(0, 2),
    cluster: { secondReserved: true },
    notification: hostDown,
  },
  {
    // Each passing failure is ridden out with a write of its own (the wait's start) before the stage moves on.
    name: "COMPUTE_HOST auto, Nova failing a moment to read a server and to lock another",
    method: "auto",
    servers: MIXED.slice(0, 2),
    options: { HOST_FAILURE_RECOVERY_THREADS: "1" },
    vmoves: "succeeded",
    notification: hostDown,
    before: async (c) => {
      await novaControl("POST", "faults", { method: "GET", server: c.servers["ha-active"], status: 500, times: 2 });
      await novaControl("POST", "faults", { server: c.servers["ha-stopped"], action: "lock", status: 503, times: 1 });
    },
  },
  {
    name: "COMPUTE_HOST held by the storm guard (D22)",
    method: "auto",
    status: "new",
    servers: MIXED.slice(0, 1),
    notification: hostDown,
    before: async (c) => {
      // Another of the segment's three hosts went down a moment ago: this one would make two of three.
      const other = await seedNotification(c.hosts[c.healthy]?.uuid ?? "", "error");
      await sql(
        "INSERT INTO recovery_storm (notification_uuid, segment_uuid, host_uuid, state, at, down, hosts) VALUES (?, ?, ?, 'admitted', datetime('now'), 0, 3)",
        other,
        c.segment.uuid,
        c.hosts[c.healthy]?.uuid ?? "",
      );
    },
  },
  {
    name: "PROCESS nova-compute STOPPED",
    method: "auto",
    servers: [],
    notification: (c) => ({
      type: "PROCESS",
      host: c.failed,
      payload: { event: "STOPPED", process_name: "nova-compute" },
    }),
    before: async (c) => {
      await novaControl("POST", "hosts", { name: c.failed, state: "up", zone: c.zone });
    },
  },
  {
    name: "VM LIFECYCLE STOPPED_FAILED",
    method: "auto",
    servers: [{ name: "vm", metadata: { HA_Enabled: "True" }, power_polls: 1 }],
    notification: (c) => ({
      type: "VM",
      host: c.failed,
      payload: { event: "LIFECYCLE", instance_uuid: c.servers.vm, vir_domain_event: "STOPPED_FAILED" },
    }),
  },
];

async function cluster(s: Scenario): Promise<Cluster> {
  const c = await traceCluster(s.method, s.servers, s.cluster ?? {});
  if (s.cluster?.secondReserved) {
    // A newer reserved host Nova has no nova-compute for: its attempt fails first.
    const name = `${c.reserved}-new`;
    await sql(
      "INSERT INTO hosts (created_at, deleted, uuid, name, reserved, type, control_attributes, failover_segment_id, on_maintenance) VALUES ('2099-01-01 00:00:00.000000', 0, ?, ?, 1, 'COMPUTE', 'SSH', ?, 0)",
      crypto.randomUUID(),
      name,
      c.segment.uuid,
    );
  }
  await s.before?.(c);
  return c;
}

/** A notification stored as the API stores it, without starting anything. */
async function notification(s: Scenario, c: Cluster): Promise<string> {
  const n = s.notification(c);
  const host = c.hosts[n.host]?.uuid ?? "";
  const now = new Date().toISOString().replace("T", " ").replace("Z", "000");
  return seedNotification(host, "new", { type: n.type, payload: JSON.stringify(n.payload), generated_time: now });
}

/** The cluster's names and ids replaced by their roles, so that two runs compare. */
function generic(c: Cluster, uuid: string, value: unknown): unknown {
  let text = JSON.stringify(value);
  const names: [string, string][] = [
    [`${c.reserved}-new`, "<reserved-new>"],
    [c.failed, "<failed>"],
    [c.healthy, "<healthy>"],
    [c.reserved, "<reserved>"],
    [c.zone, "<zone>"],
    [uuid, "<notification>"],
    ...Object.entries(c.servers).map(([name, id]): [string, string] => [id, `<${name}>`]),
  ];
  for (const [from, to] of names) text = text.replaceAll(from, to);
  // Master sorts the ids of the instances it evacuated: their roles sort otherwise.
  text = text.replace(/Successfully evacuate instances '([^']*)'/g, (_, ids: string) => {
    return `Successfully evacuate instances '${ids.split(",").sort().join(",")}'`;
  });
  return JSON.parse(text, (key, v) => (key === "timestamp" ? "<timestamp>" : v));
}

/** Nova actions that must not be repeated, counted by what they acted on. */
const ONCE = ["evacuate", "os-stop", "os-start", "lock", "add_host"];

async function novaActions(c: Cluster, since: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const seen = new Set<number>();
  const count = (seq: number, key: string) => {
    if (seen.has(seq)) return;
    seen.add(seq);
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const hosts = { failed: c.failed, healthy: c.healthy, reserved: c.reserved, "reserved-new": `${c.reserved}-new` };
  for (const [role, host] of Object.entries(hosts)) {
    for (const call of await novaCalls({ host })) {
      if (call.seq <= since || call.status === null || call.status >= 300) continue;
      if (call.method === "PUT") count(call.seq, `PUT service of ${role} ${JSON.stringify(call.body)}`);
      const action = call.body && typeof call.body === "object" ? Object.keys(call.body)[0] : undefined;
      if (action === "add_host") count(call.seq, `add_host ${role} ${call.path.replace(/\d+/g, "<n>")}`);
    }
  }
  for (const [name, id] of Object.entries(c.servers)) {
    for (const call of await novaCalls({ server: id })) {
      if (call.seq <= since || call.status === null || call.status >= 300) continue;
      const action = call.body && typeof call.body === "object" ? Object.keys(call.body)[0] : undefined;
      if (action && ONCE.includes(action)) count(call.seq, `${action} ${name}`);
    }
  }
  return counts;
}

/** What a recovery came to, in the cluster's roles. */
async function outcome(c: Cluster, uuid: string, since: number) {
  const db = database(env.DB);
  const [n] = await sql<{ status: string; type: string }>(
    "SELECT status, type FROM notifications WHERE notification_uuid = ?",
    uuid,
  );
  const vmoves = await sql(
    "SELECT instance_name, source_host, dest_host, status, message FROM vmoves WHERE notification_uuid = ? ORDER BY instance_name, status",
    uuid,
  );
  const held = await sql(
    "SELECT instance_uuid FROM recovery_server_locks WHERE notification_uuid = ? AND released_at IS NULL",
    uuid,
  );
  const locked: string[] = [];
  for (const [name, id] of Object.entries(c.servers)) {
    const [server] = (await novaControl("GET", `state?server=${id}`)).servers;
    if (server.locked) locked.push(name);
  }
  return generic(c, uuid, {
    status: n?.status,
    hosts: await hostFlags(c),
    vmoves,
    details: await recoveryWorkflowDetails(db, uuid, n?.type ?? ""),
    nova: await novaActions(c, since),
    locked,
    held,
  });
}

async function lastCall(): Promise<number> {
  const calls = await novaCalls({});
  return calls.at(-1)?.seq ?? 0;
}

/** One recovery of scenario `s` with `faults`; what it came to, and the steps it ran. */
async function recoverWith(s: Scenario, fault?: { kind: FaultKind; at: Executed }) {
  const config = loadConfig({ ...env, RETRY_NOTIFICATION_NEW_STATUS_INTERVAL: "0", ...s.options });
  const runtime = new Runtime(config);
  const c = await cluster(s);
  const since = await lastCall();
  const uuid = await notification(s, c);
  if (fault) {
    runtime.faults.push({
      kind: fault.kind,
      step: fault.at.step,
      occurrence: fault.at.occurrence,
      instance: fault.at.instance,
    });
  }
  await runtime.start(uuid);
  await runtime.settle();
  for (let i = 0; i < 10 && fault?.kind === "die-after"; i++) {
    const [row] = await sql<{ status: string }>("SELECT status FROM notifications WHERE notification_uuid = ?", uuid);
    if (!row || !["new", "running", "error"].includes(row.status)) break;
    await runtime.sweep();
    await runtime.settle();
  }
  const executed = runtime.executed.map((e) => ({ ...e, instance: e.instance.slice(uuid.length) }));
  const result = await outcome(c, uuid, since);
  await runtime.close();
  return { result, executed, runtime };
}

/** Where two JSON values differ, as "path: expected → got" lines. */
function differences(expected: unknown, got: unknown, path = ""): string[] {
  if (JSON.stringify(expected) === JSON.stringify(got)) return [];
  if (expected && got && typeof expected === "object" && typeof got === "object") {
    const keys = new Set([...Object.keys(expected), ...Object.keys(got)]);
    return [...keys].flatMap((k) =>
      differences((expected as Record<string, unknown>)[k], (got as Record<string, unknown>)[k], `${path}/${k}`),
    );
  }
  return [`${path}: ${JSON.stringify(expected)} → ${JSON.stringify(got)}`];
}

const label = (e: Executed) => `${e.step}${e.occurrence > 1 ? ` #${e.occurrence}` : ""} (instance …${e.instance})`;

describe.each(SCENARIOS)("$name: every step safe to run again", (s) => {
  it.each(VARIANTS)(
    "each step $label",
    async ({ kind }) => {
      const clean = await recoverWith(s);
      expect(clean.executed.length).toBeGreaterThan(1);
      expect((clean.result as { status: string }).status).toBe(s.status ?? "finished");
      if (s.vmoves) {
        const { vmoves } = clean.result as { vmoves: { status: string }[] };
        expect(vmoves.map((m) => m.status)).toEqual(vmoves.map(() => s.vmoves));
        expect(vmoves.length).toBe(s.servers.length);
      }
      const mismatches: string[] = [];
      for (const at of clean.executed) {
        const run = await recoverWith(s, { kind, at });
        const diff = differences(clean.result, run.result);
        if (diff.length > 0) mismatches.push(`${label(at)}:\n  ${diff.slice(0, 12).join("\n  ")}`);
      }
      expect(mismatches, mismatches.join("\n\n")).toEqual([]);
    },
    300_000,
  );
});
