import { nowSeconds } from "../../datetime";
import { RecoveryError } from "../errors";
import type { Flow } from "../flow";
import { readSelection, writeSelection } from "../store/moves";
import { type HostFailure, PREPARE } from "./flows";
import type { ListingCursor } from "./listing";
import { phaseScope, runPhase } from "./phase";

/**
 * PrepareHAEnabledInstancesTask: lists the failed host's servers (every
 * page, D20), then selects those to evacuate, HA-enabled first, as
 * `pending` VM moves of this attempt (master).
 */
export async function prepareInstances(
  flow: Flow,
  { recovery, hostName }: HostFailure,
  attempt: string,
): Promise<void> {
  const { db, options } = recovery;
  const settings = options.hostFailure;
  const key = { notificationUuid: recovery.notificationUuid, run: recovery.run, flow: flow.flow, attempt };
  await flow.task(PREPARE, `${attempt} start`, async (progress) => {
    progress.update("Preparing instances for evacuation", 0.0);
  });
  const listing = (await runPhase(
    recovery,
    { scope: phaseScope(key, "list"), kind: "list", key, hostName, reservedHost: null },
    { page: null, seq: 0 } satisfies ListingCursor,
  )) as ListingCursor;
  const rules = { ignoreErrors: settings.ignoreInstancesInErrorState, evacuateAll: settings.evacuateAllInstances };
  await flow.task(
    PREPARE,
    attempt,
    async (progress) => {
      if (listing.failure !== undefined) throw new RecoveryError("MasakariException", listing.failure);
      const selection = await readSelection(db, key, rules);
      progress.update(`Total instances running on failed host '${hostName}' is ${selection.total}`, 0.3);
      // D24: ours, worded after upstream's error-state message.
      const exclude = settings.excludeMetadata;
      for (const id of selection.excluded) {
        progress.update(
          `Skipping recovery of instance '${id}' as its metadata has ${exclude?.key}=${exclude?.value}.`,
          0.4,
        );
      }
      for (const id of selection.ignoredHa) {
        progress.update(`Ignoring recovery of HA_Enabled instance '${id}' as it is in 'error' state.`, 0.4);
      }
      progress.update(`Total HA Enabled instances count: '${selection.ha}'`, 0.6);
      if (rules.evacuateAll) {
        progress.update(`Total Non-HA Enabled instances count: '${selection.others}'`, 0.7);
        progress.update(
          `All instances (HA Enabled/Non-HA Enabled) should be considered for evacuation. Total count is: '${selection.count}'`,
          0.8,
        );
      }
      if (selection.count === 0) {
        progress.update(`Skipped host '${hostName}' recovery as no instances needs to be evacuated`, 1.0);
        throw new RecoveryError("SkipHostRecoveryException", "Skipping host recovery");
      }
      await writeSelection(db, key, rules, hostName, nowSeconds());
      progress.update(`Instances to be evacuated are: '${selection.ids}'`, 1.0);
    },
    { last: true },
  );
}
