import type { Database } from "../../db/database";

// Servers a notification's recovery locked in Nova. A lock is recorded
// before the lock call, so whoever carries the recovery on (the same run
// replayed, a later generation, a later run) knows the lock is the
// notification's own, and released once unlocked: whatever ends the
// notification, what is left is unlocked (D17).

const RECORD = `INSERT INTO recovery_server_locks (notification_uuid, instance_uuid, run, created_at)
  VALUES (?, ?, ?, ?) ON CONFLICT (notification_uuid, instance_uuid) DO UPDATE SET released_at = NULL, run = excluded.run`;

/** The statement recording that the recovery is about to lock `instanceUuid`. */
export function recordLockStatement(
  db: Database,
  notificationUuid: string,
  instanceUuid: string,
  run: number,
  at: string,
): D1PreparedStatement {
  return db.$client.prepare(RECORD).bind(notificationUuid, instanceUuid, run, at);
}

/** Whether the notification's recovery locked `instanceUuid` and has not released it. */
export async function holdsLock(db: Database, notificationUuid: string, instanceUuid: string): Promise<boolean> {
  const row = await db.$client
    .prepare(
      "SELECT 1 AS one FROM recovery_server_locks WHERE notification_uuid = ? AND instance_uuid = ? AND released_at IS NULL",
    )
    .bind(notificationUuid, instanceUuid)
    .first();
  return row !== null;
}

/** The statement recording that `instanceUuid` was unlocked. */
export function releaseLockStatement(
  db: Database,
  notificationUuid: string,
  instanceUuid: string,
  at: string,
): D1PreparedStatement {
  return db.$client
    .prepare(
      "UPDATE recovery_server_locks SET released_at = ? WHERE notification_uuid = ? AND instance_uuid = ? AND released_at IS NULL",
    )
    .bind(at, notificationUuid, instanceUuid);
}

/** Records that `instanceUuid` was unlocked. */
export async function releaseLock(db: Database, notificationUuid: string, instanceUuid: string, at: string) {
  await db.$client
    .prepare(
      "UPDATE recovery_server_locks SET released_at = ? WHERE notification_uuid = ? AND instance_uuid = ? AND released_at IS NULL",
    )
    .bind(at, notificationUuid, instanceUuid)
    .run();
}

/** The servers the notification's recovery still holds locked. */
export async function heldLocks(db: Database, notificationUuid: string): Promise<string[]> {
  const { results } = await db.$client
    .prepare(
      "SELECT instance_uuid FROM recovery_server_locks WHERE notification_uuid = ? AND released_at IS NULL ORDER BY created_at, instance_uuid",
    )
    .bind(notificationUuid)
    .all<{ instance_uuid: string }>();
  return results.map((r) => r.instance_uuid);
}

/**
 * Locks held by notifications whose recovery is over: the notification is
 * finished, failed or ignored, or its latest run has ended. At most `limit`.
 */
export async function orphanedLocks(
  db: Database,
  limit: number,
): Promise<{ notificationUuid: string; instanceUuid: string }[]> {
  const { results } = await db.$client
    .prepare(
      `SELECT l.notification_uuid, l.instance_uuid FROM recovery_server_locks l
       JOIN notifications n ON n.notification_uuid = l.notification_uuid
       WHERE l.released_at IS NULL AND (
         n.status IN ('finished', 'failed', 'ignored') OR n.deleted != 0 OR NOT EXISTS (
           SELECT 1 FROM recovery_runs r WHERE r.notification_uuid = l.notification_uuid AND r.ended_at IS NULL))
       ORDER BY l.created_at LIMIT ?`,
    )
    .bind(limit)
    .all<{ notification_uuid: string; instance_uuid: string }>();
  return results.map((r) => ({ notificationUuid: r.notification_uuid, instanceUuid: r.instance_uuid }));
}
