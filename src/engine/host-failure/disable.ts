import { RecoveryError } from "../errors";
import type { Flow } from "../flow";
import { once } from "../intents";
import { DISABLE, type HostFailure } from "./flows";

/**
 * DisableComputeServiceTask: disable nova-compute (even when it already is,
 * as upstream does), then wait for the update to spread. The disable is
 * sent once: a step run again after it finds its intent, and Nova showing
 * the service disabled with our reason.
 */
export async function disableComputeService(flow: Flow, { recovery, hostName }: HostFailure): Promise<void> {
  const { nova, options } = recovery;
  const reason = options.hostFailure.serviceDisableReason;
  const part = "disable";
  await flow.task(DISABLE, part, async (progress) => {
    progress.update(`Disabling compute service on host: '${hostName}'`, 0.0);
    const [service] = await nova.services(hostName, "nova-compute");
    // Upstream takes [0] of the list: a missing service is an IndexError.
    if (!service) throw new RecoveryError("MasakariException", "list index out of range");
    await once(
      recovery,
      flow.stepName(DISABLE, part),
      async () => service.status === "disabled" && service.disabled_reason === reason,
      () => nova.updateService(service.id, { status: "disabled", disabled_reason: reason }),
    );
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
