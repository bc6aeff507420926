import type { Recovery } from "./context";
import { RecoveryError } from "./errors";
import { confirmTask, Flow } from "./flow";
import { intended, once } from "./intents";

// PROCESS STOPPED (docs/engine.md, "Process failure"): only nova-compute is
// recovered, by disabling its service and confirming it is disabled.
// Instances are not touched.

const DISABLE = "DisableComputeNodeTask";
const CONFIRM = "ConfirmComputeNodeDisabledTask";

export async function recoverProcess(recovery: Recovery, hostName: string, processName: string): Promise<void> {
  if (processName !== "nova-compute") {
    recovery.log.warn(`Skipping recovery for process: ${processName}.`);
    throw new RecoveryError("SkipProcessRecoveryException", "Skipping process recovery");
  }
  const { nova, options } = recovery;
  const isDisabled = async () => (await nova.services(hostName, processName))[0]?.status === "disabled";
  const flow = new Flow(recovery, 1);
  const intent = flow.stepName(DISABLE, "disable");
  try {
    await flow.task(
      DISABLE,
      "disable",
      async (progress) => {
        progress.update(`Disabling compute service on host: '${hostName}'`, 0.0);
        // Run again after its disable, this step must still say it disabled
        // the service, not that it found it disabled: the intent tells.
        if ((await isDisabled()) && !(await intended(recovery, intent))) {
          progress.update(`Skipping recovery for process ${processName} as it is already disabled`, 1.0);
          return;
        }
        // novaclient looks the service up again to disable it.
        const [service] = await nova.services(hostName, processName);
        if (!service) throw new RecoveryError("MasakariException", "list index out of range");
        await once(
          recovery,
          intent,
          async () => service.status === "disabled",
          () =>
            nova.updateService(service.id, {
              status: "disabled",
              disabled_reason: options.processFailure.serviceDisableReason,
            }),
        );
        progress.update(`Disabled compute service on host: '${hostName}'`, 1.0);
      },
      { last: true },
    );
    await confirmTask(
      flow,
      CONFIRM,
      {
        start: `Confirming compute service is disabled on host: '${hostName}'`,
        done: `Confirmed compute service is disabled on host: '${hostName}'`,
        failed: `Failed to disable service ${processName}`,
        failure: "ProcessRecoveryFailureException",
      },
      { interval: options.verifyInterval, timeout: options.waitPeriodAfterServiceUpdate },
      async () => ((await isDisabled()) ? true : undefined),
    );
  } catch (error) {
    // Only an upstream exception reverts the flow: a step that failed for
    // good (D1 unavailable) ends this instance, and the next carries on.
    if (error instanceof RecoveryError) await flow.revert(flow.executed);
    throw error;
  }
}
