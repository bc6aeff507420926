import { createScheduledController, introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import { hostDown, instancesOf, notify, novaCalls, novaControl, recover, shown, traceCluster } from "./engine-helpers";
import { type Json, seedNotification, sql } from "./helpers";

// The Cron Trigger (D17): upstream's periodic tasks at their intervals
// (process_unfinished_notifications_interval 120 s,
// check_expired_notifications_interval 600 s), run from a trigger every
// minute, and the runs whose Workflow instance died (the cases of each
// cause are in test/engine-stranded.test.ts).

/** A minute at which both periodic tasks are due (a multiple of 10 minutes). */
const DUE = Date.UTC(2026, 10, 30, 4, 0);
/** The minute after: neither is (only the runs are looked after). */
const NOT_DUE = DUE + 60_000;

/**
 * Runs the Worker's scheduled handler at `time`, sleeps skipped in the runs
 * it starts, and waits for every run it started (at least `expectRuns`).
 */
async function tick(time: number, expectRuns = 0) {
  await using workflows = await introspectWorkflow(env.RECOVERY);
  await workflows.modifyAll(async (m) => {
    await m.disableSleeps();
  });
  await worker.scheduled(createScheduledController({ scheduledTime: time, cron: "* * * * *" }), env);
  // Every run it starts is created before the handler returns.
  const started = expectRuns > 0 ? await instancesOf(workflows, expectRuns) : await workflows.get();
  for (const instance of started) await instance.waitForStatus("complete");
}

// What a test leaves unfinished is not the next test's to re-run.
afterEach(async () => {
  await sql("UPDATE notifications SET status = 'failed' WHERE status IN ('new', 'running', 'error')");
  await sql("UPDATE recovery_runs SET ended_at = '2026-01-01 00:00:00.000000' WHERE ended_at IS NULL");
});

const runsOf = (uuid: string) =>
  sql<Json>(
    "SELECT run, mode, outcome, ended_at IS NOT NULL AS ended FROM recovery_runs WHERE notification_uuid = ? ORDER BY run",
    uuid,
  );

/**
 * A host failure that ends in error: Nova refuses every evacuation of the
 * server with a 400 (not a passing failure), until `fault` is deleted.
 */
async function failedRecovery() {
  const cluster = await traceCluster("auto", [{ name: "vm" }]);
  const { id: fault } = await novaControl("POST", "faults", {
    server: cluster.servers.vm,
    action: "evacuate",
    status: 400,
  });
  const uuid = await recover(hostDown(cluster.failed));
  expect((await shown(uuid)).status).toBe("error");
  return { cluster, uuid, fault };
}

describe("_process_unfinished_notifications", () => {
  it("an error notification is run once more (periodic): finished when Nova can now do it", async () => {
    const { uuid, fault } = await failedRecovery();
    await novaControl("DELETE", `faults/${fault}`);
    // The server is still on the failed host; the re-run evacuates it from there.
    await tick(DUE, 1);
    expect((await shown(uuid)).status).toBe("finished");
    expect(await runsOf(uuid)).toEqual([
      { run: 1, mode: "rpc", outcome: "error", ended: 1 },
      { run: 2, mode: "periodic", outcome: "finished", ended: 1 },
    ]);
    // Each run added its flow: the details show both, as upstream's new flowdetail per run.
    const details = (await shown(uuid, "1.1")).recovery_workflow_details.map((t: Json) => [t.name, t.state]);
    expect(details).toEqual([
      ["DisableComputeServiceTask", "REVERTED"],
      ["PrepareHAEnabledInstancesTask", "REVERTED"],
      ["EvacuateInstancesTask", "REVERTED"],
      ["DisableComputeServiceTask", "SUCCESS"],
      ["PrepareHAEnabledInstancesTask", "SUCCESS"],
      ["EvacuateInstancesTask", "SUCCESS"],
    ]);
  });

  it("an error notification whose re-run errors again is failed, and not run a third time", async () => {
    const { uuid } = await failedRecovery();
    await tick(DUE, 1);
    expect((await shown(uuid)).status).toBe("failed");
    expect(await runsOf(uuid)).toEqual([
      { run: 1, mode: "rpc", outcome: "error", ended: 1 },
      { run: 2, mode: "periodic", outcome: "failed", ended: 1 },
    ]);
    await tick(DUE);
    expect((await runsOf(uuid)).length).toBe(2);
  });

  it("nothing is re-run at a minute the task is not due", async () => {
    const { uuid } = await failedRecovery();
    await tick(NOT_DUE);
    expect([(await shown(uuid)).status, (await runsOf(uuid)).length]).toEqual(["error", 1]);
  });

  it("a new notification whose start was lost is run by the periodic task once older than 60 s, segment check skipped", async () => {
    const cluster = await traceCluster("auto", []);
    // Upstream's periodic path calls _process_notification directly: a
    // disabled segment is not looked at.
    await sql("UPDATE failover_segments SET enabled = 0 WHERE uuid = ?", cluster.segment.uuid);
    const host = cluster.hosts[cluster.failed]?.uuid ?? "";
    const payload = '{"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}';
    const old = new Date(Date.now() - 120_000).toISOString().replace("T", " ").replace("Z", "000");
    const fresh = new Date(Date.now() - 10_000).toISOString().replace("T", " ").replace("Z", "000");
    const lost = await seedNotification(host, "new", { payload, generated_time: old });
    const recent = await seedNotification(host, "new", {
      payload: '{"event": "STARTED", "host_status": "NORMAL"}',
      generated_time: fresh,
    });
    await tick(DUE, 1);
    // No instance on the failed host: SkipHostRecovery, finished.
    expect([(await shown(lost)).status, (await shown(lost)).message]).toEqual(["finished", null]);
    expect(await runsOf(lost)).toEqual([{ run: 1, mode: "periodic", outcome: "finished", ended: 1 }]);
    expect([(await shown(recent)).status, await runsOf(recent)]).toEqual(["new", []]);
  });
});

describe("_check_expired_notifications", () => {
  it("new, running and error notifications generated over 24 h ago are failed; the others are left", async () => {
    const cluster = await traceCluster("auto", []);
    const host = cluster.hosts[cluster.healthy]?.uuid ?? "";
    const old = "2026-01-01 00:00:00.000000";
    const statuses = ["new", "running", "error", "finished", "ignored"];
    const seeded = [];
    for (const status of statuses) seeded.push(await seedNotification(host, status, { generated_time: old }));
    const young = await seedNotification(host, "error", {
      generated_time: new Date().toISOString().replace("T", " ").replace("Z", "000"),
    });
    await tick(DUE + 60_000 * 10, 0);
    const after = [];
    for (const uuid of seeded) after.push((await shown(uuid)).status);
    expect(after).toEqual(["failed", "failed", "failed", "finished", "ignored"]);
    // Not due for the expiry check at an odd minute; the young error is retried only at a due minute.
    expect((await shown(young)).status).not.toBe("failed");
  });
});

describe("runs whose Workflow instance died", () => {
  it("a run whose instance was terminated mid-recovery is carried on by its next generation, which finishes it", async () => {
    const cluster = await traceCluster("auto", [{ name: "vm" }]);
    // No introspection: the run really sleeps after disabling the host (180 s).
    const { notification_uuid: uuid } = await notify(hostDown(cluster.failed));
    for (let i = 0; i < 500 && (await novaCalls({ host: cluster.failed })).every((c) => c.method !== "PUT"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await (await env.RECOVERY.get(`${uuid}-1`)).terminate();
    expect((await shown(uuid)).status).toBe("running");
    // At any minute: the periodic work keeps every live run moving.
    await tick(NOT_DUE, 1);
    expect((await shown(uuid)).status).toBe("finished");
    expect(await runsOf(uuid)).toEqual([{ run: 1, mode: "rpc", outcome: "finished", ended: 1 }]);
    expect(await sql("SELECT generation FROM recovery_runs WHERE notification_uuid = ?", uuid)).toEqual([
      { generation: 2 },
    ]);
    // The second generation replayed what the first had done: Nova was asked once to disable the host.
    const puts = (await novaCalls({ host: cluster.failed })).filter((c) => c.method === "PUT");
    expect(puts.length).toBe(1);
  });
});
