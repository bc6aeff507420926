import { now, nowSeconds, pythonStr } from "../datetime";
import type { Database } from "../db/database";
import { type NotificationStatus, STEERING_FLOW } from "../db/schema";
import type { Log } from "../log";
import { type Nova, NovaError } from "../openstack/nova";
import type { EngineWorkflows } from "./context";
import { linkInstanceId, runInstanceId, startRun, terminate } from "./instances";
import { heldLocks, releaseLock } from "./store/locks";
import { livePhases } from "./store/phases";
import { recordProgress } from "./store/progress";

// Operator actions on a notification (D21): retry, abort, ignore, release.
// Each is one guarded batch on the notification's status (of two actions at
// once, one wins), then what follows from it (a run started, runs stopped,
// servers unlocked), and is recorded as an OperatorAction task in the
// notification's recovery details and in a log line.

export type Action = "retry" | "abort" | "ignore" | "release";

/** Who acted, and why. */
export interface Actor {
  readonly userId: string | null;
  readonly projectId: string | null;
  readonly requestId: string;
  readonly reason: string | null;
}

export interface Steering {
  readonly db: Database;
  readonly workflows: EngineWorkflows | undefined;
  readonly nova: Nova | undefined;
  readonly log: Log;
}

/** The statuses each action takes a notification from. */
export const ACTIONABLE: Readonly<Record<Action, readonly NotificationStatus[]>> = {
  retry: ["error", "failed"],
  abort: ["new", "running", "error"],
  ignore: ["new", "error"],
  release: ["new"],
};

const NO_LIVE_RUN = `NOT EXISTS (SELECT 1 FROM recovery_runs WHERE notification_uuid = ?1 AND ended_at IS NULL)`;
const LATEST_RUN = "(SELECT coalesce(max(run), 0) FROM recovery_runs WHERE notification_uuid = ?1)";

/**
 * Applies `action` to notification `uuid`; false when its status (or the
 * storm guard's record) does not allow it, or another action got there first.
 */
export async function act(s: Steering, uuid: string, action: Action, actor: Actor): Promise<boolean> {
  const applied = await claimAction(s.db, uuid, action, nowSeconds());
  if (!applied) return false;
  const run = await latestRunNumber(s.db, uuid);
  if (action === "retry" || action === "release") {
    if (s.workflows) await startRun(s.workflows.recovery, uuid, run);
  } else {
    await stopRuns(s, uuid);
    if (action === "abort") await abandon(s, uuid, actor);
  }
  await recordAction(s.db, uuid, run, action, actor);
  s.log.info(
    `notification ${uuid}: ${action} by user ${actor.userId ?? "-"} of project ${actor.projectId ?? "-"} (${actor.requestId})${actor.reason ? `: ${actor.reason}` : ""}`,
  );
  return true;
}

/** The action's own guarded batch: the notification's new status, and a run to start for retry and release. */
async function claimAction(db: Database, uuid: string, action: Action, at: string): Promise<boolean> {
  const client = db.$client;
  const statuses = ACTIONABLE[action].map((x) => `'${x}'`).join(", ");
  const live = `notification_uuid = ?1 AND deleted = 0 AND status IN (${statuses})`;
  const nextRun = (mode: string, when: string) =>
    client
      .prepare(
        `INSERT INTO recovery_runs (notification_uuid, run, mode, created_at) SELECT ?1, ${LATEST_RUN} + 1, '${mode}', ?2 WHERE ${when}`,
      )
      .bind(uuid, at);
  if (action === "retry") {
    // As the periodic task re-runs an error: an error it ends with is failed.
    const [changed] = await client.batch([
      client
        .prepare(
          `UPDATE notifications SET status = 'error', updated_at = ?2 WHERE ${live} AND ${NO_LIVE_RUN} RETURNING id`,
        )
        .bind(uuid, at),
      nextRun("periodic", `changes() > 0`),
    ]);
    return (changed?.results.length ?? 0) > 0;
  }
  if (action === "release") {
    const [changed] = await client.batch([
      client
        .prepare(
          `UPDATE recovery_storm SET state = 'released' WHERE notification_uuid = ?1 AND state = 'held'
           AND EXISTS (SELECT 1 FROM notifications WHERE ${live}) AND ${NO_LIVE_RUN} RETURNING notification_uuid`,
        )
        .bind(uuid),
      nextRun("rpc", `changes() > 0`),
    ]);
    return (changed?.results.length ?? 0) > 0;
  }
  const status = action === "abort" ? "failed" : "ignored";
  const changed = await client
    .prepare(`UPDATE notifications SET status = '${status}', updated_at = ?2 WHERE ${live} RETURNING id`)
    .bind(uuid, at)
    .all();
  return changed.results.length > 0;
}

async function latestRunNumber(db: Database, uuid: string): Promise<number> {
  const row = await db.$client
    .prepare("SELECT coalesce(max(run), 0) AS run FROM recovery_runs WHERE notification_uuid = ?")
    .bind(uuid)
    .first<{ run: number }>();
  return row?.run ?? 0;
}

/** Stops every unended run of the notification, its links too, and ends them. */
async function stopRuns(s: Steering, uuid: string): Promise<void> {
  const { results } = await s.db.$client
    .prepare("SELECT run, generation FROM recovery_runs WHERE notification_uuid = ? AND ended_at IS NULL")
    .bind(uuid)
    .all<{ run: number; generation: number }>();
  const phases = results.length > 0 ? await livePhases(s.db) : [];
  for (const r of results) {
    if (s.workflows) {
      await terminate(s.workflows.recovery, runInstanceId(uuid, r.run, r.generation));
      for (const p of phases.filter((x) => x.notification_uuid === uuid && x.run === r.run)) {
        await terminate(s.workflows.evacuation, linkInstanceId({ ...p, notificationUuid: uuid }, p.generation));
      }
    }
    await s.db.$client
      .prepare("UPDATE recovery_runs SET ended_at = ? WHERE notification_uuid = ? AND run = ? AND ended_at IS NULL")
      .bind(nowSeconds(), uuid, r.run)
      .run();
  }
}

/**
 * An aborted recovery: its VM moves not yet succeeded are failed, and the
 * servers it locked unlocked. Nova calls already made are not undone.
 */
async function abandon(s: Steering, uuid: string, actor: Actor): Promise<void> {
  const at = nowSeconds();
  await s.db.$client
    .prepare(
      `UPDATE vmoves SET status = 'failed', message = ?, end_time = coalesce(end_time, ?), updated_at = ?
       WHERE notification_uuid = ? AND status IN ('pending', 'ongoing') AND deleted = 0`,
    )
    .bind(`Aborted by an operator${actor.reason ? `: ${actor.reason}` : ""}`, at, at, uuid)
    .run();
  for (const instance of await heldLocks(s.db, uuid)) {
    try {
      await s.nova?.action(instance, { unlock: null });
    } catch (error) {
      // Left held: the periodic work unlocks it once Nova answers.
      if (!(error instanceof NovaError) || error.status !== 404) continue;
    }
    if (s.nova) await releaseLock(s.db, uuid, instance, at);
  }
}

/** The OperatorAction entry of the notification's recovery details. */
async function recordAction(db: Database, uuid: string, run: number, action: Action, actor: Actor): Promise<void> {
  const words = `${action} by user ${actor.userId ?? "-"} of project ${actor.projectId ?? "-"}, request ${actor.requestId}`;
  const message = actor.reason ? `${words}: ${actor.reason}` : words;
  const entry = { task: "OperatorAction", idx: 0, timestamp: pythonStr(now()), progress: "1.0", message };
  const key = { notificationUuid: uuid, run, flow: STEERING_FLOW };
  await recordProgress(
    db,
    key,
    `action ${actor.requestId}`,
    [entry],
    [{ task: "OperatorAction", state: "SUCCESS", progress: 1 }],
  );
}

/** The StormGuard entry of a held notification's recovery details (D22). */
export async function recordHold(
  db: Database,
  uuid: string,
  run: number,
  hold: { down: number; hosts: number; percent: number; window: number },
): Promise<void> {
  const message =
    `Held by the storm guard: ${hold.down} of the segment's ${hold.hosts} hosts are already down within ` +
    `${hold.window} s, and this one would make more than ${hold.percent} %. Nova is not called until an ` +
    `operator releases it.`;
  const entry = { task: "StormGuard", idx: 0, timestamp: pythonStr(now()), progress: "0.0", message };
  const key = { notificationUuid: uuid, run, flow: STEERING_FLOW };
  await recordProgress(db, key, "storm guard", [entry], [{ task: "StormGuard", state: "PENDING", progress: 0 }]);
}
