import type { WorkflowStep } from "cloudflare:workers";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Config, loadConfig, type RecoveryOptions } from "../src/config";
import type { Recovery } from "../src/engine/context";
import { RecoveryError } from "../src/engine/errors";
import { recoverHost } from "../src/engine/host-failure/flows";
import { recoverInstance } from "../src/engine/instance-failure";
import { recoveryContext } from "../src/engine/workflow";
import { recoveryWorkflowDetails } from "../src/resources/notifications/details";
import { type Cluster, type ClusterServer, novaCalls, novaControl, traceCluster } from "./engine-helpers";
import { Runtime } from "./engine-runtime";
import { type Json, sql } from "./helpers";

// The flows as plain functions of a Recovery (database, Nova, options, a
// Workflow instance's steps), run here with every step run at once and
// every sleep skipped: the engine's options and Nova's answers, case by
// case (docs/engine.md, "Options", "Host failure", "Instance failure").

const CONFIG = loadConfig(env);
const DEFAULTS = CONFIG.recovery;

/**
 * A WorkflowStep that runs each step at once and skips sleeps; a wait for
 * an event ends at once too: a run that hands a phase to links (the
 * runtime's) looks at the phase again and again until they finish it.
 */
const immediate = {
  do: (_name: string, config: unknown, body?: () => unknown) => (typeof config === "function" ? config() : body?.()),
  sleep: async () => {},
  waitForEvent: async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    throw new Error("no event");
  },
} as unknown as WorkflowStep;

function recovery(
  overrides: {
    hostFailure?: Partial<RecoveryOptions["hostFailure"]>;
    instanceFailure?: Partial<RecoveryOptions["instanceFailure"]>;
    waitPeriodAfterEvacuation?: number;
  } = {},
  timeoutMs = 10_000,
  base: Config = CONFIG,
): Recovery {
  const config: Config = {
    ...base,
    novaTimeoutMs: timeoutMs,
    recovery: {
      ...DEFAULTS,
      waitPeriodAfterEvacuation: overrides.waitPeriodAfterEvacuation ?? DEFAULTS.waitPeriodAfterEvacuation,
      hostFailure: { ...DEFAULTS.hostFailure, ...overrides.hostFailure },
      instanceFailure: { ...DEFAULTS.instanceFailure, ...overrides.instanceFailure },
    },
  };
  const runtime = new Runtime(config);
  return recoveryContext(env, immediate, crypto.randomUUID(), 1, "test", 1, config, runtime.workflows);
}

/** Runs a host flow; the status it decides. */
async function runHost(r: Recovery, cluster: Cluster, method = "auto", reserved: string[] = []): Promise<string> {
  // The run the flow belongs to, as its first step records it: links check that it is live.
  await sql(
    "INSERT OR IGNORE INTO recovery_runs (notification_uuid, run, mode, created_at) VALUES (?, 1, 'rpc', '2026-01-01 00:00:00.000000')",
    r.notificationUuid,
  );
  try {
    await recoverHost(r, cluster.failed, cluster.segment.uuid, method as "auto", reserved);
    return "finished";
  } catch (error) {
    if (!(error instanceof RecoveryError)) throw error;
    return error.name;
  }
}

const messages = async (r: Recovery, type = "COMPUTE_HOST"): Promise<[string, string, string[]][]> =>
  (await recoveryWorkflowDetails(r.db, r.notificationUuid, type)).map((t) => [
    t.name,
    t.state,
    t.progress_details.map((e) => e.message),
  ]);

async function server(id: string | undefined) {
  const [found] = (await novaControl("GET", `state?server=${id}`)).servers;
  return {
    host: found["OS-EXT-SRV-ATTR:host"],
    vm_state: found["OS-EXT-STS:vm_state"],
    task_state: found["OS-EXT-STS:task_state"],
    locked: found.locked,
  };
}

const posts = async (id: string | undefined) =>
  (await novaCalls({ server: id ?? "" })).filter((c) => c.method === "POST").map((c) => c.body);

describe("[host_failure] options", () => {
  it("evacuate_all_instances = False: only HA-enabled instances move", async () => {
    const cluster = await traceCluster("auto");
    const r = recovery({ hostFailure: { evacuateAllInstances: false } });
    expect(await runHost(r, cluster)).toBe("finished");
    const [, prepare] = await messages(r);
    expect(prepare?.[2]).toEqual([
      "Preparing instances for evacuation",
      `Total instances running on failed host '${cluster.failed}' is 3`,
      "Total HA Enabled instances count: '2'",
      `Instances to be evacuated are: '${cluster.servers["ha-stopped"]},${cluster.servers["ha-active"]}'`,
    ]);
    expect((await server(cluster.servers["non-ha"])).host).toBe(cluster.failed);
    expect((await server(cluster.servers["ha-active"])).host).toBe(cluster.healthy);
  });

  it("ignore_instances_in_error_state = True: instances in error stay; an HA one is named", async () => {
    const servers: ClusterServer[] = [
      { name: "ha-error", vm_state: "error", metadata: { HA_Enabled: "True" } },
      { name: "plain-error", vm_state: "error" },
      { name: "ha-active", metadata: { HA_Enabled: "True" } },
    ];
    const cluster = await traceCluster("auto", servers);
    const r = recovery({ hostFailure: { ignoreInstancesInErrorState: true } });
    expect(await runHost(r, cluster)).toBe("finished");
    const [, prepare] = await messages(r);
    expect(prepare?.[2]).toContain(
      `Ignoring recovery of HA_Enabled instance '${cluster.servers["ha-error"]}' as it is in 'error' state.`,
    );
    expect(prepare?.[2]).toContain(`Instances to be evacuated are: '${cluster.servers["ha-active"]}'`);
    expect((await server(cluster.servers["plain-error"])).host).toBe(cluster.failed);
  });

  it("ha_enabled_instance_metadata_key: another key marks HA, in any boolean spelling", async () => {
    const servers: ClusterServer[] = [
      { name: "ha", metadata: { masakari_ha: "on" } },
      { name: "default-key", metadata: { HA_Enabled: "True" } },
    ];
    const cluster = await traceCluster("auto", servers);
    const r = recovery({ hostFailure: { haEnabledInstanceMetadataKey: "masakari_ha", evacuateAllInstances: false } });
    expect(await runHost(r, cluster)).toBe("finished");
    expect((await server(cluster.servers.ha)).host).toBe(cluster.healthy);
    expect((await server(cluster.servers["default-key"])).host).toBe(cluster.failed);
  });

  it("service_disable_reason: the reason Nova is given", async () => {
    const cluster = await traceCluster("auto", []);
    await runHost(recovery({ hostFailure: { serviceDisableReason: "fenced by rack-4 PDU" } }), cluster);
    const put = (await novaCalls({ host: cluster.failed })).find((c) => c.method === "PUT");
    expect(put?.body).toEqual({ status: "disabled", disabled_reason: "fenced by rack-4 PDU" });
  });

  it("add_reserved_host_to_aggregate = True: the reserved host joins the failed host's aggregates", async () => {
    const cluster = await traceCluster("reserved_host", [{ name: "vm" }]);
    const zone = (await novaControl("POST", "aggregates", { name: `${cluster.zone}-agg`, hosts: [cluster.failed] }))
      .name;
    const already = (
      await novaControl("POST", "aggregates", {
        name: `${cluster.zone}-both`,
        hosts: [cluster.failed, cluster.reserved],
      })
    ).name;
    const r = recovery({ hostFailure: { addReservedHostToAggregate: true } });
    expect(await runHost(r, cluster, "reserved_host", [cluster.reserved])).toBe("finished");
    const [, , evacuate] = await messages(r);
    expect(evacuate?.[2].slice(0, 5)).toEqual([
      `Start evacuation of instances from failed host '${cluster.failed}', instance uuids are: '${cluster.servers.vm}'`,
      `Enabling reserved host: '${cluster.reserved}'`,
      `Add host ${cluster.reserved} to aggregate ${zone}`,
      `Added host ${cluster.reserved} to aggregate ${zone}`,
      `Add host ${cluster.reserved} to aggregate ${already}`,
    ]);
    expect(evacuate?.[2][5]).toBe(`Host '${cluster.reserved}' already has been added to aggregate '${already}'.`);
  });

  it("host_failure_recovery_threads = 1: one evacuation at a time, in master's order", async () => {
    const cluster = await traceCluster("auto");
    const r = recovery({ hostFailure: { recoveryThreads: 1 } });
    expect(await runHost(r, cluster)).toBe("finished");
    const ids = ["non-ha", "ha-active", "ha-stopped"].map((n) => cluster.servers[n] ?? "");
    const calls = (await novaCalls({ host: cluster.failed })).length;
    const order: string[] = [];
    for (const c of (await Promise.all(ids.map((id) => novaCalls({ server: id }))))
      .flat()
      .sort((a, b) => a.seq - b.seq)) {
      const id = ids.find((i) => c.path.includes(i)) ?? "";
      if (order.at(-1) !== id) order.push(id);
    }
    expect(calls).toBeGreaterThan(0);
    expect(order).toEqual(ids);
  });
});

describe("D24: priorities and exclusions", () => {
  /** The servers of `cluster` in the order Nova was first asked to evacuate them. */
  async function evacuationOrder(cluster: Cluster): Promise<string[]> {
    const names = Object.fromEntries(Object.entries(cluster.servers).map(([name, id]) => [id, name]));
    const calls = (await Promise.all(Object.values(cluster.servers).map((id) => novaCalls({ server: id })))).flat();
    return calls
      .filter((c) => JSON.stringify(c.body ?? null).includes('"evacuate"'))
      .sort((a, b) => a.seq - b.seq)
      .map((c) => names[c.path.split("/").at(-2) ?? ""] ?? "?");
  }

  it("HOST_FAILURE_PRIORITY_METADATA_KEY: integer values first, highest first; ties and the rest in upstream's order", async () => {
    const servers: ClusterServer[] = [
      { name: "plain-1" },
      { name: "low", metadata: { priority: "5" } },
      { name: "ha", metadata: { HA_Enabled: "True" } },
      { name: "high", metadata: { priority: "10" } },
      { name: "not-a-number", metadata: { priority: "urgent" } },
      { name: "also-low", metadata: { priority: "5" } },
    ];
    const cluster = await traceCluster("auto", servers);
    const r = recovery({ hostFailure: { recoveryThreads: 1, priorityMetadataKey: "priority" } });
    expect(await runHost(r, cluster)).toBe("finished");
    // Upstream's order is the reverse of Prepare's (HA first, each group as
    // Nova lists it, newest first): plain-1, low, high, not-a-number,
    // also-low, ha. Priorities come first, the fives in that order.
    expect(await evacuationOrder(cluster)).toEqual(["high", "low", "also-low", "plain-1", "not-a-number", "ha"]);
  });

  it("HOST_FAILURE_EXCLUDE_METADATA: matching instances are left alone and named as skipped", async () => {
    const servers: ClusterServer[] = [
      { name: "amphora", metadata: { "managed-by": "octavia" } },
      { name: "other-manager", metadata: { "managed-by": "heat" } },
      { name: "vm" },
    ];
    const cluster = await traceCluster("auto", servers);
    const r = recovery({ hostFailure: { excludeMetadata: { key: "managed-by", value: "octavia" } } });
    expect(await runHost(r, cluster)).toBe("finished");
    const [, prepare] = await messages(r);
    expect(prepare?.[2]).toEqual([
      "Preparing instances for evacuation",
      `Total instances running on failed host '${cluster.failed}' is 3`,
      `Skipping recovery of instance '${cluster.servers.amphora}' as its metadata has managed-by=octavia.`,
      "Total HA Enabled instances count: '0'",
      "Total Non-HA Enabled instances count: '2'",
      "All instances (HA Enabled/Non-HA Enabled) should be considered for evacuation. Total count is: '2'",
      `Instances to be evacuated are: '${cluster.servers.vm},${cluster.servers["other-manager"]}'`,
    ]);
    expect(await server(cluster.servers.amphora)).toEqual({
      host: cluster.failed,
      vm_state: "active",
      task_state: null,
      locked: false,
    });
    expect(await posts(cluster.servers.amphora)).toEqual([]);
    const moved = await sql<Json>(
      "SELECT instance_name FROM vmoves WHERE notification_uuid = ? ORDER BY instance_name",
      r.notificationUuid,
    );
    expect(moved).toEqual([{ instance_name: "other-manager" }, { instance_name: "vm" }]);
  });
});

describe("D24 with ignore_instances_in_error_state", () => {
  it("an excluded HA-enabled instance is named as excluded only, not as one in error", async () => {
    const servers: ClusterServer[] = [
      { name: "amphora", metadata: { "managed-by": "octavia", HA_Enabled: "True" } },
      { name: "ha-error", vm_state: "error", metadata: { HA_Enabled: "True" } },
      { name: "vm", metadata: { HA_Enabled: "True" } },
    ];
    const cluster = await traceCluster("auto", servers);
    const r = recovery({
      hostFailure: { ignoreInstancesInErrorState: true, excludeMetadata: { key: "managed-by", value: "octavia" } },
    });
    expect(await runHost(r, cluster)).toBe("finished");
    const [, prepare] = await messages(r);
    expect(prepare?.[2]?.filter((m: string) => /^(Skipping|Ignoring)/.test(m))).toEqual([
      `Skipping recovery of instance '${cluster.servers.amphora}' as its metadata has managed-by=octavia.`,
      `Ignoring recovery of HA_Enabled instance '${cluster.servers["ha-error"]}' as it is in 'error' state.`,
    ]);
  });
});

describe("the per-instance procedure (`_evacuate_and_confirm`)", () => {
  it.each([
    ["active", null, [{ lock: null }, { evacuate: {} }, { unlock: null }], "active"],
    [
      "active",
      "rebooting",
      [{ lock: null }, { "os-resetState": { state: "error" } }, { evacuate: {} }, { unlock: null }],
      "active",
    ],
    ["stopped", null, [{ lock: null }, { evacuate: {} }, { unlock: null }], "stopped"],
    [
      "error",
      null,
      [
        { lock: null },
        { evacuate: {} },
        { "os-stop": null },
        { "os-resetState": { state: "error" } },
        { unlock: null },
      ],
      "error",
    ],
    [
      "stopped",
      "powering-on",
      [
        { lock: null },
        { "os-resetState": { state: "error" } },
        { evacuate: {} },
        { "os-stop": null },
        { unlock: null },
      ],
      "stopped",
    ],
    [
      "suspended",
      null,
      [
        { lock: null },
        { "os-resetState": { state: "error" } },
        { evacuate: {} },
        { "os-stop": null },
        { unlock: null },
      ],
      "stopped",
    ],
  ])("vm_state %s, task_state %s: %j, ends %s on the healthy host", async (vmState, taskState, expected, end) => {
    const cluster = await traceCluster("auto", [{ name: "vm", vm_state: vmState, task_state: taskState }]);
    expect(await runHost(recovery(), cluster)).toBe("finished");
    expect(await posts(cluster.servers.vm)).toEqual(expected);
    expect(await server(cluster.servers.vm)).toEqual({
      host: cluster.healthy,
      vm_state: end,
      task_state: null,
      locked: false,
    });
  });

  it("a server its owner locked is neither locked nor unlocked by the engine", async () => {
    const cluster = await traceCluster("auto", [{ name: "vm", locked: true }]);
    expect(await runHost(recovery(), cluster)).toBe("finished");
    expect(await posts(cluster.servers.vm)).toEqual([{ evacuate: {} }]);
    expect((await server(cluster.servers.vm)).locked).toBe(true);
  });

  it("an evacuation that never completes: the move fails with 'Failed reason: timeout.', the flow is an error", async () => {
    const cluster = await traceCluster("auto", [{ name: "vm" }]);
    await novaControl("POST", "faults", { server: cluster.servers.vm, action: "evacuate", result: "stuck" });
    const r = recovery({ waitPeriodAfterEvacuation: 5 });
    expect(await runHost(r, cluster)).toBe("HostRecoveryFailureException");
    const [move] = await sql<Json>(
      "SELECT status, message FROM vmoves WHERE notification_uuid = ?",
      r.notificationUuid,
    );
    expect(move).toEqual({ status: "failed", message: "Failed reason: timeout." });
    // Confirmation polled at once, then every second for 5 seconds.
    const gets = (await novaCalls({ server: cluster.servers.vm ?? "" })).filter((c) => c.method === "GET").length;
    expect(gets).toBe(2 + 6);
    expect(await posts(cluster.servers.vm)).toEqual([{ lock: null }, { evacuate: {} }, { unlock: null }]);
  });
});

describe("Nova failing for a moment mid-evacuation (ours)", () => {
  it.each([
    {
      what: "a 500 to an evacuation is ridden out: Nova shows nothing of it, so it is sent again, once",
      fault: { action: "evacuate", status: 500, times: 1 },
      sent: [{ lock: null }, { evacuate: {} }, { evacuate: {} }, { unlock: null }],
    },
    {
      what: "a 500 to reading a server before its lock is ridden out: locked, evacuated and unlocked once",
      fault: { method: "GET", status: 500, times: 2 },
      sent: [{ lock: null }, { evacuate: {} }, { unlock: null }],
    },
    {
      what: "a 503 to the lock: Nova shows the server unlocked, so the lock is sent again, once",
      fault: { action: "lock", status: 503, times: 1 },
      sent: [{ lock: null }, { lock: null }, { evacuate: {} }, { unlock: null }],
    },
  ])("$what", async ({ fault, sent }) => {
    const cluster = await traceCluster("auto", [{ name: "vm" }]);
    await novaControl("POST", "faults", { server: cluster.servers.vm, ...fault });
    const r = recovery();
    expect(await runHost(r, cluster)).toBe("finished");
    expect(await posts(cluster.servers.vm)).toEqual(sent);
    expect(await server(cluster.servers.vm)).toEqual({
      host: cluster.healthy,
      vm_state: "active",
      task_state: null,
      locked: false,
    });
    const moves = await sql<Json>(
      "SELECT status, dest_host FROM vmoves WHERE notification_uuid = ?",
      r.notificationUuid,
    );
    expect(moves).toEqual([{ status: "succeeded", dest_host: cluster.healthy }]);
  });

  it("a 503 to the stop after an evacuation, and to the looks that follow: the server still ends stopped, in error as before", async () => {
    const cluster = await traceCluster("auto", [{ name: "vm", vm_state: "error" }]);
    await novaControl("POST", "faults", { server: cluster.servers.vm, action: "os-stop", status: 503, times: 1 });
    const r = recovery();
    expect(await runHost(r, cluster)).toBe("finished");
    expect(await posts(cluster.servers.vm)).toEqual([
      { lock: null },
      { evacuate: {} },
      { "os-stop": null },
      { "os-stop": null },
      { "os-resetState": { state: "error" } },
      { unlock: null },
    ]);
    expect((await server(cluster.servers.vm)).vm_state).toBe("error");
  });

  it("a failure to read that outlasts the evacuation's wait fails the instance: counted, so the notification errs", async () => {
    const cluster = await traceCluster("auto", [{ name: "vm" }]);
    const { id } = await novaControl("POST", "faults", { method: "GET", server: cluster.servers.vm, status: 500 });
    const r = recovery({ waitPeriodAfterEvacuation: 3 });
    expect(await runHost(r, cluster)).toBe("HostRecoveryFailureException");
    expect(await posts(cluster.servers.vm)).toEqual([]);
    const moves = await sql<Json>("SELECT status, message FROM vmoves WHERE notification_uuid = ?", r.notificationUuid);
    expect(moves).toEqual([
      { status: "failed", message: expect.stringMatching(`^Injected fault ${id}\\. \\(HTTP 500\\)`) },
    ]);
    const [evacuate] = (await messages(r)).filter(([name]) => name === "EvacuateInstancesTask");
    expect(evacuate?.[2]).toContain(`Evacuation of instance started: '${cluster.servers.vm}'`);
  });

  it("a 404 to reading a server is master's: not counted, its move ignored, the notification finished", async () => {
    const cluster = await traceCluster("auto", [{ name: "vm" }]);
    await novaControl("POST", "faults", { method: "GET", server: cluster.servers.vm, status: 404, times: 1 });
    const r = recovery();
    expect(await runHost(r, cluster)).toBe("finished");
    expect(await posts(cluster.servers.vm)).toEqual([]);
    const moves = await sql<Json>("SELECT status, message FROM vmoves WHERE notification_uuid = ?", r.notificationUuid);
    expect(moves).toEqual([{ status: "ignored", message: "Resource could not be found." }]);
  });

  it("a 409 is no passing failure: the move fails with Masakari's 'Conflict', as upstream", async () => {
    const cluster = await traceCluster("auto", [{ name: "vm", vm_state: "error" }]);
    await novaControl("POST", "faults", { server: cluster.servers.vm, action: "os-stop", status: 409, times: 1 });
    const r = recovery();
    expect(await runHost(r, cluster)).toBe("HostRecoveryFailureException");
    const [move] = await sql<Json>(
      "SELECT status, message FROM vmoves WHERE notification_uuid = ?",
      r.notificationUuid,
    );
    expect(move).toEqual({ status: "failed", message: "Conflict" });
  });
});

describe("Keystone refusing the Worker's identity", () => {
  it("is upstream's MasakariException, which *_priority falls back on: both flows fail, Nova never called", async () => {
    const cluster = await traceCluster("auto_priority");
    const keystone = CONFIG.keystone;
    if (keystone?.credentials.kind !== "password") throw new Error("the tests log in as a service user");
    const refused = {
      ...CONFIG,
      keystone: { ...keystone, credentials: { ...keystone.credentials, password: "wrong" } },
    };
    const r = recovery({}, 10_000, refused);
    expect(await runHost(r, cluster, "auto_priority", [cluster.reserved])).toBe("MasakariException");
    expect((await messages(r)).map(([name, state]) => [name, state])).toEqual([
      ["DisableComputeServiceTask", "REVERTED"],
      ["DisableComputeServiceTask", "REVERTED"],
    ]);
    expect(await novaCalls({ host: cluster.failed })).toEqual([]);
  });
});

describe("timeouts", () => {
  it("wait_period_after_evacuation = 0 is no timeout (oslo's looping call): a slow evacuation is waited for", async () => {
    const cluster = await traceCluster("auto", [{ name: "vm", evacuate_polls: 100 }]);
    const r = recovery({ waitPeriodAfterEvacuation: 0 });
    expect(await runHost(r, cluster)).toBe("finished");
    expect((await server(cluster.servers.vm)).host).toBe(cluster.healthy);
  });
});

describe("Nova failing", () => {
  it("a 500 to the service update: MasakariException, Disable REVERTED, nothing evacuated", async () => {
    const cluster = await traceCluster("auto");
    await novaControl("POST", "faults", { method: "PUT", path: "/os-services/", status: 500, times: 1 });
    const r = recovery();
    expect(await runHost(r, cluster)).toBe("MasakariException");
    expect(await messages(r)).toEqual([
      ["DisableComputeServiceTask", "REVERTED", [`Disabling compute service on host: '${cluster.failed}'`]],
    ]);
    expect(await posts(cluster.servers["ha-active"])).toEqual([]);
  });

  it("no answer to the server list within the timeout: MasakariException, both tasks REVERTED", async () => {
    const cluster = await traceCluster("auto");
    await novaControl("POST", "faults", {
      path: `/servers/detail?all_tenants=True&host=${cluster.failed}`,
      hang: true,
      times: 1,
    });
    const r = recovery({}, 300);
    expect(await runHost(r, cluster)).toBe("MasakariException");
    expect((await messages(r)).map(([name, state]) => [name, state])).toEqual([
      ["DisableComputeServiceTask", "REVERTED"],
      ["PrepareHAEnabledInstancesTask", "REVERTED"],
    ]);
  });

  it("a host with no nova-compute service: MasakariException (upstream's IndexError)", async () => {
    const cluster = await traceCluster("auto", []);
    const r = recovery();
    const missing = { ...cluster, failed: `${cluster.failed}-gone` };
    expect(await runHost(r, missing)).toBe("MasakariException");
  });
});

describe("[instance_failure] process_all_instances", () => {
  it("= True: a server without HA_Enabled is recovered too", async () => {
    const cluster = await traceCluster("auto", [{ name: "vm", vm_state: "stopped" }]);
    await novaControl("POST", "hosts", { name: cluster.failed, state: "up", zone: cluster.zone });
    const r = recovery({ instanceFailure: { processAllInstances: true } });
    await recoverInstance(r, cluster.servers.vm ?? "");
    expect(await posts(cluster.servers.vm)).toEqual([{ "os-start": null }]);
    expect((await server(cluster.servers.vm)).vm_state).toBe("active");
  });
});
