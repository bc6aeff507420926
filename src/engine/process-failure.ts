import { RecoveryError } from "./errors";
import { Flow, poll, type Recovery } from "./recovery";

// PROCESS STOPPED (masakari-engine.md §3.2): only nova-compute is recovered,
// by disabling its service and confirming it is disabled. Instances are not
// touched.

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
  try {
    await flow.task(
      DISABLE,
      "disable",
      async (progress) => {
        progress.update(`Disabling compute service on host: '${hostName}'`, 0.0);
        if (await isDisabled()) {
          progress.update(`Skipping recovery for process ${processName} as it is already disabled`, 1.0);
          return;
        }
        // novaclient looks the service up again to disable it.
        const [service] = await nova.services(hostName, processName);
        if (!service) throw new RecoveryError("MasakariException", "list index out of range");
        await nova.updateService(service.id, {
          status: "disabled",
          disabled_reason: options.processFailure.serviceDisableReason,
        });
        progress.update(`Disabled compute service on host: '${hostName}'`, 1.0);
      },
      { last: true },
    );
    await flow.task(CONFIRM, "start", async (progress) =>
      progress.update(`Confirming compute service is disabled on host: '${hostName}'`, 0.0),
    );
    const confirmed = await poll(
      flow,
      `${CONFIRM} poll`,
      { interval: options.verifyInterval, timeout: options.waitPeriodAfterServiceUpdate },
      async () => ((await isDisabled()) ? true : undefined),
    );
    await flow.task(
      CONFIRM,
      "end",
      async (progress) => {
        if (confirmed === "timeout") {
          const message = `Failed to disable service ${processName}`;
          progress.update(message, 1.0);
          throw new RecoveryError("ProcessRecoveryFailureException", message);
        }
        progress.update(`Confirmed compute service is disabled on host: '${hostName}'`, 1.0);
      },
      { last: true },
    );
  } catch (error) {
    await flow.revert(flow.executed);
    throw error;
  }
}
