import { and, desc, eq, exists, inArray, not, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { nowSeconds } from "../datetime";
import type { Database } from "../db/database";
import {
  failoverSegments,
  type HostRow,
  hosts,
  type NotificationRow,
  type NotificationStatus,
  notifications,
  type RecoveryMode,
  recoveryLocks,
  recoveryProgress,
  recoveryRuns,
  recoveryTasks,
  type SegmentRow,
  vmoves,
} from "../db/schema";

// The recovery engine's reads and writes. Each write that decides who does
// what is one guarded statement (D16): a notification is claimed `new` or
// `error` → `running` by one UPDATE, which also holds the one-recovery-per-
// source-host rule; a reserved host is claimed by one UPDATE. Every other
// write is idempotent, keyed so that a Workflow step run again rewrites what
// it wrote rather than add to it.

/** A notification with its source host and that host's segment, as the engine reads them. */
export interface Subject {
  readonly notification: NotificationRow;
  readonly host: HostRow;
  readonly segment: SegmentRow;
}

/** The notification, its live source host and that host's live segment. */
export async function readSubject(db: Database, uuid: string): Promise<Subject | undefined> {
  const [found] = await db
    .select({ notification: notifications, host: hosts, segment: failoverSegments })
    .from(notifications)
    .innerJoin(hosts, and(eq(hosts.uuid, notifications.source_host_uuid), eq(hosts.deleted, 0)))
    .innerJoin(
      failoverSegments,
      and(eq(failoverSegments.uuid, hosts.failover_segment_id), eq(failoverSegments.deleted, 0)),
    )
    .where(and(eq(notifications.notification_uuid, uuid), eq(notifications.deleted, 0)));
  return found;
}

/** The latest run of a notification, if any. */
export async function latestRun(db: Database, uuid: string) {
  const [run] = await db
    .select()
    .from(recoveryRuns)
    .where(eq(recoveryRuns.notification_uuid, uuid))
    .orderBy(desc(recoveryRuns.run))
    .limit(1);
  return run;
}

/**
 * Records run 1 of a notification: `rpc` when the API started it, as
 * upstream's RPC cast, `periodic` when the periodic task found it never
 * started. The first to record it decides; later calls change nothing.
 */
export async function recordFirstRun(db: Database, uuid: string, mode: RecoveryMode = "rpc"): Promise<void> {
  await db
    .insert(recoveryRuns)
    .values({ notification_uuid: uuid, run: 1, mode, created_at: nowSeconds() })
    .onConflictDoNothing();
}

/**
 * Records run `after + 1` of a notification, only while run `after` is its
 * latest (a compare-and-set): two sweeps that both see run `after` dead or
 * done start one run between them. True when this call recorded it.
 */
export async function recordNextRun(db: Database, uuid: string, after: number, mode: RecoveryMode): Promise<boolean> {
  const result = await db.run(sql`INSERT INTO ${recoveryRuns} (notification_uuid, run, mode, created_at)
    SELECT ${uuid}, ${after + 1}, ${mode}, ${nowSeconds()}
    WHERE (SELECT max(run) FROM ${recoveryRuns} WHERE notification_uuid = ${uuid}) = ${after}
    ON CONFLICT DO NOTHING`);
  return result.meta.changes > 0;
}

const other = alias(notifications, "other");

/**
 * Whether the latest run of notification `uuid` is `run`: only that run may
 * change the notification (a run that was taken over stops writing).
 */
const isLatestRun = (uuid: string, run: number) =>
  sql`(SELECT max(${recoveryRuns.run}) FROM ${recoveryRuns} WHERE ${recoveryRuns.notification_uuid} = ${uuid}) = ${run}`;

export type Claim = "claimed" | "host-busy" | "not-claimable";

/**
 * Claims the notification for `run`: `new` or `error` → `running`, in one
 * guarded UPDATE that holds D16's rules: only the latest run claims, and
 * never while another notification from the same source host is running.
 * "host-busy": wait and claim again; "not-claimable": nothing to do, as
 * upstream skips a notification no longer `new` (bug 1773132).
 */
export async function claimNotification(db: Database, uuid: string, run: number): Promise<Claim> {
  const claimable: NotificationStatus[] = ["new", "error"];
  const busy = exists(
    db
      .select({ one: sql`1` })
      .from(other)
      .where(
        and(
          eq(other.source_host_uuid, notifications.source_host_uuid),
          eq(other.status, "running"),
          eq(other.deleted, 0),
          not(eq(other.notification_uuid, uuid)),
        ),
      ),
  );
  const [claimed, state] = await db.batch([
    db
      .update(notifications)
      .set({ status: "running", updated_at: nowSeconds() })
      .where(
        and(
          eq(notifications.notification_uuid, uuid),
          eq(notifications.deleted, 0),
          inArray(notifications.status, claimable),
          isLatestRun(uuid, run),
          not(busy),
        ),
      )
      .returning({ status: notifications.status }),
    db
      .select({ claimable: sql<number>`${notifications.status} IN ${claimable} AND ${isLatestRun(uuid, run)}` })
      .from(notifications)
      .where(and(eq(notifications.notification_uuid, uuid), eq(notifications.deleted, 0))),
  ]);
  if (claimed.length > 0) return "claimed";
  return state[0]?.claimable ? "host-busy" : "not-claimable";
}

/**
 * Upstream's RPC path: a notification whose segment is disabled is
 * `ignored` with master's message (typo included) before any flow runs.
 * True when that happened.
 */
export async function ignoreIfSegmentDisabled(db: Database, uuid: string, run: number): Promise<boolean> {
  const disabled = exists(
    db
      .select({ one: sql`1` })
      .from(hosts)
      .innerJoin(failoverSegments, eq(failoverSegments.uuid, hosts.failover_segment_id))
      .where(and(eq(hosts.uuid, notifications.source_host_uuid), eq(failoverSegments.enabled, false))),
  );
  const ignored = await db
    .update(notifications)
    .set({ status: "ignored", message: SEGMENT_DISABLED, updated_at: nowSeconds() })
    .where(
      and(eq(notifications.notification_uuid, uuid), eq(notifications.status, "new"), isLatestRun(uuid, run), disabled),
    )
    .returning({ id: notifications.id });
  return ignored.length > 0;
}

/** Master's message for a notification of a disabled segment ("aboart" is upstream's). */
export const SEGMENT_DISABLED = "Recovery aboart: the segment HA is disabled.";

/**
 * Sets the final status of a `running` notification claimed by `run`, and
 * ends the run, in one batch. False when the notification was no longer
 * the run's to change (expired to `failed` meanwhile, or taken over).
 */
export async function finishNotification(
  db: Database,
  uuid: string,
  run: number,
  status: NotificationStatus,
): Promise<boolean> {
  const now = nowSeconds();
  const [finished] = await db.batch([
    db
      .update(notifications)
      .set({ status, updated_at: now })
      .where(
        and(eq(notifications.notification_uuid, uuid), eq(notifications.status, "running"), isLatestRun(uuid, run)),
      )
      .returning({ id: notifications.id }),
    db
      .update(recoveryRuns)
      .set({ ended_at: now, outcome: status })
      .where(and(eq(recoveryRuns.notification_uuid, uuid), eq(recoveryRuns.run, run))),
  ]);
  return finished.length > 0;
}

/** Ends a run that changed nothing (the notification was not claimable). */
export async function endRun(db: Database, uuid: string, run: number): Promise<void> {
  await db
    .update(recoveryRuns)
    .set({ ended_at: nowSeconds() })
    .where(and(eq(recoveryRuns.notification_uuid, uuid), eq(recoveryRuns.run, run)));
}

/**
 * Upstream's host side effects (masakari-engine.md §2): the failed host goes
 * on maintenance, and a host failure also ends its reservation.
 */
export async function putOnMaintenance(db: Database, hostUuid: string, unreserve: boolean): Promise<void> {
  const changes = unreserve ? { on_maintenance: true, reserved: false } : { on_maintenance: true };
  await db
    .update(hosts)
    .set({
      ...changes,
      updated_at: sql`CASE WHEN coalesce(${hosts.on_maintenance}, 0) = 0 ${unreserve ? sql`OR coalesce(${hosts.reserved}, 0) = 1` : sql``} THEN ${nowSeconds()} ELSE ${hosts.updated_at} END`,
    })
    .where(and(eq(hosts.uuid, hostUuid), eq(hosts.deleted, 0)));
}

/**
 * The segment's reserved hosts that are not on maintenance, newest first
 * (upstream's default order), by name.
 */
export async function reservedHostNames(db: Database, segmentUuid: string): Promise<string[]> {
  const rows = await db
    .select({ name: hosts.name })
    .from(hosts)
    .where(
      and(
        eq(hosts.failover_segment_id, segmentUuid),
        eq(hosts.reserved, true),
        eq(hosts.on_maintenance, false),
        eq(hosts.deleted, 0),
      ),
    )
    .orderBy(desc(hosts.created_at), desc(hosts.id));
  return rows.map((r) => r.name);
}

/**
 * Takes reserved host `name` of the segment for an evacuation: reserved → not
 * reserved, in one guarded UPDATE, so two recoveries never take the same
 * host (D16). False when it is no longer reserved (another took it).
 */
export async function claimReservedHost(db: Database, segmentUuid: string, name: string): Promise<boolean> {
  const claimed = await db
    .update(hosts)
    .set({ reserved: false, updated_at: nowSeconds() })
    .where(
      and(
        eq(hosts.name, name),
        eq(hosts.failover_segment_id, segmentUuid),
        eq(hosts.reserved, true),
        eq(hosts.deleted, 0),
      ),
    )
    .returning({ id: hosts.id });
  return claimed.length > 0;
}

/** Where a task's state and messages belong: a notification's run and flow. */
export interface FlowKey {
  readonly notificationUuid: string;
  readonly run: number;
  readonly flow: number;
}

export interface ProgressEntry {
  readonly task: string;
  readonly idx: number;
  readonly timestamp: string;
  readonly progress: string;
  readonly message: string;
}

export interface TaskState {
  readonly task: string;
  readonly state: string;
  readonly progress: number;
}

/**
 * Writes what one step recorded: its progress messages, keyed by the step
 * (a step run again replaces them), and the states of its tasks, in one
 * batch.
 */
export async function recordProgress(
  db: Database,
  key: FlowKey,
  step: string,
  entries: readonly ProgressEntry[],
  states: readonly TaskState[],
): Promise<void> {
  const base = { notification_uuid: key.notificationUuid, run: key.run, flow: key.flow };
  const writes = [
    ...states.map((s) =>
      db
        .insert(recoveryTasks)
        .values({ ...base, name: s.task, state: s.state, progress: s.progress })
        .onConflictDoUpdate({
          target: [recoveryTasks.notification_uuid, recoveryTasks.run, recoveryTasks.flow, recoveryTasks.name],
          set: { state: s.state, progress: s.progress },
        }),
    ),
    ...entries.map((e) =>
      db
        .insert(recoveryProgress)
        .values({ ...base, step, ...e })
        .onConflictDoUpdate({
          target: [
            recoveryProgress.notification_uuid,
            recoveryProgress.run,
            recoveryProgress.flow,
            recoveryProgress.task,
            recoveryProgress.step,
            recoveryProgress.idx,
          ],
          set: { timestamp: e.timestamp, progress: e.progress, message: e.message },
        }),
    ),
  ];
  const [first, ...rest] = writes;
  if (first) await db.batch([first, ...rest]);
}

/** One VM move the engine writes (upstream master, §5). */
export interface NewVmove {
  readonly uuid: string;
  readonly instanceUuid: string;
  readonly instanceName: string;
}

/** Creates `pending` evacuation rows; a row that exists (a step run again) is left as it is. */
export async function createVmoves(
  db: Database,
  notificationUuid: string,
  sourceHost: string,
  moves: readonly NewVmove[],
): Promise<void> {
  const now = nowSeconds();
  // D1 binds at most 100 values a statement; a row takes 9.
  for (let i = 0; i < moves.length; i += 10) {
    await db
      .insert(vmoves)
      .values(
        moves.slice(i, i + 10).map((m) => ({
          created_at: now,
          deleted: 0,
          uuid: m.uuid,
          notification_uuid: notificationUuid,
          instance_uuid: m.instanceUuid,
          instance_name: m.instanceName,
          source_host: sourceHost,
          type: "evacuation",
          status: "pending",
        })),
      )
      .onConflictDoNothing();
  }
}

/** Updates one VM move (ongoing, succeeded, failed). */
export async function updateVmove(
  db: Database,
  uuid: string,
  changes: Partial<Pick<typeof vmoves.$inferInsert, "status" | "start_time" | "end_time" | "dest_host" | "message">>,
): Promise<void> {
  await db
    .update(vmoves)
    .set({ ...changes, updated_at: nowSeconds() })
    .where(eq(vmoves.uuid, uuid));
}

/** Records that the run is about to lock `instanceUuid` (see recoveryLocks). */
export async function recordLock(db: Database, uuid: string, run: number, instanceUuid: string): Promise<void> {
  await db
    .insert(recoveryLocks)
    .values({ notification_uuid: uuid, run, instance_uuid: instanceUuid, created_at: nowSeconds() })
    .onConflictDoNothing();
}

/** Whether the run recorded locking `instanceUuid`. */
export async function lockedByRun(db: Database, uuid: string, run: number, instanceUuid: string): Promise<boolean> {
  const [found] = await db
    .select({ one: sql`1` })
    .from(recoveryLocks)
    .where(
      and(
        eq(recoveryLocks.notification_uuid, uuid),
        eq(recoveryLocks.run, run),
        eq(recoveryLocks.instance_uuid, instanceUuid),
      ),
    );
  return found !== undefined;
}

/** A VM move's status. */
export async function vmoveStatus(db: Database, uuid: string): Promise<string | null | undefined> {
  const [found] = await db.select({ status: vmoves.status }).from(vmoves).where(eq(vmoves.uuid, uuid));
  return found?.status;
}
