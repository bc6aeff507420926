import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { MAX_GENERATIONS } from "../src/engine/periodic";
import { type Cluster, type ClusterServer, hostFlags, novaCalls, novaControl, traceCluster } from "./engine-helpers";
import { type Fault, Runtime } from "./engine-runtime";
import { type Json, seedNotification, sql } from "./helpers";

// Nothing stranded (docs/engine.md, "Periodic work"): every new, running or
// error notification has a live Workflow instance that will move it on.
// Whatever ended the instance carrying a run (a step failing for good, as
// with D1 unavailable or the CPU limit, a termination, an instance that
// ended without finishing its run, one never started), the periodic work
// starts the run's next generation within one sweep, which replays the
// run's journal and carries on; a run that dies again and again is given
// up, with upstream's error → failed rule. And nothing is left locked.

const STOPPED = { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" };

async function setUp(servers: ClusterServer[] = [{ name: "vm", metadata: { HA_Enabled: "True" } }]) {
  const config = loadConfig({ ...env, RETRY_NOTIFICATION_NEW_STATUS_INTERVAL: "0" });
  const runtime = new Runtime(config);
  const cluster = await traceCluster("auto", servers);
  const host = cluster.hosts[cluster.failed]?.uuid ?? "";
  const now = new Date().toISOString().replace("T", " ").replace("Z", "000");
  const uuid = await seedNotification(host, "new", { payload: JSON.stringify(STOPPED), generated_time: now });
  return { runtime, cluster, uuid };
}

const statusOf = async (uuid: string) =>
  (await sql<{ status: string }>("SELECT status FROM notifications WHERE notification_uuid = ?", uuid))[0]?.status;

const runsOf = (uuid: string) =>
  sql<Json>(
    "SELECT run, mode, outcome, generation, claimed_at IS NOT NULL AS claimed, ended_at IS NOT NULL AS ended FROM recovery_runs WHERE notification_uuid = ? ORDER BY run",
    uuid,
  );

/** Runs the recovery with `faults`; then the periodic work, one sweep at a time, at most `sweeps`. */
async function recover(runtime: Runtime, uuid: string, faults: Fault[], sweeps = 8) {
  runtime.faults.push(...faults);
  await runtime.start(uuid);
  await runtime.settle();
  const after = await statusOf(uuid);
  let swept = 0;
  for (; swept < sweeps && ["new", "running", "error"].includes((await statusOf(uuid)) ?? ""); swept++) {
    await runtime.sweep();
    await runtime.settle();
  }
  await runtime.close();
  return { after, swept };
}

async function movedAndUnlocked(cluster: Cluster) {
  const [server] = (await novaControl("GET", `state?server=${cluster.servers.vm}`)).servers;
  return { host: server["OS-EXT-SRV-ATTR:host"] === cluster.healthy, locked: server.locked };
}

describe("a run whose instance ended is carried on by its next generation, within one sweep", () => {
  it("the instance errored before it claimed the notification (D1 unavailable past the step's retries)", async () => {
    const { runtime, cluster, uuid } = await setUp();
    const { after, swept } = await recover(runtime, uuid, [{ kind: "fail", step: "start", instance: "-1" }]);
    expect(after).toBe("new");
    expect(swept).toBe(1);
    expect(await statusOf(uuid)).toBe("finished");
    // The instance died before it recorded its run: to the periodic task,
    // a notification whose start was lost, as upstream's lost RPC cast.
    expect(await runsOf(uuid)).toEqual([
      { run: 1, mode: "periodic", outcome: "finished", generation: 2, claimed: 1, ended: 1 },
    ]);
    expect(await movedAndUnlocked(cluster)).toEqual({ host: true, locked: false });
  });

  it("the instance errored mid-recovery (a step failing for good): the second generation finishes, Nova asked once", async () => {
    const { runtime, cluster, uuid } = await setUp();
    const { after, swept } = await recover(runtime, uuid, [
      { kind: "fail", step: "flow 1 PrepareHAEnabledInstancesTask a1", instance: "-1" },
    ]);
    expect([after, swept, await statusOf(uuid)]).toEqual(["running", 1, "finished"]);
    const puts = (await novaCalls({ host: cluster.failed })).filter((c) => c.method === "PUT");
    expect(puts.length).toBe(1);
    // The first generation's failure reverted nothing: the details are the clean run's.
    const states = await sql("SELECT name, state FROM recovery_tasks WHERE notification_uuid = ? ORDER BY id", uuid);
    expect(states).toEqual([
      { name: "DisableComputeServiceTask", state: "SUCCESS" },
      { name: "PrepareHAEnabledInstancesTask", state: "SUCCESS" },
      { name: "EvacuateInstancesTask", state: "SUCCESS" },
    ]);
  });

  it("the instance was terminated mid-evacuation, its server locked: carried on, and the server ends unlocked", async () => {
    const { runtime, cluster, uuid } = await setUp();
    const { after, swept } = await recover(runtime, uuid, [
      { kind: "terminate-after", step: "f1-a1-evacuate 1", instance: "-1" },
    ]);
    expect([after, swept, await statusOf(uuid)]).toEqual(["running", 1, "finished"]);
    expect(await movedAndUnlocked(cluster)).toEqual({ host: true, locked: false });
    const evacuations = (await novaCalls({ server: cluster.servers.vm ?? "" })).filter(
      (c) => c.method === "POST" && JSON.stringify(c.body).includes("evacuate"),
    );
    expect(evacuations.length).toBe(1);
  });

  it("the instance ended `complete` without finishing its run: carried on", async () => {
    const { runtime, uuid } = await setUp();
    const { after, swept } = await recover(runtime, uuid, [
      { kind: "complete-after", step: "host on maintenance", instance: "-1" },
    ]);
    expect([after, swept, await statusOf(uuid)]).toEqual(["running", 1, "finished"]);
  });

  it("the instance of a recorded run was never started (its start lost): started", async () => {
    const { runtime, uuid } = await setUp();
    // The periodic task recorded run 2 of an error notification, and its start was lost.
    await sql("UPDATE notifications SET status = 'error' WHERE notification_uuid = ?", uuid);
    await sql(
      "INSERT INTO recovery_runs (notification_uuid, run, mode, created_at, ended_at, outcome) VALUES (?, 1, 'rpc', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 'error'), (?, 2, 'periodic', '2026-01-01 00:00:00.000000', NULL, NULL)",
      uuid,
      uuid,
    );
    await runtime.sweep();
    await runtime.settle();
    await runtime.close();
    expect(await statusOf(uuid)).toBe("finished");
    expect((await runsOf(uuid)).map((r) => [r.run, r.outcome, r.generation])).toEqual([
      [1, "error", 1],
      [2, "finished", 1],
    ]);
  });
});

describe("a run that keeps dying is given up, with upstream's error → failed rule", () => {
  it(`after ${MAX_GENERATIONS} generations the run ends in error; the periodic re-run dying as often, failed`, async () => {
    const { runtime, cluster, uuid } = await setUp();
    const always: Fault = { kind: "fail", step: "flow 1 DisableComputeServiceTask disable", times: 100 };
    await recover(runtime, uuid, [always], 30);
    expect(await statusOf(uuid)).toBe("failed");
    expect((await runsOf(uuid)).map((r) => [r.run, r.mode, r.outcome, r.generation])).toEqual([
      [1, "rpc", "error", MAX_GENERATIONS],
      [2, "periodic", "failed", MAX_GENERATIONS],
    ]);
    // Never disabled, never evacuated: the host is on maintenance, its server where it was.
    expect(await movedAndUnlocked(cluster)).toEqual({ host: false, locked: false });
    expect((await hostFlags(cluster))[cluster.failed]).toEqual({ on_maintenance: true, reserved: false });
  });
});

describe("nothing left locked", () => {
  it("a notification expired while its run was mid-evacuation: the run is stopped and the server unlocked", async () => {
    // An evacuation Nova confirms only after a few looks: the run dies while it polls.
    const { runtime, cluster, uuid } = await setUp([
      { name: "vm", metadata: { HA_Enabled: "True" }, evacuate_polls: 3 },
    ]);
    await recover(runtime, uuid, [{ kind: "die-after", step: "f1-a1-evacuate 1", instance: "-1" }], 0);
    expect((await novaControl("GET", `state?server=${cluster.servers.vm}`)).servers[0].locked).toBe(true);
    await sql(
      "UPDATE notifications SET generated_time = '2026-01-01 00:00:00.000000' WHERE notification_uuid = ?",
      uuid,
    );
    await runtime.sweep();
    await runtime.settle();
    await runtime.close();
    expect(await statusOf(uuid)).toBe("failed");
    expect((await novaControl("GET", `state?server=${cluster.servers.vm}`)).servers[0].locked).toBe(false);
    expect(
      await sql(
        "SELECT released_at IS NOT NULL AS released FROM recovery_server_locks WHERE notification_uuid = ?",
        uuid,
      ),
    ).toEqual([{ released: 1 }]);
  });

  it("a server an earlier run of the notification locked is unlocked by the run that carries on", async () => {
    const { runtime, cluster, uuid } = await setUp();
    const id = cluster.servers.vm ?? "";
    // Run 1 locked it and died; run 2 finds it locked, and knows the lock is the notification's.
    await novaControl("POST", "servers", { id, locked: true });
    await sql(
      "INSERT INTO recovery_server_locks (notification_uuid, instance_uuid, run, created_at) VALUES (?, ?, 1, '2026-01-01 00:00:00.000000')",
      uuid,
      id,
    );
    await recover(runtime, uuid, []);
    expect(await statusOf(uuid)).toBe("finished");
    expect(await movedAndUnlocked(cluster)).toEqual({ host: true, locked: false });
    const posts = (await novaCalls({ server: id })).filter((c) => c.method === "POST").map((c) => c.body);
    expect(posts).toEqual([{ evacuate: {} }, { unlock: null }]);
  });
});
