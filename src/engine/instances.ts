import type { EngineWorkflows, EvacuationParams, RecoveryParams } from "./context";

// Workflow instances of the engine, named after what they carry, so that
// starting the same one twice (the API and the sweep, a replayed step)
// starts it once (D13):
//   a run:                 <notification uuid>-<run>
//   its next generations:  <notification uuid>-<run>-g<n>, once one died (D17)
//   a link of a phase:     <notification uuid>-<run>-<scope>-<link>[-g<n>] (D20)

export const runInstanceId = (notificationUuid: string, run: number, generation = 1) =>
  generation === 1 ? `${notificationUuid}-${run}` : `${notificationUuid}-${run}-g${generation}`;

export const linkInstanceId = (
  p: Pick<EvacuationParams, "notificationUuid" | "run" | "scope" | "link">,
  generation = 1,
) => `${p.notificationUuid}-${p.run}-${p.scope}-${p.link}${generation === 1 ? "" : `-g${generation}`}`;

/** The event a link sends the run when its phase is done. */
export const PHASE_DONE = "phase-done";

/** The event the periodic work sends a live instance to keep it moving; nothing waits for it. */
export const NUDGE = "nudge";

async function create<P>(binding: Workflow<P>, id: string, params: P): Promise<"started" | "exists"> {
  try {
    await binding.create({ id, params });
    return "started";
  } catch (error) {
    if (error instanceof Error && error.message.includes("already_exists")) return "exists";
    throw error;
  }
}

/** Starts generation `generation` of run `run` of the notification; "exists" when it was already started. */
export function startRun(
  recovery: Workflow<RecoveryParams>,
  notificationUuid: string,
  run: number,
  generation = 1,
): Promise<"started" | "exists"> {
  const params = generation === 1 ? { notificationUuid, run } : { notificationUuid, run, generation };
  return create(recovery, runInstanceId(notificationUuid, run, generation), params);
}

export function startLink(workflows: EngineWorkflows, params: EvacuationParams, generation = 1) {
  const { generation: _, ...link } = params;
  return create(
    workflows.evacuation,
    linkInstanceId(link, generation),
    generation === 1 ? link : { ...link, generation },
  );
}

/** Workflow instance states from which an instance moves on by itself. */
const ALIVE = new Set(["queued", "running", "waiting", "paused", "waitingForPause", "unknown"]);

/** What became of an instance: alive, dead (errored, terminated, complete), or missing. */
export async function instanceState<P>(binding: Workflow<P>, id: string): Promise<"alive" | "dead" | "missing"> {
  try {
    const { status } = await (await binding.get(id)).status();
    return ALIVE.has(status) ? "alive" : "dead";
  } catch (error) {
    if (error instanceof Error && error.message.includes("not_found")) return "missing";
    throw error;
  }
}

/** Sends `type` to an instance; false when it could not be reached. */
export async function signal<P>(binding: Workflow<P>, id: string, type: string): Promise<boolean> {
  try {
    await (await binding.get(id)).sendEvent({ type, payload: null });
    return true;
  } catch {
    return false;
  }
}

/** Stops an instance; already over or missing is fine. */
export async function terminate<P>(binding: Workflow<P>, id: string): Promise<void> {
  try {
    await (await binding.get(id)).terminate();
  } catch {
    // Over, or never started.
  }
}
