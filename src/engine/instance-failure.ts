import { NovaError } from "../openstack/nova";
import type { Recovery } from "./context";
import { RecoveryError } from "./errors";
import { confirmTask, Flow } from "./flow";
import { intended, once } from "./intents";
import { haEnabled, taskState, vmState } from "./servers";

// VM (docs/engine.md, "Instance failure"): a failed instance is stopped,
// started and confirmed active, when it is HA-enabled or every instance is
// to be processed. os-stop and os-start are each sent once: a step run
// again finds its intent and Nova's state (stopping or stopped; starting
// or active) before it would send them again.

const STOP = "StopInstanceTask";
const START = "StartInstanceTask";
const CONFIRM = "ConfirmInstanceActiveTask";

/** The (event, vir_domain_event) pairs upstream recovers; anything else is ignored. */
const RECOVERED_EVENTS = new Set([
  "LIFECYCLE/STOPPED_FAILED",
  "QEMU_GUEST_AGENT_ERROR/STOPPED_FAILED",
  "IO_ERROR/IO_ERROR_REPORT",
]);

export const isRecoveredEvent = (event: unknown, virDomainEvent: unknown) =>
  RECOVERED_EVENTS.has(`${String(event)}/${String(virDomainEvent)}`);

export async function recoverInstance(recovery: Recovery, instanceUuid: string): Promise<void> {
  const { nova, options } = recovery;
  const id = instanceUuid;
  const flow = new Flow(recovery, 1);
  try {
    await stopInstance(flow, id);
    await confirmTask(
      flow,
      STOP,
      { done: `Stopped instance: '${id}'`, failed: `Failed to stop instance ${id}`, failure: FAILURE },
      { interval: options.verifyInterval, timeout: options.waitPeriodAfterPowerOff },
      async () => (vmState(await nova.server(id)) === "stopped" ? true : undefined),
    );
    await startInstance(flow, id);
    await confirmTask(
      flow,
      CONFIRM,
      {
        start: `Confirming instance '${id}' vm_state is ACTIVE`,
        done: `Confirmed instance '${id}' vm_state is ACTIVE`,
        failed: `Failed to start instance ${id}`,
        failure: FAILURE,
      },
      { interval: options.verifyInterval, timeout: options.waitPeriodAfterPowerOn },
      async () => (vmState(await nova.server(id)) === "active" ? true : undefined),
    );
  } catch (error) {
    // Only an upstream exception reverts the flow: a step that failed for
    // good (D1 unavailable) ends this instance, and the next carries on.
    if (error instanceof RecoveryError) await flow.revert(flow.executed);
    throw error;
  }
}

const FAILURE = "InstanceRecoveryFailureException";

/** StopInstanceTask: skipped unless HA-enabled, ignored when paused or rescued, else stopped (once). */
async function stopInstance(flow: Flow, id: string): Promise<void> {
  const { recovery } = flow;
  const { nova } = recovery;
  const settings = recovery.options.instanceFailure;
  const intent = flow.stepName(STOP, "stop");
  await flow.task(STOP, "stop", async (progress) => {
    const server = await nova.server(id);
    if (!settings.processAllInstances && !haEnabled(server, settings.haEnabledInstanceMetadataKey)) {
      progress.update(`Skipping recovery for instance: ${id} as it is not Ha_Enabled`, 1.0);
      throw new RecoveryError("SkipInstanceRecoveryException", "Skipping instance recovery");
    }
    const vm = vmState(server);
    if (vm === "paused" || vm === "rescued") {
      progress.update(`Recovery of instance '${id}' is ignored as it is in '${vm}' state.`, 1.0);
      throw new RecoveryError("IgnoreInstanceRecoveryException", "Ignoring instance recovery");
    }
    const again = await intended(recovery, intent);
    if (vm === "stopped" && !again) return;
    if (vm === "resized") await nova.action(id, { "os-resetState": { state: "active" } });
    progress.update(`Stopping instance: ${id}`, 0.0);
    try {
      await once(
        recovery,
        intent,
        async () => vm === "stopped" || taskState(server) === "powering-off",
        () => nova.action(id, { "os-stop": null }),
      );
    } catch (error) {
      if (!(error instanceof NovaError) || error.status !== 409) throw error;
      progress.update(`Conflict when stopping instance: ${id}`, 0.0);
      if (vmState(await nova.server(id)) !== "stopped") throw error;
    }
  });
}

/** StartInstanceTask: a stopped server started (once). */
async function startInstance(flow: Flow, id: string): Promise<void> {
  const { recovery } = flow;
  const { nova } = recovery;
  const intent = flow.stepName(START, "start");
  await flow.task(
    START,
    "start",
    async (progress) => {
      progress.update(`Starting instance: '${id}'`, 0.0);
      const server = await nova.server(id);
      const vm = vmState(server);
      // Run again after its os-start, this step finds the server starting
      // or started by it: that is the start it asked for.
      const started = vm === "active" || taskState(server) === "powering-on";
      if (vm !== "stopped" && !(started && (await intended(recovery, intent)))) {
        const message = `Invalid state for Instance ${id}. Expected state: 'STOPPED', Actual state: '${vm}'`;
        progress.update(message, 1.0);
        throw new RecoveryError(FAILURE, message);
      }
      await once(
        recovery,
        intent,
        async () => started,
        () => nova.action(id, { "os-start": null }),
      );
      progress.update(`Instance started: '${id}'`, 1.0);
    },
    { last: true },
  );
}
