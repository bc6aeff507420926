import { describe, expect, it } from "vitest";
import {
  brief,
  type Cluster,
  hostFlags,
  novaCalls,
  novaControl,
  recover,
  shown,
  traceCluster,
  withoutTimestamps,
} from "./engine-helpers";
import processStarted from "./fixtures/engine-traces/process-started.json";
import processStopped from "./fixtures/engine-traces/process-stopped.json";
import vmStoppedFailed from "./fixtures/engine-traces/vm-lifecycle-stopped-failed.json";
import type { Json } from "./helpers";

// PROCESS and VM notifications (docs/engine.md, "Process failure",
// "Instance failure"), end to end,
// against test/fixtures/engine-traces where the real engine was traced.

const process = (hostname: string, event: string, process_name = "nova-compute") => ({
  notification: {
    type: "PROCESS",
    hostname,
    generated_time: new Date().toISOString().slice(0, 19),
    payload: { process_name, event },
  },
});

const vm = (hostname: string, instance_uuid: string, event = "LIFECYCLE", vir_domain_event = "STOPPED_FAILED") => ({
  notification: {
    type: "VM",
    hostname,
    generated_time: new Date().toISOString().slice(0, 19),
    payload: { instance_uuid, vir_domain_event, event },
  },
});

/** A trace's details and calls in `host`'s and `server`'s names (the traces ran on compute-1). */
function renamed(value: unknown, host: string, server?: { from: string; to: string }): Json {
  let text = JSON.stringify(value).replace(/(?<![\w.-])compute-1(?![\w.-])/g, host);
  if (server) text = text.replaceAll(server.from, server.to);
  return JSON.parse(text);
}

const callShape = (calls: readonly { method: string; path: string; body: unknown }[]) =>
  calls.map((c) => [c.method, c.path.replace(/os-services\/[0-9a-f-]+$/, "os-services/<id>"), c.body]);

/** A cluster whose c1 is up (a process or VM failed, not the host). */
async function liveCluster(servers: Json[] = []): Promise<Cluster> {
  const cluster = await traceCluster("auto", servers);
  await novaControl("POST", "hosts", { name: cluster.failed, state: "up", zone: cluster.zone });
  return cluster;
}

async function serviceOf(host: string) {
  const [service] = (await novaControl("GET", `state?host=${host}`)).services;
  return { status: service.status, disabled_reason: service.disabled_reason };
}

describe("PROCESS", () => {
  it("nova-compute STOPPED: the service is disabled and confirmed; the host on maintenance; finished (trace)", async () => {
    const cluster = await liveCluster();
    const uuid = await recover(process(cluster.failed, "STOPPED"));
    const notification = await shown(uuid, "1.1");
    expect(notification.status).toBe(processStopped.final_status);
    expect(withoutTimestamps(notification.recovery_workflow_details)).toEqual(
      withoutTimestamps(renamed(processStopped.recovery_workflow_details, cluster.failed)),
    );
    expect(callShape(await novaCalls({ host: cluster.failed }))).toEqual(
      callShape(renamed(processStopped.engine_nova_calls, cluster.failed)),
    );
    expect(await serviceOf(cluster.failed)).toEqual({
      status: "disabled",
      disabled_reason: "Masakari detected process failed.",
    });
    expect((await hostFlags(cluster))[cluster.failed]).toEqual({ on_maintenance: true, reserved: false });
  });

  it("nova-compute STARTED: finished, nothing done (trace)", async () => {
    const cluster = await liveCluster();
    const uuid = await recover(process(cluster.failed, "STARTED"));
    expect((await shown(uuid)).status).toBe(processStarted.final_status);
    expect(await novaCalls({ host: cluster.failed })).toEqual([]);
    expect((await hostFlags(cluster))[cluster.failed]).toEqual({ on_maintenance: false, reserved: false });
  });

  it("another process STOPPED: the host still goes on maintenance; SkipProcessRecovery, finished, no Nova call", async () => {
    const cluster = await liveCluster();
    const uuid = await recover(process(cluster.failed, "STOPPED", "libvirtd"));
    const notification = await shown(uuid, "1.1");
    expect([notification.status, notification.recovery_workflow_details]).toEqual(["finished", []]);
    expect(await novaCalls({ host: cluster.failed })).toEqual([]);
    expect((await hostFlags(cluster))[cluster.failed]).toEqual({ on_maintenance: true, reserved: false });
  });

  it("a service already disabled: skipped, confirmed, finished", async () => {
    const cluster = await liveCluster();
    await novaControl("POST", "hosts", {
      name: cluster.failed,
      status: "disabled",
      disabled_reason: "ops",
      zone: cluster.zone,
    });
    const uuid = await recover(process(cluster.failed, "STOPPED"));
    const notification = await shown(uuid, "1.1");
    expect(notification.status).toBe("finished");
    expect(
      notification.recovery_workflow_details.map((t: Json) => [
        t.name,
        t.state,
        t.progress_details.map((e: Json) => e.message),
      ]),
    ).toEqual([
      [
        "DisableComputeNodeTask",
        "SUCCESS",
        [
          `Disabling compute service on host: '${cluster.failed}'`,
          "Skipping recovery for process nova-compute as it is already disabled",
        ],
      ],
      [
        "ConfirmComputeNodeDisabledTask",
        "SUCCESS",
        [
          `Confirming compute service is disabled on host: '${cluster.failed}'`,
          `Confirmed compute service is disabled on host: '${cluster.failed}'`,
        ],
      ],
    ]);
    expect((await novaCalls({ host: cluster.failed })).map((c) => c.method)).toEqual(["GET", "GET"]);
  });

  it("a service that never shows disabled: ProcessRecoveryFailure after the wait, error, both tasks REVERTED", async () => {
    const cluster = await liveCluster();
    // Nova accepts the update but the service stays enabled.
    await novaControl("POST", "faults", { method: "PUT", path: "/os-services/", status: 202, times: 1 });
    const uuid = await recover(process(cluster.failed, "STOPPED"));
    const notification = await shown(uuid, "1.1");
    expect(notification.status).toBe("error");
    expect(withoutTimestamps(notification.recovery_workflow_details)).toEqual([
      {
        name: "DisableComputeNodeTask",
        progress: 1,
        progress_details: [
          {
            timestamp: "<timestamp>",
            progress: "0.0",
            message: `Disabling compute service on host: '${cluster.failed}'`,
          },
          {
            timestamp: "<timestamp>",
            progress: "1.0",
            message: `Disabled compute service on host: '${cluster.failed}'`,
          },
        ],
        state: "REVERTED",
      },
      {
        name: "ConfirmComputeNodeDisabledTask",
        progress: 1,
        progress_details: [
          {
            timestamp: "<timestamp>",
            progress: "0.0",
            message: `Confirming compute service is disabled on host: '${cluster.failed}'`,
          },
          { timestamp: "<timestamp>", progress: "1.0", message: "Failed to disable service nova-compute" },
        ],
        state: "REVERTED",
      },
    ]);
    // Polled once at once, then every verify_interval for wait_period_after_service_update (180 s).
    const polls = (await novaCalls({ host: cluster.failed })).filter((c) => c.method === "GET").length;
    expect(polls).toBe(2 + 181);
  });
});

describe("VM", () => {
  it("LIFECYCLE/STOPPED_FAILED on an HA-enabled stopped server: started and confirmed ACTIVE; finished (trace)", async () => {
    const cluster = await liveCluster([{ name: "vm", vm_state: "stopped", metadata: { HA_Enabled: "True" } }]);
    const id = cluster.servers.vm ?? "";
    const uuid = await recover(vm(cluster.failed, id));
    const notification = await shown(uuid, "1.1");
    const traced = { from: vmStoppedFailed.notification_request.payload.instance_uuid, to: id };
    expect(notification.status).toBe(vmStoppedFailed.final_status);
    expect(withoutTimestamps(notification.recovery_workflow_details)).toEqual(
      withoutTimestamps(renamed(vmStoppedFailed.recovery_workflow_details, cluster.failed, traced)),
    );
    // The trace's stand-in took one more read to show the start done.
    const expected = renamed(vmStoppedFailed.engine_nova_calls, cluster.failed, traced).map(brief).slice(0, -1);
    expect((await novaCalls({ server: id })).map(brief)).toEqual(expected);
    const [server] = (await novaControl("GET", `state?server=${id}`)).servers;
    expect(server["OS-EXT-STS:vm_state"]).toBe("active");
    // A VM failure changes no host.
    expect((await hostFlags(cluster))[cluster.failed]).toEqual({ on_maintenance: false, reserved: false });
  });

  it("an active server is stopped first, then started", async () => {
    const cluster = await liveCluster([{ name: "vm", metadata: { HA_Enabled: "yes" } }]);
    const id = cluster.servers.vm ?? "";
    const uuid = await recover(vm(cluster.failed, id, "IO_ERROR", "IO_ERROR_REPORT"));
    const notification = await shown(uuid, "1.1");
    expect(notification.status).toBe("finished");
    expect(
      notification.recovery_workflow_details[0].progress_details.map((e: Json) => [e.progress, e.message]),
    ).toEqual([
      ["0.0", `Stopping instance: ${id}`],
      ["1.0", `Stopped instance: '${id}'`],
    ]);
    expect((await novaCalls({ server: id })).filter((c) => c.method === "POST").map((c) => c.body)).toEqual([
      { "os-stop": null },
      { "os-start": null },
    ]);
  });

  it("a server without HA_Enabled: SkipInstanceRecovery, finished, the task REVERTED", async () => {
    const cluster = await liveCluster([{ name: "vm", vm_state: "stopped" }]);
    const id = cluster.servers.vm ?? "";
    const uuid = await recover(vm(cluster.failed, id, "QEMU_GUEST_AGENT_ERROR"));
    const notification = await shown(uuid, "1.1");
    expect([notification.status, withoutTimestamps(notification.recovery_workflow_details)]).toEqual([
      "finished",
      [
        {
          name: "StopInstanceTask",
          progress: 1,
          progress_details: [
            {
              timestamp: "<timestamp>",
              progress: "1.0",
              message: `Skipping recovery for instance: ${id} as it is not Ha_Enabled`,
            },
          ],
          state: "REVERTED",
        },
      ],
    ]);
  });

  it.each(["paused", "rescued"])("a %s server: IgnoreInstanceRecovery, ignored", async (state) => {
    const cluster = await liveCluster([{ name: "vm", vm_state: state, metadata: { HA_Enabled: "True" } }]);
    const id = cluster.servers.vm ?? "";
    const uuid = await recover(vm(cluster.failed, id));
    const notification = await shown(uuid, "1.1");
    expect(notification.status).toBe("ignored");
    expect(notification.recovery_workflow_details[0].progress_details[0].message).toBe(
      `Recovery of instance '${id}' is ignored as it is in '${state}' state.`,
    );
    expect((await novaCalls({ server: id })).filter((c) => c.method === "POST")).toEqual([]);
  });

  it.each([
    ["LIFECYCLE", "STOPPED_SHUTDOWN"],
    ["REBOOT", "UNKNOWN"],
    ["lifecycle", "stopped_failed"],
  ])("event %s/%s is not one upstream recovers: ignored, no Nova call", async (event, detail) => {
    const cluster = await liveCluster([{ name: "vm", metadata: { HA_Enabled: "True" } }]);
    const id = cluster.servers.vm ?? "";
    const uuid = await recover(vm(cluster.failed, id, event, detail));
    expect([(await shown(uuid, "1.1")).status, (await shown(uuid, "1.1")).recovery_workflow_details]).toEqual([
      "ignored",
      [],
    ]);
    expect(await novaCalls({ server: id })).toEqual([]);
  });

  it("a start that never makes it ACTIVE: InstanceRecoveryFailure, error, every task REVERTED", async () => {
    const cluster = await liveCluster([{ name: "vm", vm_state: "stopped", metadata: { HA_Enabled: "True" } }]);
    const id = cluster.servers.vm ?? "";
    await novaControl("POST", "faults", { server: id, action: "os-start", status: 202 });
    const uuid = await recover(vm(cluster.failed, id));
    const notification = await shown(uuid, "1.1");
    expect(notification.status).toBe("error");
    expect(notification.recovery_workflow_details.map((t: Json) => [t.name, t.state, t.progress])).toEqual([
      ["StopInstanceTask", "REVERTED", 1],
      ["StartInstanceTask", "REVERTED", 1],
      ["ConfirmInstanceActiveTask", "REVERTED", 1],
    ]);
    expect(notification.recovery_workflow_details[2].progress_details.at(-1).message).toBe(
      `Failed to start instance ${id}`,
    );
  });

  it("Nova answering 500 to the stop: error (MasakariException), the task REVERTED", async () => {
    const cluster = await liveCluster([{ name: "vm", metadata: { HA_Enabled: "True" } }]);
    const id = cluster.servers.vm ?? "";
    await novaControl("POST", "faults", { server: id, action: "os-stop", status: 500 });
    const uuid = await recover(vm(cluster.failed, id));
    const notification = await shown(uuid, "1.1");
    expect([notification.status, notification.recovery_workflow_details.map((t: Json) => [t.name, t.state])]).toEqual([
      "error",
      [["StopInstanceTask", "REVERTED"]],
    ]);
  });
});
