import type { RecoveryParams } from "../config";

// Starting a run of the engine on a notification: a Workflow instance whose
// id is derived from the notification uuid and the run (D13), so starting
// the same run twice (the API and the sweep, or a retry) starts it once.

/** The Workflow instance of a notification's run: `<notification uuid>-<run>`. */
export const instanceId = (notificationUuid: string, run: number) => `${notificationUuid}-${run}`;

/** Starts run `run` of the notification; "exists" when its instance was already started. */
export async function startRun(
  recovery: Workflow<RecoveryParams>,
  notificationUuid: string,
  run: number,
): Promise<"started" | "exists"> {
  try {
    await recovery.create({ id: instanceId(notificationUuid, run), params: { notificationUuid, run } });
    return "started";
  } catch (error) {
    if (error instanceof Error && error.message.includes("instance.already_exists")) return "exists";
    throw error;
  }
}
