import { addSeconds, formatDb, now } from "../../datetime";
import type { Database } from "../../db/database";

// D22, the storm guard's admissions: a host failure is admitted, or held
// when it would put more than the allowed share of its segment's hosts
// down within the window. A host counts as down when a failure of it was
// admitted or held within the window and its notification is neither
// finished nor ignored: a recovery under way, failed, or held. One
// statement decides and records it, so failures arriving at once are
// admitted one after the other and cannot all slip under the share; the
// failure being reported counts, but a segment's first failure is never
// held.

export type StormState = "admitted" | "held" | "released";

export interface Admission {
  readonly state: StormState;
  /** Other hosts of the segment down then, and its hosts in all. */
  readonly down: number;
  readonly hosts: number;
}

const ADMIT = `INSERT INTO recovery_storm (notification_uuid, segment_uuid, host_uuid, state, at, down, hosts)
  SELECT ?1, ?2, ?3,
    CASE WHEN d.down > 0 AND (d.down + 1) * 100 > ?5 * h.n THEN 'held' ELSE 'admitted' END, ?4, d.down, h.n
  FROM (SELECT count(DISTINCT s.host_uuid) AS down FROM recovery_storm s
          JOIN notifications n ON n.notification_uuid = s.notification_uuid
          WHERE s.segment_uuid = ?2 AND s.at >= ?6 AND s.host_uuid != ?3
            AND n.status NOT IN ('finished', 'ignored') AND n.deleted = 0) d,
       (SELECT count(*) AS n FROM hosts WHERE failover_segment_id = ?2 AND deleted = 0) h
  WHERE true
  ON CONFLICT (notification_uuid) DO NOTHING`;

/**
 * Admits or holds the host failure of notification `uuid`, once: asked
 * again (a later run, a step run again), the first answer stands.
 */
export async function admit(
  db: Database,
  failure: { notificationUuid: string; segmentUuid: string; hostUuid: string },
  guard: { maxHostsDownPercent: number; windowSeconds: number },
  at: string,
): Promise<Admission> {
  const since = formatDb(addSeconds(now(), -guard.windowSeconds));
  const client = db.$client;
  const [, found] = await client.batch<Admission>([
    client
      .prepare(ADMIT)
      .bind(failure.notificationUuid, failure.segmentUuid, failure.hostUuid, at, guard.maxHostsDownPercent, since),
    client
      .prepare("SELECT state, down, hosts FROM recovery_storm WHERE notification_uuid = ?")
      .bind(failure.notificationUuid),
  ]);
  return found?.results[0] ?? { state: "admitted", down: 0, hosts: 0 };
}

/** The storm guard's record of a notification, if it has one. */
export async function admissionOf(db: Database, uuid: string): Promise<Admission | null> {
  return db.$client
    .prepare("SELECT state, down, hosts FROM recovery_storm WHERE notification_uuid = ?")
    .bind(uuid)
    .first<Admission>();
}
