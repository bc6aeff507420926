import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { RecoveryOptions } from "../config";
import { addSeconds, formatDb, now, nowSeconds } from "../datetime";
import type { Database } from "../db/database";
import { type NotificationStatus, notifications, type RecoveryMode, recoveryRuns } from "../db/schema";
import type { Log } from "../log";
import { type Nova, NovaError } from "../openstack/nova";
import type { EngineWorkflows, EvacuationParams } from "./context";
import {
  instanceState,
  linkInstanceId,
  NUDGE,
  runInstanceId,
  signal,
  startLink,
  startRun,
  terminate,
} from "./instances";
import { orphanedLocks, releaseLock } from "./store/locks";
import { advanceLinkGeneration, livePhases, type PhaseRow } from "./store/phases";
import { advanceGeneration, endRun, recordFirstRun, recordNextRun } from "./store/runs";

// The engine's periodic work (D17), run by a Cron Trigger every minute:
//  - upstream's `_process_unfinished_notifications` every
//    process_unfinished_notifications_interval: an `error` notification is
//    run once more (a periodic run: an error there becomes `failed`), and a
//    `new` one older than retry_notification_new_status_interval whose
//    runs are over (its start was lost, or its run ended without claiming
//    it) is run;
//  - upstream's `_check_expired_notifications` every
//    check_expired_notifications_interval: `new`, `running` and `error`
//    notifications generated more than notifications_expired_interval ago
//    become `failed`, and their runs are stopped;
//  - every minute, what upstream has no need of: every live run and every
//    link of its phases must have a live Workflow instance. A live one is
//    nudged (a local `wrangler dev` restarted resumes none by itself; on
//    Cloudflare the nudge changes nothing); one that died (errored,
//    terminated, ended without finishing the run, or missing) is carried
//    on by the next generation, which replays the run's journal. After
//    MAX_GENERATIONS the run is given up: a `running` notification becomes
//    `error` (`failed` for a periodic run), as upstream sets a run that
//    raised. Servers still locked by a recovery that is over are unlocked.

/** Instances a run (or a link) may have before it is given up. */
export const MAX_GENERATIONS = 4;

/** Locks released in one sweep, at most: the rest are the next sweep's. */
const LOCKS_PER_SWEEP = 50;

/** Whether a task with `interval` seconds is due at the minute of `time` (ms). */
export function due(interval: number, time: number): boolean {
  const minutes = Math.max(1, Math.round(interval / 60));
  return Math.floor(time / 60_000) % minutes === 0;
}

export interface Sweep {
  readonly db: Database;
  readonly workflows: EngineWorkflows;
  readonly nova: Nova;
  readonly options: RecoveryOptions;
  readonly log: Log;
}

/** One tick of the Cron Trigger at `time` (ms since the epoch). */
export async function sweep(s: Sweep, time: number): Promise<void> {
  if (due(s.options.checkExpiredNotificationsInterval, time)) await expireNotifications(s);
  await keepRunsMoving(s);
  await keepLinksMoving(s);
  if (due(s.options.processUnfinishedNotificationsInterval, time)) await processUnfinished(s);
  await releaseOrphanedLocks(s);
}

interface Unfinished {
  readonly uuid: string;
  readonly status: NotificationStatus;
  readonly generatedTime: string;
  readonly run: number | null;
  readonly mode: RecoveryMode | null;
  readonly generation: number;
  readonly ended: boolean;
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
      generation: recoveryRuns.generation,
      endedAt: recoveryRuns.ended_at,
    })
    .from(notifications)
    .leftJoin(
      recoveryRuns,
      and(eq(recoveryRuns.notification_uuid, notifications.notification_uuid), sql`${recoveryRuns.run} = ${latest}`),
    )
    .where(
      and(
        eq(notifications.deleted, 0),
        inArray(notifications.status, statuses),
        // D22: a held notification waits for an operator, never for the periodic work.
        sql`NOT EXISTS (SELECT 1 FROM recovery_storm WHERE notification_uuid = ${notifications.notification_uuid} AND state = 'held')`,
      ),
    )
    .orderBy(sql`${notifications.created_at} DESC, ${notifications.id} DESC`);
  return rows.map((r) => ({ ...r, generation: r.generation ?? 1, ended: r.endedAt !== null }));
}

/** Every live run has a live instance: nudged when alive, carried on by its next generation when dead. */
async function keepRunsMoving(s: Sweep): Promise<void> {
  for (const n of await unfinished(s.db, ["new", "running", "error"])) {
    if (n.run !== null && !n.ended) await keepRunMoving(s, { ...n, run: n.run });
  }
}

async function keepRunMoving(
  s: Sweep,
  n: Pick<Unfinished, "uuid" | "status" | "mode"> & { run: number; generation: number },
) {
  const id = runInstanceId(n.uuid, n.run, n.generation);
  const state = await instanceState(s.workflows.recovery, id);
  if (state === "alive") {
    await signal(s.workflows.recovery, id, NUDGE);
  } else if (state === "missing") {
    // Recorded, but its start was lost.
    await startRun(s.workflows.recovery, n.uuid, n.run, n.generation);
  } else if (n.generation < MAX_GENERATIONS) {
    if (await advanceGeneration(s.db, n.uuid, n.run, n.generation)) {
      await startRun(s.workflows.recovery, n.uuid, n.run, n.generation + 1);
      s.log.warn(
        `notification ${n.uuid}: the instance of run ${n.run} died; generation ${n.generation + 1} carries it on`,
      );
    }
  } else {
    await giveUp(s, n.uuid, n.run, "the instance");
  }
}

const linkParams = (phase: PhaseRow): EvacuationParams => ({
  notificationUuid: phase.notification_uuid,
  run: phase.run,
  scope: phase.scope,
  link: phase.link,
  start: (JSON.parse(phase.params) as { start: EvacuationParams["start"] }).start,
});

/**
 * Every link carrying a live run's phase has a live instance, the same way.
 * A link that died MAX_GENERATIONS times gives its run up, as a run that
 * died as often would be: its run waits for it and nothing else.
 */
async function keepLinksMoving(s: Sweep): Promise<void> {
  for (const phase of await livePhases(s.db)) {
    const params = linkParams(phase);
    const id = linkInstanceId(params, phase.generation);
    const state = await instanceState(s.workflows.evacuation, id);
    if (state === "alive") {
      await signal(s.workflows.evacuation, id, NUDGE);
    } else if (state === "missing") {
      await startLink(s.workflows, params, phase.generation);
    } else if (phase.generation < MAX_GENERATIONS) {
      if (await advanceLinkGeneration(s.db, phase)) {
        await startLink(s.workflows, params, phase.generation + 1);
        s.log.warn(
          `notification ${phase.notification_uuid}: link ${phase.link} of ${phase.scope} died; generation ${phase.generation + 1} carries it on`,
        );
      }
    } else {
      await giveUp(s, phase.notification_uuid, phase.run, `link ${phase.link} of ${phase.scope}`);
    }
  }
}

/** Ends run `run` of a notification that died too often, and stops what is left of it. */
async function giveUp(s: Sweep, uuid: string, run: number, what: string): Promise<void> {
  const [r] = await s.db
    .select({ mode: recoveryRuns.mode, generation: recoveryRuns.generation, status: notifications.status })
    .from(recoveryRuns)
    .innerJoin(notifications, eq(notifications.notification_uuid, recoveryRuns.notification_uuid))
    .where(and(eq(recoveryRuns.notification_uuid, uuid), eq(recoveryRuns.run, run)));
  if (!r) return;
  const outcome = r.status !== "running" ? null : r.mode === "periodic" ? "failed" : "error";
  await endRun(s.db, uuid, run, outcome);
  await terminate(s.workflows.recovery, runInstanceId(uuid, run, r.generation));
  await stopLinks(s, uuid, run);
  s.log.error(
    `notification ${uuid}: ${what} of run ${run} died ${MAX_GENERATIONS} times; given up${outcome ? `, the notification is ${outcome}` : ""}`,
  );
}

/** Stops the links of a run's phases (the run is over). */
async function stopLinks(s: Sweep, uuid: string, run: number): Promise<void> {
  const phases = (await livePhases(s.db)).filter((p) => p.notification_uuid === uuid && p.run === run);
  for (const phase of phases)
    await terminate(s.workflows.evacuation, linkInstanceId(linkParams(phase), phase.generation));
}

/** `_process_unfinished_notifications`: error runs once more; a new one whose runs are over runs. */
async function processUnfinished(s: Sweep): Promise<void> {
  const newBefore = formatDb(addSeconds(now(), -s.options.retryNotificationNewStatusInterval));
  for (const n of await unfinished(s.db, ["error", "new"])) {
    if (n.status === "new" && n.generatedTime >= newBefore) continue;
    if (n.run === null) {
      // The API's start was lost (or its instance died before it recorded
      // the run): the periodic task processes it.
      await recordFirstRun(s.db, n.uuid, "periodic");
      if ((await startRun(s.workflows.recovery, n.uuid, 1)) === "started") {
        s.log.info(`notification ${n.uuid}: run 1 started by the periodic task`);
      } else {
        await keepRunMoving(s, { ...n, run: 1, generation: 1, mode: "periodic" });
      }
      continue;
    }
    // A live run is kept moving by keepRunsMoving.
    if (!n.ended) continue;
    if (await recordNextRun(s.db, n.uuid, n.run, "periodic")) await start(s, n.uuid, n.run + 1);
  }
}

async function start(s: Sweep, uuid: string, run: number): Promise<void> {
  const started = await startRun(s.workflows.recovery, uuid, run);
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
    await stopRuns(s, uuid);
  }
}

/** Stops every unended run of a notification and its links, and ends the runs as failed. */
export async function stopRuns(s: Sweep, uuid: string): Promise<void> {
  const runs = await s.db
    .select({ run: recoveryRuns.run, generation: recoveryRuns.generation })
    .from(recoveryRuns)
    .where(and(eq(recoveryRuns.notification_uuid, uuid), sql`${recoveryRuns.ended_at} IS NULL`));
  for (const r of runs) {
    await terminate(s.workflows.recovery, runInstanceId(uuid, r.run, r.generation));
    await stopLinks(s, uuid, r.run);
    await s.db
      .update(recoveryRuns)
      .set({ ended_at: nowSeconds(), outcome: "failed" })
      .where(and(eq(recoveryRuns.notification_uuid, uuid), eq(recoveryRuns.run, r.run)));
  }
}

/** Unlocks servers a recovery that is over still holds locked. */
async function releaseOrphanedLocks(s: Sweep): Promise<void> {
  for (const lock of await orphanedLocks(s.db, LOCKS_PER_SWEEP)) {
    try {
      await s.nova.action(lock.instanceUuid, { unlock: null });
    } catch (error) {
      if (!(error instanceof NovaError)) throw error;
      // Nova down: the next sweep tries again; a server gone holds no lock.
      if (error.status !== 404) continue;
    }
    await releaseLock(s.db, lock.notificationUuid, lock.instanceUuid, nowSeconds());
    s.log.info(`notification ${lock.notificationUuid}: unlocked server ${lock.instanceUuid}`);
  }
}
