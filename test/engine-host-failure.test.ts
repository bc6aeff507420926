import { describe, expect, it } from "vitest";
import {
  type Cluster,
  hostDown,
  hostFlags,
  type NovaCall,
  novaCalls,
  novaControl,
  novaState,
  recover,
  shown,
  TRACE_SERVERS,
  traceCluster,
  translate,
  vmovesOf,
  withoutTimestamps,
} from "./engine-helpers";
import auto from "./fixtures/engine-traces/host-failure-auto.json";
import autoPriority from "./fixtures/engine-traces/host-failure-auto_priority.json";
import autoPriorityFallback from "./fixtures/engine-traces/host-failure-auto_priority-fallback.json";
import autoEmptyHost from "./fixtures/engine-traces/host-failure-auto-empty-host.json";
import autoEvacuateFails from "./fixtures/engine-traces/host-failure-auto-evacuate-fails.json";
import autoEventStarted from "./fixtures/engine-traces/host-failure-auto-event-started.json";
import autoStatusUnknown from "./fixtures/engine-traces/host-failure-auto-host-status-unknown.json";
import reservedHost from "./fixtures/engine-traces/host-failure-reserved_host.json";
import reservedHostNoReserved from "./fixtures/engine-traces/host-failure-reserved_host-no-reserved.json";
import rhPriority from "./fixtures/engine-traces/host-failure-rh_priority.json";
import rhPriorityNoReserved from "./fixtures/engine-traces/host-failure-rh_priority-no-reserved.json";
import { del, type Json, sql } from "./helpers";

// COMPUTE_HOST notifications end to end, against what the real
// masakari-engine 14.0.2 did (test/fixtures/engine-traces): the same Nova
// calls in the same order, the same statuses, details and end state, except
// where master differs (docs/upstream.md, "14.0.2 and master"): VM moves
// are written, and master evacuates its pending moves newest first, so the
// instances go in the reverse of Prepare's order.

// A trace file (its JSON types vary from file to file).
type Trace = Json;

/** Python str(datetime), as progress details carry it. */
const PY_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{6})?$/;

/**
 * A trace's recovery_workflow_details as master writes them for our
 * cluster: names and ids translated, the evacuation in master's order, id
 * lists that upstream sorts sorted again (our ids sort differently).
 */
function expectedDetails(trace: Trace, cluster: Cluster): Json[] {
  const details = translate(trace.recovery_workflow_details as Json[], trace as Json, cluster);
  let prepared: string[] = [];
  for (const task of details) {
    if (task.name === "PrepareHAEnabledInstancesTask") {
      const listed = task.progress_details.find((e: Json) => e.message.startsWith("Instances to be evacuated are"));
      prepared = listed
        ? String(listed.message)
            .replace(/^.*'([^']*)'$/, "$1")
            .split(",")
        : [];
    }
    if (task.name !== "EvacuateInstancesTask") continue;
    const entries: Json[] = task.progress_details;
    const started = entries.filter((e) => e.message.startsWith("Evacuation of instance started"));
    const reversed = [...started].reverse();
    task.progress_details = entries.map((e) => {
      if (e.message.startsWith("Evacuation of instance started")) return reversed.shift();
      if (e.message.startsWith("Start evacuation")) {
        return {
          ...e,
          message: e.message.replace(
            /'([^']*)'$/,
            (_: string, ids: string) => `'${ids.split(",").reverse().join(",")}'`,
          ),
        };
      }
      // Master sorts the instances it evacuated, but lists those that
      // failed as it reads their VM moves: newest first, the reverse of
      // Prepare's order.
      if (e.message.startsWith("Failed to evacuate instances")) {
        return {
          ...e,
          message: e.message.replace(/instances '([^']*)'/, (_: string, ids: string) => {
            const failed = ids.split(",");
            return `instances '${[...prepared]
              .reverse()
              .filter((id) => failed.includes(id))
              .join(",")}'`;
          }),
        };
      }
      return {
        ...e,
        message: e.message.replace(
          /instances '([^']*)'/,
          (_: string, ids: string) => `instances '${ids.split(",").sort().join(",")}'`,
        ),
      };
    });
  }
  return details;
}

/** Each call's method and body, GET runs collapsed: what a server went through. */
function actions(calls: readonly { method: string; body: unknown }[]): unknown[] {
  const out: unknown[] = [];
  for (const c of calls) {
    const step = c.method === "GET" ? "GET" : c.body;
    if (step === "GET" && out.at(-1) === "GET") continue;
    out.push(step);
  }
  return out;
}

/**
 * The trace's calls for one server (by its trace id), in our cluster's
 * names, as master makes them: master reads the server once more before it
 * records the move succeeded (docs/engine.md, "Evacuating an instance"), so a GET
 * precedes the final unlock.
 */
function traceActions(trace: Trace, name: string, cluster: Cluster): unknown[] {
  const id = (trace.setup.servers as Record<string, string>)[name] ?? "";
  const traced = actions(
    translate(
      trace.engine_nova_calls.filter((c: Json) => c.path.includes(id)),
      trace as Json,
      cluster,
    ),
  );
  const unlock = traced.findLastIndex((a) => JSON.stringify(a) === '{"unlock":null}');
  if (unlock > 0 && traced[unlock - 1] !== "GET") traced.splice(unlock, 0, "GET");
  return traced;
}

/**
 * What the engine did to one server. Before each evacuation it also reads
 * the server's instance actions, which master does not: a step run again
 * tells from them whether Nova accepted its evacuation (docs/engine.md,
 * "Exactly once"). That read is left out here.
 */
async function ourActions(cluster: Cluster, name: string): Promise<unknown[]> {
  const calls = await novaCalls({ server: cluster.servers[name] ?? "" });
  return actions(calls.filter((c) => !c.path.endsWith("/os-instance-actions")));
}

/** The host-level calls (services, server list) with service ids made comparable. */
const hostCalls = (calls: readonly { method: string; path: string; body: unknown }[]) =>
  calls
    .filter((c) => !c.path.includes("/servers/") || c.path.includes("/servers/detail"))
    .map((c) => [c.method, c.path.replace(/os-services\/[0-9a-f-]+$/, "os-services/<id>"), c.body]);

async function expectLikeTrace(trace: Trace, cluster: Cluster, uuid: string) {
  const notification = await shown(uuid, "1.1");
  expect(notification.status).toBe(trace.final_status);
  for (const task of notification.recovery_workflow_details) {
    for (const entry of task.progress_details) expect(entry.timestamp).toMatch(PY_TIMESTAMP);
  }
  expect(withoutTimestamps(notification.recovery_workflow_details)).toEqual(
    withoutTimestamps(expectedDetails(trace, cluster)),
  );
  const ours: NovaCall[] = [];
  for (const host of [cluster.failed, cluster.reserved]) ours.push(...(await novaCalls({ host })));
  ours.sort((a, b) => a.seq - b.seq);
  expect(hostCalls(ours)).toEqual(hostCalls(translate(trace.engine_nova_calls, trace as Json, cluster)));
  for (const name of Object.keys(cluster.servers)) {
    expect(await ourActions(cluster, name), name).toEqual(traceActions(trace, name, cluster));
  }
  // Every call at microversion 2.53, with the Worker's own token (D14).
  for (const call of ours) expect([call.microversion, call.auth]).toEqual(["2.53", expect.stringMatching(/^svc-/)]);
}

describe("the traced scenarios", () => {
  it("auto: all three instances move to the healthy host; finished", async () => {
    const cluster = await traceCluster("auto");
    const uuid = await recover(hostDown(cluster.failed));
    await expectLikeTrace(auto, cluster, uuid);
    expect(await novaState(cluster)).toEqual({
      servers: {
        "ha-active": { host: cluster.healthy, vm_state: "active", task_state: null, locked: false },
        "ha-stopped": { host: cluster.healthy, vm_state: "stopped", task_state: null, locked: false },
        "non-ha": { host: cluster.healthy, vm_state: "active", task_state: null, locked: false },
      },
      services: {
        [cluster.failed]: { status: "disabled", disabled_reason: "Masakari detected host failed." },
        [cluster.healthy]: { status: "enabled", disabled_reason: null },
        [cluster.reserved]: { status: "disabled", disabled_reason: "reserved host" },
      },
    });
    expect(await hostFlags(cluster)).toEqual({
      [cluster.failed]: { on_maintenance: true, reserved: false },
      [cluster.healthy]: { on_maintenance: false, reserved: false },
      [cluster.reserved]: { on_maintenance: false, reserved: true },
    });
    // No notification is new, running or error: the segment is no longer in use.
    expect((await del(`/v1/segments/${cluster.segment.uuid}`)).status).toBe(204);
  });

  it("auto, Nova answering the first-handed server last: the started messages keep master's hand-out order", async () => {
    const cluster = await traceCluster("auto");
    const expected = withoutTimestamps(expectedDetails(auto, cluster)) as Json[];
    const evacuate = expected.find((t: Json) => t.name === "EvacuateInstancesTask");
    const first = evacuate.progress_details
      .find((e: Json) => e.message.startsWith("Evacuation of instance started"))
      .message.replace(/^.*'([^']*)'$/, "$1");
    // Its two reads come back well after the other lanes have written theirs.
    await novaControl("POST", "faults", { server: first, method: "GET", delay: 300, times: 2 });
    const uuid = await recover(hostDown(cluster.failed));
    const details = withoutTimestamps((await shown(uuid, "1.1")).recovery_workflow_details);
    expect(details).toEqual(expected);
  });

  it("auto_priority: as auto", async () => {
    const cluster = await traceCluster("auto_priority");
    await expectLikeTrace(autoPriority, cluster, await recover(hostDown(cluster.failed)));
  });

  it("reserved_host: the reserved host is enabled in Nova and no longer reserved; everything moves there", async () => {
    const cluster = await traceCluster("reserved_host");
    const uuid = await recover(hostDown(cluster.failed));
    await expectLikeTrace(reservedHost, cluster, uuid);
    const state = await novaState(cluster);
    expect(Object.values(state.servers).map((s) => (s as Json).host)).toEqual([
      cluster.reserved,
      cluster.reserved,
      cluster.reserved,
    ]);
    expect(state.services[cluster.reserved]).toEqual({ status: "enabled", disabled_reason: null });
    expect(await hostFlags(cluster)).toEqual({
      [cluster.failed]: { on_maintenance: true, reserved: false },
      [cluster.healthy]: { on_maintenance: false, reserved: false },
      [cluster.reserved]: { on_maintenance: false, reserved: false },
    });
  });

  it("rh_priority: as reserved_host", async () => {
    const cluster = await traceCluster("rh_priority");
    await expectLikeTrace(rhPriority, cluster, await recover(hostDown(cluster.failed)));
  });

  it("rh_priority without a reserved host falls back to auto (flow 1)", async () => {
    const cluster = await traceCluster("rh_priority", TRACE_SERVERS, { reserved: false });
    await expectLikeTrace(rhPriorityNoReserved, cluster, await recover(hostDown(cluster.failed)));
  });

  it("reserved_host without a reserved host: error, and no Nova call at all", async () => {
    const cluster = await traceCluster("reserved_host", TRACE_SERVERS, { reserved: false });
    const uuid = await recover(hostDown(cluster.failed));
    await expectLikeTrace(reservedHostNoReserved, cluster, uuid);
    expect(await novaCalls({ host: cluster.failed })).toEqual([]);
    expect((await shown(uuid)).recovery_workflow_details).toEqual([]);
    // The failed host went on maintenance before the flow (upstream).
    expect((await hostFlags(cluster))[cluster.failed]).toEqual({ on_maintenance: true, reserved: false });
  });

  it("auto_priority with the healthy host disabled too: auto fails, the reserved-host flow recovers (flow 2)", async () => {
    const servers = TRACE_SERVERS.map((s) => ({ ...s }));
    const cluster = await traceCluster("auto_priority", servers, { healthyDisabled: true });
    const uuid = await recover(hostDown(cluster.failed));
    const notification = await shown(uuid, "1.1");
    expect(notification.status).toBe("finished");
    expect(withoutTimestamps(notification.recovery_workflow_details)).toEqual(
      withoutTimestamps(expectedDetails(autoPriorityFallback, cluster)),
    );
    for (const server of TRACE_SERVERS) {
      expect(await ourActions(cluster, server.name), server.name).toEqual(
        traceActions(autoPriorityFallback, server.name, cluster),
      );
    }
    // D18: the auto attempt's failed moves stay, but only the reserved-host
    // attempt's decide its outcome (master would count the stale failures).
    expect((await vmovesOf(uuid)).map((m: Json) => [m.instance_name, m.status, m.dest_host])).toEqual([
      ["ha-stopped", "failed", null],
      ["ha-active", "failed", null],
      ["non-ha", "failed", null],
      ["ha-stopped", "succeeded", cluster.reserved],
      ["ha-active", "succeeded", cluster.reserved],
      ["non-ha", "succeeded", cluster.reserved],
    ]);
    const state = await novaState(cluster);
    expect(state.servers).toEqual({
      "ha-active": { host: cluster.reserved, vm_state: "error", task_state: null, locked: false },
      "ha-stopped": { host: cluster.reserved, vm_state: "error", task_state: null, locked: false },
      "non-ha": { host: cluster.reserved, vm_state: "error", task_state: null, locked: false },
    });
  });

  it("auto with one evacuation failing: the other two move; error; the moves say which", async () => {
    const cluster = await traceCluster("auto");
    await novaControl("POST", "faults", { action: "evacuate", server: cluster.servers["ha-active"], result: "error" });
    const uuid = await recover(hostDown(cluster.failed));
    await expectLikeTrace(autoEvacuateFails, cluster, uuid);
    const moves = await vmovesOf(uuid);
    expect(moves.map((m: Json) => [m.instance_name, m.status, m.dest_host, m.message, m.type, m.source_host])).toEqual([
      ["ha-stopped", "succeeded", cluster.healthy, null, "evacuation", cluster.failed],
      [
        "ha-active",
        "failed",
        null,
        `Failed to evacuate instance ${cluster.servers["ha-active"]}`,
        "evacuation",
        cluster.failed,
      ],
      ["non-ha", "succeeded", cluster.healthy, null, "evacuation", cluster.failed],
    ]);
    for (const m of moves) expect([m.start_time, m.end_time]).toEqual([expect.any(String), expect.any(String)]);
    // error keeps the segment in use until the periodic task settles it.
    expect((await del(`/v1/segments/${cluster.segment.uuid}`)).status).toBe(409);
  });

  it("auto with no instance on the failed host: SkipHostRecovery, finished, both tasks REVERTED", async () => {
    const cluster = await traceCluster("auto", []);
    await expectLikeTrace(autoEmptyHost, cluster, await recover(hostDown(cluster.failed)));
  });

  it("host_status UNKNOWN: ignored, no Nova call, the host not put on maintenance", async () => {
    const cluster = await traceCluster("auto");
    const uuid = await recover(hostDown(cluster.failed, { host_status: "UNKNOWN" }));
    await expectLikeTrace(autoStatusUnknown, cluster, uuid);
    expect(await novaCalls({ host: cluster.failed })).toEqual([]);
    expect((await hostFlags(cluster))[cluster.failed]).toEqual({ on_maintenance: false, reserved: false });
  });

  it("event STARTED: finished, no Nova call", async () => {
    const cluster = await traceCluster("auto");
    const uuid = await recover(hostDown(cluster.failed, { event: "STARTED" }));
    await expectLikeTrace(autoEventStarted, cluster, uuid);
    expect(await novaCalls({ host: cluster.failed })).toEqual([]);
  });
});

describe("the rest of the host flows", () => {
  it("host_status missing: ignored", async () => {
    const cluster = await traceCluster("auto");
    const body = hostDown(cluster.failed);
    const { host_status: _, ...payload } = body.notification.payload;
    const uuid = await recover({ notification: { ...body.notification, payload } });
    expect((await shown(uuid)).status).toBe("ignored");
    expect(await novaCalls({ host: cluster.failed })).toEqual([]);
  });

  it("a reserved failed host goes on maintenance and stops being reserved", async () => {
    const cluster = await traceCluster("auto");
    await sql("UPDATE hosts SET reserved = 1 WHERE name = ?", cluster.failed);
    await recover(hostDown(cluster.failed));
    expect((await hostFlags(cluster))[cluster.failed]).toEqual({ on_maintenance: true, reserved: false });
  });

  it("a disabled segment: ignored with master's message, before anything else", async () => {
    const cluster = await traceCluster("auto");
    await sql("UPDATE failover_segments SET enabled = 0 WHERE uuid = ?", cluster.segment.uuid);
    const uuid = await recover(hostDown(cluster.failed));
    const notification = await shown(uuid);
    expect([notification.status, notification.message]).toEqual([
      "ignored",
      "Recovery aboart: the segment HA is disabled.",
    ]);
    expect(await novaCalls({ host: cluster.failed })).toEqual([]);
    expect((await hostFlags(cluster))[cluster.failed]).toEqual({ on_maintenance: false, reserved: false });
  });

  it("reserved hosts are tried newest first: one Nova cannot enable is reserved again, the next is used", async () => {
    const cluster = await traceCluster("reserved_host");
    // An older reserved host that Nova refuses to use...
    const older = cluster.reserved;
    // ...and a newer one that is gone from Nova: its attempt fails first.
    const newer = `${cluster.reserved}-new`;
    await sql(
      "INSERT INTO hosts (created_at, deleted, uuid, name, reserved, type, control_attributes, failover_segment_id, on_maintenance) VALUES ('2099-01-01 00:00:00.000000', 0, ?, ?, 1, 'COMPUTE', 'SSH', ?, 0)",
      crypto.randomUUID(),
      newer,
      cluster.segment.uuid,
    );
    const uuid = await recover(hostDown(cluster.failed));
    const notification = await shown(uuid, "1.1");
    expect(notification.status).toBe("finished");
    const evacuate = notification.recovery_workflow_details.find((t: Json) => t.name === "EvacuateInstancesTask");
    const messages = evacuate.progress_details.map((e: Json) => e.message);
    // The newer host's attempt: claimed, then no nova-compute service to enable.
    expect(messages.filter((m: string) => m.startsWith("Enabling reserved host"))).toEqual([
      `Enabling reserved host: '${newer}'`,
      `Enabling reserved host: '${older}'`,
    ]);
    expect((await hostFlags(cluster))[older]).toEqual({ on_maintenance: false, reserved: false });
    // Upstream unreserves a host only once Nova enabled it: the newer one,
    // claimed before its enable failed, is given back.
    expect(await sql("SELECT reserved FROM hosts WHERE name = ?", newer)).toEqual([{ reserved: 1 }]);
    expect(
      await sql(
        "SELECT host_name, outcome FROM recovery_reserved_claims WHERE notification_uuid = ? ORDER BY created_at, attempt",
        uuid,
      ),
    ).toEqual([
      { host_name: newer, outcome: "returned" },
      { host_name: older, outcome: "used" },
    ]);
  });
});

describe("D20: a host of any size", () => {
  it("45 instances behind a Nova page cap of 20: every page read (limit and marker), every instance moved", async () => {
    const cluster = await traceCluster("auto", []);
    await novaControl("POST", "settings", { max_limit: 20, host: cluster.failed });
    const { ids } = await novaControl("POST", "servers/bulk", { host: cluster.failed, count: 45, prefix: "vm" });
    const uuid = await recover(hostDown(cluster.failed));
    expect((await shown(uuid)).status).toBe("finished");
    // Upstream's one page; then Nova's next links, until a page without one.
    const lists = (await novaCalls({ host: cluster.failed })).filter((c) => c.path.startsWith("/v2.1/servers/detail"));
    expect(lists.map((c) => new URL(c.path, "http://nova").searchParams.get("limit"))).toEqual([null, "20", "20"]);
    // Nova lists newest first: the first page ends at the 26th server created.
    expect(new URL(lists[1]?.path ?? "", "http://nova").searchParams.get("marker")).toBe(ids[25]);
    const left = (await novaControl("GET", `state?host=${cluster.failed}`)).servers;
    expect(left).toEqual([]);
    const moves = await vmovesOf(uuid);
    expect(moves.length).toBe(45);
    expect(new Set(moves.map((m: Json) => m.status))).toEqual(new Set(["succeeded"]));
    // The evacuations outgrew half of the run's budget: links carried them on.
    const [phase] = await sql<Json>(
      "SELECT link, done_at IS NOT NULL AS done FROM recovery_phases WHERE notification_uuid = ? AND kind = 'evacuate'",
      uuid,
    );
    expect(phase).toEqual({ link: expect.any(Number), done: 1 });
    // Nothing locked, and the progress names every instance once.
    expect((await novaControl("GET", `state?host=${cluster.healthy}`)).servers.every((s: Json) => !s.locked)).toBe(
      true,
    );
    const evacuate = (await shown(uuid, "1.1")).recovery_workflow_details.find(
      (t: Json) => t.name === "EvacuateInstancesTask",
    );
    const started = evacuate.progress_details.filter((e: Json) =>
      e.message.startsWith("Evacuation of instance started"),
    );
    expect(new Set(started.map((e: Json) => e.message)).size).toBe(45);
    expect(started.length).toBe(45);
  });
});

describe("upstream's details", () => {
  it("the VM move of an evacuation Nova refuses carries Masakari's exception text (a 409: 'Conflict')", async () => {
    const cluster = await traceCluster("auto", [{ name: "vm" }]);
    await novaControl("POST", "faults", { server: cluster.servers.vm, action: "evacuate", status: 409 });
    const uuid = await recover(hostDown(cluster.failed));
    expect((await shown(uuid)).status).toBe("error");
    expect((await vmovesOf(uuid)).map((m: Json) => [m.status, m.message])).toEqual([["failed", "Conflict"]]);
  });

  it("Nova calls that fail are counted on the run, for /metrics; a clean recovery counts none", async () => {
    const refused = await traceCluster("auto", [{ name: "vm" }]);
    await novaControl("POST", "faults", { server: refused.servers.vm, action: "evacuate", status: 409 });
    const failing = await recover(hostDown(refused.failed));
    const clean = await recover(hostDown((await traceCluster("auto", [{ name: "vm" }])).failed));
    const counted = async (uuid: string) =>
      sql("SELECT run, nova_errors FROM recovery_runs WHERE notification_uuid = ?", uuid);
    expect(await counted(failing)).toEqual([{ run: 1, nova_errors: 1 }]);
    expect(await counted(clean)).toEqual([{ run: 1, nova_errors: 0 }]);
  });

  it("the VM moves of an attempt whose reserved host Nova cannot enable are ignored, not left pending", async () => {
    const cluster = await traceCluster("reserved_host", [{ name: "vm" }]);
    const newer = `${cluster.reserved}-new`;
    await sql(
      "INSERT INTO hosts (created_at, deleted, uuid, name, reserved, type, control_attributes, failover_segment_id, on_maintenance) VALUES ('2099-01-01 00:00:00.000000', 0, ?, ?, 1, 'COMPUTE', 'SSH', ?, 0)",
      crypto.randomUUID(),
      newer,
      cluster.segment.uuid,
    );
    const uuid = await recover(hostDown(cluster.failed));
    expect((await shown(uuid)).status).toBe("finished");
    expect((await vmovesOf(uuid)).map((m: Json) => [m.status, m.dest_host, m.message])).toEqual([
      ["ignored", null, "list index out of range"],
      ["succeeded", cluster.reserved, null],
    ]);
  });
});
