import { nowSeconds } from "../datetime";
import type { RecoveryMethod } from "../db/schema";
import { NovaError, type NovaServer } from "../openstack/nova";
import { isSkip, RecoveryError } from "./errors";
import { Flow, poll, type Recovery } from "./recovery";
import { haEnabled, hypervisor, powerState, taskState, vmState } from "./servers";
import {
  claimReservedHost,
  createVmoves,
  lockedByRun,
  type NewVmove,
  recordLock,
  updateVmove,
  vmoveStatus,
} from "./store";
import { vmoveUuid } from "./vmove-ids";

// COMPUTE_HOST STOPPED: the host flows of masakari-engine.md §3.1 (master).
// auto: DisableComputeService → PrepareHAEnabledInstances → EvacuateInstances.
// reserved_host: DisableComputeService, then [Prepare, Evacuate] once per
// reserved host, newest first, until one attempt succeeds. The *_priority
// methods run one and fall back to the other in a second flow.

const DISABLE = "DisableComputeServiceTask";
const PREPARE = "PrepareHAEnabledInstancesTask";
const EVACUATE = "EvacuateInstancesTask";

/** A Nova shutdown power state. */
const SHUTDOWN = 4;

/**
 * Runs the host flows for `recoveryMethod` with upstream's fallbacks.
 * Resolves when recovery succeeded or was skipped ("finished"); throws the
 * RecoveryError that decides the status otherwise.
 */
export async function recoverHost(
  recovery: Recovery,
  hostName: string,
  segmentUuid: string,
  recoveryMethod: RecoveryMethod,
  reservedHosts: readonly string[],
): Promise<void> {
  const host = { recovery, hostName, segmentUuid };
  const reservedHostsUnavailable = () =>
    new RecoveryError("ReservedHostsUnavailable", "No reserved_hosts available for evacuation.");
  switch (recoveryMethod) {
    case "auto":
      return autoFlow(host, 1);
    case "reserved_host":
      if (reservedHosts.length === 0) throw reservedHostsUnavailable();
      return reservedHostFlow(host, 1, reservedHosts);
    case "auto_priority":
      try {
        return await autoFlow(host, 1);
      } catch (error) {
        if (!(error instanceof RecoveryError) || isSkip(error)) throw error;
        recovery.log.warn(`auto recovery failed (${error.message}); trying the reserved hosts`);
        if (reservedHosts.length === 0) throw reservedHostsUnavailable();
        return reservedHostFlow(host, 2, reservedHosts);
      }
    case "rh_priority":
      // An empty reserved list raises before any flow runs: auto is then flow 1.
      if (reservedHosts.length === 0) {
        recovery.log.warn(`reserved host recovery failed (${reservedHostsUnavailable().message}); trying auto`);
        return autoFlow(host, 1);
      }
      try {
        return await reservedHostFlow(host, 1, reservedHosts);
      } catch (error) {
        if (!(error instanceof RecoveryError) || isSkip(error)) throw error;
        recovery.log.warn(`reserved host recovery failed (${error.message}); trying auto`);
        return autoFlow(host, 2);
      }
  }
}

interface HostFailure {
  readonly recovery: Recovery;
  readonly hostName: string;
  readonly segmentUuid: string;
}

/** auto: one linear flow; any failure reverts every task that ran. */
async function autoFlow(host: HostFailure, number: number): Promise<void> {
  const flow = new Flow(host.recovery, number);
  try {
    await disableComputeService(flow, host);
    const moves = await prepareInstances(flow, host, "a1");
    await evacuateInstances(flow, host, moves, null, "a1");
  } catch (error) {
    await flow.revert(flow.executed);
    throw error;
  }
}

/**
 * reserved_host: Disable, then one attempt of [Prepare, Evacuate] per
 * reserved host, in list order. A failed attempt (a Skip included) reverts
 * the two tasks and moves on; when the hosts run out, Disable stays
 * SUCCESS and the last attempt's failure is raised (verified upstream).
 */
async function reservedHostFlow(host: HostFailure, number: number, reservedHosts: readonly string[]): Promise<void> {
  const flow = new Flow(host.recovery, number);
  try {
    await disableComputeService(flow, host);
  } catch (error) {
    await flow.revert(flow.executed);
    throw error;
  }
  let last: unknown;
  for (const [i, reservedHost] of reservedHosts.entries()) {
    const attempt = `r${i + 1}`;
    try {
      const moves = await prepareInstances(flow, host, attempt);
      await evacuateInstances(flow, host, moves, reservedHost, attempt);
      return;
    } catch (error) {
      if (!(error instanceof RecoveryError)) throw error;
      last = error;
      host.recovery.log.warn(`evacuation to reserved host ${reservedHost} failed: ${error.message}`);
      await flow.revert(
        flow.executed.filter((t) => t !== DISABLE),
        `revert ${attempt}`,
      );
    }
  }
  throw last;
}

/** DisableComputeServiceTask: disable nova-compute, then wait for the update to spread. */
async function disableComputeService(flow: Flow, { recovery, hostName }: HostFailure): Promise<void> {
  const { nova, options } = recovery;
  await flow.task(DISABLE, "disable", async (progress) => {
    progress.update(`Disabling compute service on host: '${hostName}'`, 0.0);
    const [service] = await nova.services(hostName, "nova-compute");
    // Upstream takes [0] of the list: a missing service is an IndexError.
    if (!service) throw new RecoveryError("MasakariException", "list index out of range");
    await nova.updateService(service.id, {
      status: "disabled",
      disabled_reason: options.hostFailure.serviceDisableReason,
    });
  });
  // Unconditional, no polling (upstream).
  await flow.sleep(`${DISABLE} wait`, options.waitPeriodAfterServiceUpdate);
  await flow.task(
    DISABLE,
    "disabled",
    async (progress) => progress.update(`Disabled compute service on host: '${hostName}'`, 1.0),
    { last: true },
  );
}

/**
 * PrepareHAEnabledInstancesTask: the instances to evacuate, HA-enabled
 * first, as `pending` VM moves of this attempt (master). Returns them in
 * master's evacuation order: the moves read back newest first.
 */
async function prepareInstances(flow: Flow, { recovery, hostName }: HostFailure, attempt: string): Promise<NewVmove[]> {
  const { nova, options, db } = recovery;
  const settings = options.hostFailure;
  return flow.task(
    PREPARE,
    attempt,
    async (progress) => {
      progress.update("Preparing instances for evacuation", 0.0);
      const servers = await nova.serversOnHost(hostName);
      progress.update(`Total instances running on failed host '${hostName}' is ${servers.length}`, 0.3);
      const enabled: NovaServer[] = [];
      const others: NovaServer[] = [];
      for (const server of servers) {
        const ha = haEnabled(server, settings.haEnabledInstanceMetadataKey);
        if (settings.ignoreInstancesInErrorState && vmState(server) === "error") {
          if (ha) {
            progress.update(`Ignoring recovery of HA_Enabled instance '${server.id}' as it is in 'error' state.`, 0.4);
          }
          continue;
        }
        (ha ? enabled : others).push(server);
      }
      progress.update(`Total HA Enabled instances count: '${enabled.length}'`, 0.6);
      let selected = enabled;
      if (settings.evacuateAllInstances) {
        progress.update(`Total Non-HA Enabled instances count: '${others.length}'`, 0.7);
        selected = [...enabled, ...others];
        progress.update(
          `All instances (HA Enabled/Non-HA Enabled) should be considered for evacuation. Total count is: '${selected.length}'`,
          0.8,
        );
      }
      if (selected.length === 0) {
        progress.update(`Skipped host '${hostName}' recovery as no instances needs to be evacuated`, 1.0);
        throw new RecoveryError("SkipHostRecoveryException", "Skipping host recovery");
      }
      const moves: NewVmove[] = [];
      for (const server of selected) {
        const uuid = await vmoveUuid(recovery.notificationUuid, recovery.run, flow.flow, attempt, server.id);
        moves.push({ uuid, instanceUuid: server.id, instanceName: server.name });
      }
      await createVmoves(db, recovery.notificationUuid, hostName, moves);
      progress.update(`Instances to be evacuated are: '${selected.map((s) => s.id).join(",")}'`, 1.0);
      // Master reads the pending moves back created_at DESC, id DESC: the
      // moves of one step share created_at, so in reverse.
      return [...moves].reverse();
    },
    { last: true },
  );
}

/** What became of one instance: its move succeeded or failed, or it never started (master: left pending). */
type InstanceResult = "succeeded" | "failed" | "not-started";

/**
 * EvacuateInstancesTask: enables the reserved host when there is one, then
 * runs the per-instance procedure for every move of this attempt, at most
 * host_failure_recovery_threads at a time. D18: only this attempt's moves
 * decide its outcome.
 */
async function evacuateInstances(
  flow: Flow,
  host: HostFailure,
  moves: readonly NewVmove[],
  reservedHost: string | null,
  attempt: string,
): Promise<void> {
  const { recovery, hostName } = host;
  const { nova, options, db } = recovery;
  const ids = moves.map((m) => m.instanceUuid).join(",");
  await flow.task(EVACUATE, `${attempt} start`, async (progress) => {
    progress.update(`Start evacuation of instances from failed host '${hostName}', instance uuids are: '${ids}'`, 0.0);
    if (reservedHost === null) return;
    // D16: the reservation is claimed in D1 first, in one guarded UPDATE;
    // a host another recovery took is upstream's busy lock.
    if (!(await claimReservedHost(db, host.segmentUuid, reservedHost))) {
      throw new RecoveryError("LockAlreadyAcquired", `Lock is already acquired on ${reservedHost}.`);
    }
    progress.update(`Enabling reserved host: '${reservedHost}'`, 0.1);
    if (options.hostFailure.addReservedHostToAggregate) {
      for (const aggregate of await nova.aggregates()) {
        if (!aggregate.hosts.includes(hostName)) continue;
        progress.update(`Add host ${reservedHost} to aggregate ${aggregate.name}`, 0.2);
        try {
          await nova.addHostToAggregate(aggregate.id, reservedHost);
          progress.update(`Added host ${reservedHost} to aggregate ${aggregate.name}`, 0.3);
        } catch (error) {
          if (!(error instanceof NovaError) || error.status !== 409) throw error;
          progress.update(`Host '${reservedHost}' already has been added to aggregate '${aggregate.name}'.`, 1.0);
        }
      }
    }
    const [service] = await nova.services(reservedHost, "nova-compute");
    if (!service) throw new RecoveryError("MasakariException", "list index out of range");
    await nova.updateService(service.id, { status: "enabled" });
  });

  const results = new Map<string, InstanceResult>();
  const queue = [...moves];
  const lane = async () => {
    for (let move = queue.shift(); move; move = queue.shift()) {
      results.set(move.instanceUuid, await evacuateInstance(flow, host, move, reservedHost, attempt));
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.hostFailure.recoveryThreads, moves.length) }, lane));

  const sorted = (wanted: InstanceResult) =>
    moves
      .map((m) => m.instanceUuid)
      .filter((id) => results.get(id) === wanted)
      .sort()
      .join(",");
  const succeeded = sorted("succeeded");
  const failed = sorted("failed");
  await flow.task(
    EVACUATE,
    `${attempt} end`,
    async (progress) => {
      if (succeeded) {
        progress.update(`Successfully evacuate instances '${succeeded}' from host '${hostName}'`, 0.7);
      }
      if (failed) {
        const message = `Failed to evacuate instances '${failed}' from host '${hostName}'`;
        progress.update(message, 0.7);
        throw new RecoveryError("HostRecoveryFailureException", message);
      }
      progress.update("Evacuation process completed!", 1.0);
    },
    { last: true },
  );
}

/** What steps 1-2 learned: whether Masakari locked the server, and its states before anything was done. */
interface Prepared {
  readonly locked: boolean;
  readonly vm: string | null;
  readonly task: string | null;
  readonly power: number | null;
}

interface Started {
  /** Masakari locked the server (and unlocks it at the end). */
  readonly locked: boolean;
  /** vm_state before anything was done. */
  readonly vm: string | null;
  /** vm_state of the last server read before the evacuation (error after a reset). */
  readonly old: string | null;
  readonly stop: boolean;
  /** The evacuation's end when known at once. */
  readonly outcome: "done" | "failed" | "polling";
  /** When the evacuation was first confirmed (its first probe), ms. */
  readonly at?: number;
  readonly failure?: string;
}

/**
 * The per-instance procedure (`_evacuate_and_confirm`, master): lock,
 * reset a state Nova cannot evacuate, evacuate, confirm, stop again what
 * was not running, record the move, unlock.
 */
async function evacuateInstance(
  flow: Flow,
  host: HostFailure,
  move: NewVmove,
  reservedHost: string | null,
  attempt: string,
): Promise<InstanceResult> {
  const { recovery, hostName } = host;
  const { nova, options, db } = recovery;
  const id = move.instanceUuid;
  const part = `${attempt} ${id}`;
  const failedVmove = (message: string) =>
    updateVmove(db, move.uuid, { status: "failed", message, end_time: nowSeconds() });

  // Master writes this when it hands the instance to a worker.
  // Steps 1-2 (master): read, lock unless its owner did. Outside upstream's
  // error handling: a failure leaves the move pending and is not counted.
  // A lock is recorded before it is made: this step run again finds the
  // server locked, and must still know it was this run's lock.
  const prepared = await flow.task(EVACUATE, part, async (progress): Promise<Prepared | null> => {
    progress.update(`Evacuation of instance started: '${id}'`, 0.5);
    try {
      const server = await nova.server(id);
      const current = await nova.server(id);
      let locked = false;
      if (!current.locked) {
        await recordLock(db, recovery.notificationUuid, recovery.run, id);
        await nova.action(id, { lock: null });
        locked = true;
      } else {
        locked = await lockedByRun(db, recovery.notificationUuid, recovery.run, id);
      }
      return { locked, vm: vmState(server), task: taskState(server), power: powerState(server) };
    } catch (error) {
      if (!(error instanceof NovaError)) throw error;
      recovery.log.warn(`instance ${id} could not be prepared for evacuation:`, error);
      return null;
    }
  });
  if (prepared === null) return "not-started";

  // Step 3-6: reset a state Nova cannot evacuate, evacuate, look once. The
  // move is `ongoing` before the call: this step run again after it finds
  // the move ongoing, and evacuates again only if Nova shows nothing done.
  const started = await flow.check(`${EVACUATE} ${part} evacuate`, async (): Promise<Started> => {
    const { locked, vm, task } = prepared;
    let stop = true;
    let reset = false;
    if (vm !== "active" && vm !== "error" && vm !== "stopped") {
      reset = true;
      if (vm === "resized" && prepared.power !== SHUTDOWN) stop = false;
    } else if (vm === "stopped" && task === null) {
      stop = false;
    } else if (task !== null) {
      reset = true;
      if (vm === "active") stop = false;
    }
    // The vm_state the confirmation compares with: error after a reset.
    const old = reset ? "error" : vm;
    try {
      let underway = false;
      if ((await vmoveStatus(db, move.uuid)) === "ongoing") {
        const server = await nova.server(id);
        underway = hypervisor(server) !== hostName || taskState(server) !== null;
      }
      if (!underway) {
        if (reset) {
          await nova.action(id, { "os-resetState": { state: "error" } });
          await nova.server(id);
        }
        await updateVmove(db, move.uuid, { status: "ongoing", start_time: nowSeconds() });
        await nova.action(id, { evacuate: reservedHost === null ? {} : { host: reservedHost } });
      }
      const outcome = confirmation(await nova.server(id), hostName, old);
      return { locked, vm, old, stop, outcome: outcome ?? "polling", at: Date.now() };
    } catch (error) {
      if (!(error instanceof NovaError)) throw error;
      return { locked, vm, old, stop: false, outcome: "failed", failure: errorText(error) };
    }
  });

  let result: InstanceResult = "failed";
  let failure = started.failure;
  try {
    let outcome = started.outcome;
    if (outcome === "polling") {
      const polled = await poll(
        flow,
        `${EVACUATE} ${part} confirm`,
        { interval: options.verifyInterval, timeout: options.waitPeriodAfterEvacuation, since: started.at },
        async () => confirmation(await nova.server(id), hostName, started.old),
      );
      outcome = polled === "timeout" ? "failed" : polled;
      if (polled === "timeout") failure = "Failed reason: timeout.";
    }
    if (outcome === "failed") {
      failure ??= `Failed to evacuate instance ${id}`;
    } else if (started.vm !== "active" && started.stop) {
      await flow.check(`${EVACUATE} ${part} stop`, async () => {
        try {
          await nova.action(id, { "os-stop": null });
        } catch (error) {
          // This step run again after its stop: Nova refuses to stop a
          // stopped server, which is what was asked.
          if (!(error instanceof NovaError) || error.status !== 409) throw error;
          if (vmState(await nova.server(id)) !== "stopped") throw error;
        }
      });
      const stopped = await poll(
        flow,
        `${EVACUATE} ${part} stopped`,
        { interval: options.verifyInterval, timeout: options.waitPeriodAfterPowerOff },
        async () => (vmState(await nova.server(id)) === "stopped" ? true : undefined),
      );
      if (stopped === "timeout") failure = "Failed reason: timeout.";
      else result = "succeeded";
    } else {
      result = "succeeded";
    }
  } catch (error) {
    if (!(error instanceof RecoveryError)) throw error;
    failure = error.message;
  }

  return flow.check(`${EVACUATE} ${part} finish`, async (): Promise<InstanceResult> => {
    try {
      if (result === "succeeded") {
        // An instance in error before the failure is left in error (upstream).
        if (started.vm === "error" && started.stop) await nova.action(id, { "os-resetState": { state: "error" } });
        const server = await nova.server(id);
        await updateVmove(db, move.uuid, {
          status: "succeeded",
          dest_host: hypervisor(server),
          end_time: nowSeconds(),
        });
      } else {
        await failedVmove(failure ?? `Failed to evacuate instance ${id}`);
      }
    } catch (error) {
      if (!(error instanceof NovaError)) throw error;
      result = "failed";
      await failedVmove(error.message);
    } finally {
      if (started.locked) await nova.action(id, { unlock: null }).catch(() => {});
    }
    return result;
  });
}

/**
 * Whether an evacuation is over (`_wait_for_evacuation_confirmation`):
 * failed when the server went to error from a state that was not error;
 * done once it is on another hypervisor, active after error or in its
 * state before; undefined while neither.
 */
function confirmation(server: NovaServer, failedHost: string, old: string | null): "done" | "failed" | undefined {
  const current = vmState(server);
  if (current === "error" && old !== "error") return "failed";
  if (hypervisor(server) !== failedHost && ((old === "error" && current === "active") || old === current))
    return "done";
  return undefined;
}

/** str(e) of a failure, as master records it in the move's message. */
function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
