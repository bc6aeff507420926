import { and, asc, desc, eq, sql } from "drizzle-orm";
import { nowSeconds } from "../../datetime";
import type { Database } from "../../db/database";
import { hosts, recoveryReservedClaims } from "../../db/schema";
import type { Failure } from "../errors";

// What the engine changes of Masakari's hosts: the failed host goes on
// maintenance, and reserved hosts are taken for evacuations (D16).

/**
 * Upstream's host side effects (docs/engine.md, "Statuses and host side
 * effects"): the failed host goes on maintenance, and a host failure also
 * ends its reservation.
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

/** Which attempt of which flow of which run takes a reserved host. */
export interface ClaimKey {
  readonly notificationUuid: string;
  readonly run: number;
  readonly flow: number;
  readonly attempt: string;
}

const claimOf = (key: ClaimKey) =>
  and(
    eq(recoveryReservedClaims.notification_uuid, key.notificationUuid),
    eq(recoveryReservedClaims.run, key.run),
    eq(recoveryReservedClaims.flow, key.flow),
    eq(recoveryReservedClaims.attempt, key.attempt),
  );

/**
 * Takes reserved host `name` of the segment for attempt `key`: a claim row
 * (at most one open claim per host, by a unique index) and reserved → not
 * reserved, in one batch, so two recoveries never take the same host
 * (D16). Taken when the host is this attempt's, which a claim run again
 * after it committed also finds; `returned`, with why, when this attempt
 * took it and gave it back. Not taken when another recovery took it.
 */
export async function claimReservedHost(
  db: Database,
  key: ClaimKey,
  segmentUuid: string,
  name: string,
): Promise<{ taken: boolean; returned?: Failure }> {
  const client = db.$client;
  const at = nowSeconds();
  const attempt = [key.notificationUuid, key.run, key.flow, key.attempt] as const;
  const reserved = "name = ?6 AND failover_segment_id = ?5 AND reserved = 1 AND deleted = 0";
  const ours = "notification_uuid = ?1 AND run = ?2 AND flow = ?3 AND attempt = ?4";
  const [, , mine] = await client.batch<{ host_name: string; outcome: string | null; reason: string | null }>([
    client
      .prepare(
        `INSERT INTO recovery_reserved_claims (notification_uuid, run, flow, attempt, segment_uuid, host_name, created_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM hosts WHERE ${reserved})
         ON CONFLICT DO NOTHING`,
      )
      .bind(...attempt, segmentUuid, name, at),
    client
      .prepare(
        `UPDATE hosts SET reserved = 0, updated_at = ?7 WHERE ${reserved}
         AND EXISTS (SELECT 1 FROM recovery_reserved_claims WHERE ${ours} AND host_name = ?6 AND released_at IS NULL)`,
      )
      .bind(...attempt, segmentUuid, name, at),
    client.prepare(`SELECT host_name, outcome, reason FROM recovery_reserved_claims WHERE ${ours}`).bind(...attempt),
  ]);
  const claim = mine?.results[0];
  if (claim?.host_name !== name) return { taken: false };
  // Given back already (Nova could not enable it): this attempt failed, and why.
  if (claim.outcome === "returned") return { taken: true, returned: JSON.parse(claim.reason ?? "null") as Failure };
  return { taken: true };
}

/** Closes the attempt's claim once Nova enabled the host: it stays not reserved, as upstream leaves it. */
export async function closeReservedClaim(db: Database, key: ClaimKey): Promise<void> {
  await db
    .update(recoveryReservedClaims)
    .set({ released_at: nowSeconds(), outcome: "used" })
    .where(and(claimOf(key), sql`${recoveryReservedClaims.released_at} IS NULL`));
}

/**
 * Gives the attempt's reserved host back when Nova could not enable it:
 * reserved again, as upstream never unreserves a host it did not enable.
 */
export async function returnReservedHost(
  db: Database,
  key: ClaimKey,
  segmentUuid: string,
  name: string,
  reason: Failure,
): Promise<void> {
  const at = nowSeconds();
  const open = sql`EXISTS (SELECT 1 FROM ${recoveryReservedClaims} WHERE ${claimOf(key)} AND host_name = ${name} AND released_at IS NULL)`;
  await db.batch([
    db
      .update(hosts)
      .set({ reserved: true, updated_at: at })
      .where(
        and(
          eq(hosts.name, name),
          eq(hosts.failover_segment_id, segmentUuid),
          eq(hosts.reserved, false),
          eq(hosts.deleted, 0),
          open,
        ),
      ),
    db
      .update(recoveryReservedClaims)
      .set({ released_at: at, outcome: "returned", reason: JSON.stringify(reason) })
      .where(and(claimOf(key), sql`${recoveryReservedClaims.released_at} IS NULL`)),
  ]);
}

/** A segment's host as a recovery plan reads it (D23). */
export interface SegmentHost {
  readonly id: number;
  readonly uuid: string;
  readonly name: string;
  readonly reserved: boolean;
  readonly on_maintenance: boolean;
  readonly created_at: string;
}

/** D23: every live host of the segment, as a recovery plan reads them, by name. */
export async function segmentHosts(db: Database, segmentUuid: string): Promise<SegmentHost[]> {
  const rows = await db
    .select({
      id: hosts.id,
      uuid: hosts.uuid,
      name: hosts.name,
      reserved: hosts.reserved,
      on_maintenance: hosts.on_maintenance,
      created_at: hosts.created_at,
    })
    .from(hosts)
    .where(and(eq(hosts.failover_segment_id, segmentUuid), eq(hosts.deleted, 0)))
    .orderBy(asc(hosts.name));
  return rows.map((r) => ({
    ...r,
    created_at: r.created_at ?? "",
    reserved: r.reserved ?? false,
    on_maintenance: r.on_maintenance ?? false,
  }));
}
