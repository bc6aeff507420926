import { nowSeconds } from "../../datetime";
import { NovaError } from "../../openstack/nova";
import { asFailure, RecoveryError } from "../errors";
import type { Flow } from "../flow";
import { once } from "../intents";
import { claimReservedHost, closeReservedClaim, returnReservedHost } from "../store/hosts";
import { attemptResults, evacuationOrder, ignoreLeftovers } from "../store/moves";
import { EVACUATE, type HostFailure } from "./flows";
import { phaseScope, runPhase } from "./phase";

/**
 * EvacuateInstancesTask: enables the reserved host when there is one, then
 * runs the per-instance procedure for every move of this attempt, at most
 * host_failure_recovery_threads at a time (./instance.ts). D18: only this
 * attempt's moves decide its outcome.
 */
export async function evacuateInstances(
  flow: Flow,
  host: HostFailure,
  attempt: string,
  reservedHost: string | null,
): Promise<void> {
  const { recovery, hostName } = host;
  const key = { notificationUuid: recovery.notificationUuid, run: recovery.run, flow: flow.flow, attempt };
  try {
    await flow.task(EVACUATE, `${attempt} start`, async (progress) => {
      const ids = await evacuationOrder(recovery.db, key);
      progress.update(
        `Start evacuation of instances from failed host '${hostName}', instance uuids are: '${ids}'`,
        0.0,
      );
      if (reservedHost !== null)
        await enableReservedHost(flow, host, attempt, reservedHost, progress.update.bind(progress));
    });
  } catch (error) {
    if (error instanceof RecoveryError) {
      // The attempt never evacuated anything: its moves will not move.
      await flow.step(`${EVACUATE} ${attempt} leftovers`, async () => {
        await ignoreLeftovers(recovery.db, key, error.message, nowSeconds());
        return null;
      });
    }
    throw error;
  }

  await runPhase(recovery, { scope: phaseScope(key, "evacuate"), kind: "evacuate", key, hostName, reservedHost }, null);

  await flow.task(
    EVACUATE,
    `${attempt} end`,
    async (progress) => {
      const { succeeded, failed } = await attemptResults(recovery.db, key);
      if (succeeded) progress.update(`Successfully evacuate instances '${succeeded}' from host '${hostName}'`, 0.7);
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

/**
 * The reserved host taken for this attempt, added to the failed host's
 * aggregates when so configured, and its nova-compute enabled. D16: the
 * host is claimed in D1 first, in one guarded batch; a host another
 * recovery took is upstream's busy lock. Every Nova call is sent once
 * (../intents.ts); a host Nova could not enable is reserved again, as
 * upstream never unreserves it.
 */
async function enableReservedHost(
  flow: Flow,
  { recovery, hostName, segmentUuid }: HostFailure,
  attempt: string,
  reservedHost: string,
  update: (message: string, progress: number) => void,
): Promise<void> {
  const { nova, options, db } = recovery;
  const key = { notificationUuid: recovery.notificationUuid, run: recovery.run, flow: flow.flow, attempt };
  const claim = await claimReservedHost(db, key, segmentUuid, reservedHost);
  if (!claim.taken) throw new RecoveryError("LockAlreadyAcquired", `Lock is already acquired on ${reservedHost}.`);
  update(`Enabling reserved host: '${reservedHost}'`, 0.1);
  // Run again after Nova could not enable the host: the same failure.
  if (claim.returned) throw RecoveryError.from(claim.returned);
  const step = flow.stepName(EVACUATE, `${attempt} start`);
  try {
    if (options.hostFailure.addReservedHostToAggregate) {
      for (const aggregate of await nova.aggregates()) {
        if (!aggregate.hosts.includes(hostName)) continue;
        update(`Add host ${reservedHost} to aggregate ${aggregate.name}`, 0.2);
        try {
          await once(
            recovery,
            `${step} aggregate ${aggregate.id}`,
            async () => aggregate.hosts.includes(reservedHost),
            () => nova.addHostToAggregate(aggregate.id, reservedHost),
          );
          update(`Added host ${reservedHost} to aggregate ${aggregate.name}`, 0.3);
        } catch (error) {
          if (!(error instanceof NovaError) || error.status !== 409) throw error;
          update(`Host '${reservedHost}' already has been added to aggregate '${aggregate.name}'.`, 1.0);
        }
      }
    }
    const [service] = await nova.services(reservedHost, "nova-compute");
    if (!service) throw new RecoveryError("MasakariException", "list index out of range");
    await once(
      recovery,
      `${step} enable`,
      async () => service.status === "enabled",
      () => nova.updateService(service.id, { status: "enabled" }),
    );
    await closeReservedClaim(db, key);
  } catch (error) {
    if (error instanceof NovaError || error instanceof RecoveryError) {
      const failure =
        error instanceof NovaError ? { name: "MasakariException" as const, message: error.message } : asFailure(error);
      await returnReservedHost(db, key, segmentUuid, reservedHost, failure);
    }
    throw error;
  }
}
