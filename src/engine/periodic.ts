import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { RecoveryOptions, RecoveryParams } from "../config";
import { addSeconds, formatDb, now, nowSeconds } from "../datetime";
import type { Database } from "../db/database";
import { type NotificationStatus, notifications, type RecoveryMode, recoveryRuns } from "../db/schema";
import type { Log } from "../log";
import { instanceId, startRun } from "./start";
import { recordFirstRun, recordNextRun } from "./store";

// The engine's periodic work (D17), run by a Cron Trigger every minute:
//  - upstream's `_process_unfinished_notifications` every
//    process_unfinished_notifications_interval: an `error` notification is
//    run once more (a periodic run: an error there becomes `failed`), and a
//    `new` one older than retry_notification_new_status_interval whose run
//    never started (its start was lost) is started;
//  - upstream's `_check_expired_notifications` every
//    check_expired_notifications_interval: `new`, `running` and `error`
//    notifications generated more than notifications_expired_interval ago
//    become `failed`;
//  - every minute, what upstream has no need of: a run whose Workflow
//    instance is alive is nudged (a local `wrangler dev` restarted does not
//    resume its instances by itself; on Cloudflare the nudge is a no-op),
//    and a `running` notification whose instance died is set to `error`
//    (`failed` for a periodic run), as upstream sets a run that raised, so
//    the next periodic pass runs it again. Nothing stays `running` with no
//    way forward.

/** Workflow instance states of a run that can still move on by itself. */
const ALIVE = new Set(["queued", "running", "waiting", "paused", "waitingForPause", "unknown"]);

/** The event a nudge sends; no run waits for it. */
export const NUDGE = "nudge";

interface Unfinished {
  readonly uuid: string;
  readonly status: NotificationStatus;
  readonly generatedTime: string;
  readonly run: number | null;
  readonly mode: RecoveryMode | null;
  readonly ended: boolean;
}

/** Whether a task with `interval` seconds is due at the minute of `time` (ms). */
export function due(interval: number, time: number): boolean {
  const minutes = Math.max(1, Math.round(interval / 60));
  return Math.floor(time / 60_000) % minutes === 0;
}

export interface Sweep {
  readonly db: Database;
  readonly recovery: Workflow<RecoveryParams>;
  readonly options: RecoveryOptions;
  readonly log: Log;
}

/** One tick of the Cron Trigger at `time` (ms since the epoch). */
export async function sweep(s: Sweep, time: number): Promise<void> {
  if (due(s.options.checkExpiredNotificationsInterval, time)) await expireNotifications(s);
  await reviveRuns(s);
  if (due(s.options.processUnfinishedNotificationsInterval, time)) await processUnfinished(s);
}

/** Live notifications in `statuses`, newest first, each with its latest run. */
async function unfinished(db: Database, statuses: NotificationStatus[]): Promise<Unfinished[]> {
  const latest = sql`(SELECT max(${recoveryRuns.run}) FROM ${recoveryRuns} WHERE ${recoveryRuns.notification_uuid} = ${notifications.notification_uuid})`;
  const rows = await db
    .select({
      uuid: notifications.notification_uuid,
      status: notifications.status,
      generatedTime: notifications.generated_time,
      run: recoveryRuns.run,
      mode: recoveryRuns.mode,
      endedAt: recoveryRuns.ended_at,
    })
    .from(notifications)
    .leftJoin(
      recoveryRuns,
      and(eq(recoveryRuns.notification_uuid, notifications.notification_uuid), sql`${recoveryRuns.run} = ${latest}`),
    )
    .where(and(eq(notifications.deleted, 0), inArray(notifications.status, statuses)))
    .orderBy(sql`${notifications.created_at} DESC, ${notifications.id} DESC`);
  return rows.map((r) => ({ ...r, ended: r.endedAt !== null }));
}

/** The Workflow status of a run's instance, "missing" when there is none. */
async function instanceStatus(s: Sweep, uuid: string, run: number): Promise<string> {
  try {
    return (await (await s.recovery.get(instanceId(uuid, run))).status()).status;
  } catch (error) {
    if (error instanceof Error && error.message.includes("not_found")) return "missing";
    throw error;
  }
}

async function nudge(s: Sweep, uuid: string, run: number): Promise<void> {
  try {
    await (await s.recovery.get(instanceId(uuid, run))).sendEvent({ type: NUDGE, payload: null });
  } catch (error) {
    s.log.warn(`could not nudge the run ${run} of notification ${uuid}:`, error);
  }
}

/** Keeps live runs moving and turns dead `running` ones into `error` (or `failed`). */
async function reviveRuns(s: Sweep): Promise<void> {
  for (const n of await unfinished(s.db, ["new", "running"])) {
    if (n.run === null || n.ended) continue;
    const status = await instanceStatus(s, n.uuid, n.run);
    if (ALIVE.has(status)) {
      await nudge(s, n.uuid, n.run);
      continue;
    }
    if (n.status !== "running") continue;
    const outcome = n.mode === "periodic" ? "failed" : "error";
    const changed = await endDeadRun(s.db, n.uuid, n.run, outcome);
    if (changed) s.log.error(`notification ${n.uuid}: run ${n.run} died (${status}); the notification is ${outcome}`);
  }
}

/** A `running` notification whose run died: `outcome`, if that run is still its latest. */
async function endDeadRun(db: Database, uuid: string, run: number, outcome: NotificationStatus): Promise<boolean> {
  const at = nowSeconds();
  const [changed] = await db.batch([
    db
      .update(notifications)
      .set({ status: outcome, updated_at: at })
      .where(
        and(
          eq(notifications.notification_uuid, uuid),
          eq(notifications.status, "running"),
          sql`(SELECT max(${recoveryRuns.run}) FROM ${recoveryRuns} WHERE ${recoveryRuns.notification_uuid} = ${uuid}) = ${run}`,
        ),
      )
      .returning({ id: notifications.id }),
    db
      .update(recoveryRuns)
      .set({ ended_at: at, outcome })
      .where(and(eq(recoveryRuns.notification_uuid, uuid), eq(recoveryRuns.run, run))),
  ]);
  return changed.length > 0;
}

/** `_process_unfinished_notifications`: error runs once more; a new one whose start was lost starts. */
async function processUnfinished(s: Sweep): Promise<void> {
  const newBefore = formatDb(addSeconds(now(), -s.options.retryNotificationNewStatusInterval));
  for (const n of await unfinished(s.db, ["error", "new"])) {
    if (n.status === "new" && n.generatedTime >= newBefore) continue;
    if (n.run === null) {
      // The API's start was lost: the periodic task processes it.
      await recordFirstRun(s.db, n.uuid, "periodic");
      await start(s, n.uuid, 1);
      continue;
    }
    if (!n.ended) {
      // A run that is starting or waiting for its host: make sure it exists.
      if ((await instanceStatus(s, n.uuid, n.run)) === "missing") await start(s, n.uuid, n.run);
      continue;
    }
    if (await recordNextRun(s.db, n.uuid, n.run, "periodic")) await start(s, n.uuid, n.run + 1);
  }
}

async function start(s: Sweep, uuid: string, run: number): Promise<void> {
  const started = await startRun(s.recovery, uuid, run);
  if (started === "started") s.log.info(`notification ${uuid}: run ${run} started by the periodic task`);
}

/** `_check_expired_notifications`: anything unfinished past its expiry is failed, and its run stopped. */
async function expireNotifications(s: Sweep): Promise<void> {
  const before = formatDb(addSeconds(now(), -s.options.notificationsExpiredInterval));
  const expired = await s.db
    .update(notifications)
    .set({ status: "failed", updated_at: nowSeconds() })
    .where(
      and(
        eq(notifications.deleted, 0),
        inArray(notifications.status, ["new", "running", "error"]),
        lt(notifications.generated_time, before),
      ),
    )
    .returning({ uuid: notifications.notification_uuid });
  for (const { uuid } of expired) {
    s.log.info(`Periodic task 'check_expired_notifications': Notification ${uuid} is expired.`);
    const run = await s.db
      .update(recoveryRuns)
      .set({ ended_at: nowSeconds(), outcome: "failed" })
      .where(and(eq(recoveryRuns.notification_uuid, uuid), sql`${recoveryRuns.ended_at} IS NULL`))
      .returning({ run: recoveryRuns.run });
    for (const r of run) {
      try {
        await (await s.recovery.get(instanceId(uuid, r.run))).terminate();
      } catch {
        // Already over, or never started.
      }
    }
  }
}
