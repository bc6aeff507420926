import type { RecoveryMethod } from "../../db/schema";
import type { Recovery } from "../context";
import { isSkip, RecoveryError } from "../errors";
import { Flow } from "../flow";
import { disableComputeService } from "./disable";
import { evacuateInstances } from "./evacuate";
import { prepareInstances } from "./prepare";

// COMPUTE_HOST STOPPED: the host flows of Masakari master (docs/engine.md,
// "Host failure"). auto: DisableComputeService → PrepareHAEnabledInstances
// → EvacuateInstances. reserved_host: DisableComputeService, then [Prepare,
// Evacuate] once per reserved host, newest first, until one attempt
// succeeds. The *_priority methods run one and fall back to the other in a
// second flow.

export const DISABLE = "DisableComputeServiceTask";
export const PREPARE = "PrepareHAEnabledInstancesTask";
export const EVACUATE = "EvacuateInstancesTask";

/** The failed host, as every task of its flows sees it. */
export interface HostFailure {
  readonly recovery: Recovery;
  readonly hostName: string;
  readonly segmentUuid: string;
}

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

/** auto: one linear flow; any failure reverts every task that ran. */
async function autoFlow(host: HostFailure, number: number): Promise<void> {
  const flow = new Flow(host.recovery, number);
  try {
    await disableComputeService(flow, host);
    await prepareInstances(flow, host, "a1");
    await evacuateInstances(flow, host, "a1", null);
  } catch (error) {
    // Only an upstream exception reverts the flow: a step that failed for
    // good (D1 unavailable) ends this instance, and the next carries on.
    if (error instanceof RecoveryError) await flow.revert(flow.executed);
    throw error;
  }
}

/**
 * reserved_host: Disable, then one attempt of [Prepare, Evacuate] per
 * reserved host, in list order. A failed attempt (a Skip included) reverts
 * the two tasks and moves on; when the hosts run out, Disable stays
 * SUCCESS and the last attempt's failure is raised (as upstream does).
 */
async function reservedHostFlow(host: HostFailure, number: number, reservedHosts: readonly string[]): Promise<void> {
  const flow = new Flow(host.recovery, number);
  try {
    await disableComputeService(flow, host);
  } catch (error) {
    // Only an upstream exception reverts the flow: a step that failed for
    // good (D1 unavailable) ends this instance, and the next carries on.
    if (error instanceof RecoveryError) await flow.revert(flow.executed);
    throw error;
  }
  let last: unknown;
  for (const [i, reservedHost] of reservedHosts.entries()) {
    const attempt = `r${i + 1}`;
    try {
      await prepareInstances(flow, host, attempt);
      await evacuateInstances(flow, host, attempt, reservedHost);
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
