import { and, desc, eq, exists, inArray, not, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { nowSeconds } from "../../datetime";
import type { Database } from "../../db/database";
import {
  failoverSegments,
  type HostRow,
  hosts,
  type NotificationRow,
  type NotificationStatus,
  notifications,
  type RecoveryMode,
  recoveryRuns,
  type SegmentRow,
} from "../../db/schema";

// A notification's runs. Each write that decides who does what is one
// guarded statement or batch (D16): a notification is claimed `new` or
// `error` → `running` by one UPDATE, which also holds the one recovery per
// source host rule, and the claiming run is recorded in the same batch, so
// a claim replayed after it committed knows the notification is its own.

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
 * latest and has ended (a compare-and-set): two sweeps that both see run
 * `after` done start one run between them. True when this call recorded it.
 */
export async function recordNextRun(db: Database, uuid: string, after: number, mode: RecoveryMode): Promise<boolean> {
  const result = await db.run(sql`INSERT INTO ${recoveryRuns} (notification_uuid, run, mode, created_at)
    SELECT ${uuid}, ${after + 1}, ${mode}, ${nowSeconds()}
    WHERE (SELECT max(run) FROM ${recoveryRuns} WHERE notification_uuid = ${uuid}) = ${after}
      AND EXISTS (SELECT 1 FROM ${recoveryRuns} WHERE notification_uuid = ${uuid} AND run = ${after} AND ended_at IS NOT NULL)
    ON CONFLICT DO NOTHING`);
  return result.meta.changes > 0;
}

/**
 * Moves a run whose Workflow instance died to its next generation (a new
 * instance that replays the run's journal), only from `generation`: two
 * sweeps start one instance between them. True when this call moved it.
 */
export async function advanceGeneration(db: Database, uuid: string, run: number, generation: number): Promise<boolean> {
  const moved = await db
    .update(recoveryRuns)
    .set({ generation: generation + 1 })
    .where(
      and(
        eq(recoveryRuns.notification_uuid, uuid),
        eq(recoveryRuns.run, run),
        eq(recoveryRuns.generation, generation),
        sql`${recoveryRuns.ended_at} IS NULL`,
      ),
    )
    .returning({ run: recoveryRuns.run });
  return moved.length > 0;
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
 * The run records its claim in the same batch: run again after the batch
 * committed, it finds the claim its own. "host-busy": wait and claim
 * again; "not-claimable": nothing to do, as upstream skips a notification
 * no longer `new` (bug 1773132).
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
  const at = nowSeconds();
  const [, , state] = await db.batch([
    db
      .update(notifications)
      .set({ status: "running", updated_at: at })
      .where(
        and(
          eq(notifications.notification_uuid, uuid),
          eq(notifications.deleted, 0),
          inArray(notifications.status, claimable),
          isLatestRun(uuid, run),
          not(busy),
        ),
      ),
    db
      .update(recoveryRuns)
      .set({ claimed_at: at })
      .where(
        and(
          eq(recoveryRuns.notification_uuid, uuid),
          eq(recoveryRuns.run, run),
          sql`${recoveryRuns.claimed_at} IS NULL`,
          sql`changes() > 0`,
        ),
      ),
    db
      .select({
        status: notifications.status,
        latest: sql<number>`${isLatestRun(uuid, run)}`,
        claimed: sql<
          string | null
        >`(SELECT claimed_at FROM ${recoveryRuns} WHERE notification_uuid = ${uuid} AND run = ${run})`,
      })
      .from(notifications)
      .where(and(eq(notifications.notification_uuid, uuid), eq(notifications.deleted, 0))),
  ]);
  const found = state[0];
  if (!found?.latest) return "not-claimable";
  if (found.claimed !== null && found.status === "running") return "claimed";
  return claimable.includes(found.status) ? "host-busy" : "not-claimable";
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

/**
 * Ends a run whose notification cannot be moved on: the run gave up, or the
 * notification was not claimable. A `running` notification the run holds
 * becomes `outcome` (upstream sets a run that raised to error), in the
 * same batch.
 */
export async function endRun(
  db: Database,
  uuid: string,
  run: number,
  outcome: NotificationStatus | null = null,
): Promise<boolean> {
  const now = nowSeconds();
  const ended = db
    .update(recoveryRuns)
    .set({ ended_at: now, outcome })
    .where(
      and(eq(recoveryRuns.notification_uuid, uuid), eq(recoveryRuns.run, run), sql`${recoveryRuns.ended_at} IS NULL`),
    );
  if (outcome === null) {
    await ended;
    return false;
  }
  const [changed] = await db.batch([
    db
      .update(notifications)
      .set({ status: outcome, updated_at: now })
      .where(
        and(eq(notifications.notification_uuid, uuid), eq(notifications.status, "running"), isLatestRun(uuid, run)),
      )
      .returning({ id: notifications.id }),
    ended,
  ]);
  return changed.length > 0;
}

/**
 * Keeps the most steps and subrequests one of the run's instances used, and
 * adds the Nova calls that instance saw fail.
 */
export async function recordRunUsage(
  db: Database,
  uuid: string,
  run: number,
  usage: { steps: number; subrequests: number; novaErrors: number },
): Promise<void> {
  await db
    .update(recoveryRuns)
    .set({
      max_steps: sql`max(coalesce(${recoveryRuns.max_steps}, 0), ${usage.steps})`,
      max_subrequests: sql`max(coalesce(${recoveryRuns.max_subrequests}, 0), ${usage.subrequests})`,
      nova_errors: sql`${recoveryRuns.nova_errors} + ${usage.novaErrors}`,
    })
    .where(and(eq(recoveryRuns.notification_uuid, uuid), eq(recoveryRuns.run, run)));
}
