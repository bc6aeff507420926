import type { D1Client } from "../db/database";

// What GET /metrics reports, counted in D1 when it is asked (docs/metrics.md):
// no counter of our own to keep in step with the tables. Every statement
// walks an index of just the rows it counts (live ones; evacuations; runs
// that saw a Nova error; held storm records) in that index's order: no
// table scan, no sort, and the only table rows read are a segment's name
// per segment with hosts and a held notification's status
// (test/metrics.test.ts holds them to it). So a scrape reads about one
// index entry per live notification, segment and host, and per evacuation.

/** Live notifications by type and status: notifications_live_type_status. */
const NOTIFICATIONS = `SELECT type, status, count(*) AS n FROM notifications WHERE deleted = 0 GROUP BY type, status`;

/** Evacuations by status: vmoves_live_evacuation_status holds them alone. */
const EVACUATIONS = `SELECT status, count(*) AS n FROM vmoves WHERE deleted = 0 AND type = 'evacuation' GROUP BY status`;

/** Live segments by recovery method: failover_segments_live_recovery_method. */
const SEGMENTS = `SELECT recovery_method, count(*) AS n FROM failover_segments WHERE deleted = 0 GROUP BY recovery_method`;

/**
 * A segment's live hosts by maintenance and reserved
 * (hosts_live_segment_state), with the segment's name looked up once per
 * group rather than joined per host.
 */
const HOSTS = `SELECT h.failover_segment_id AS segment,
    (SELECT name FROM failover_segments WHERE uuid = h.failover_segment_id) AS segment_name,
    h.on_maintenance, h.reserved, count(*) AS n
  FROM hosts h WHERE h.deleted = 0
  GROUP BY h.failover_segment_id, h.on_maintenance, h.reserved`;

const oldest = (status: string) =>
  `(SELECT min(created_at) FROM notifications WHERE deleted = 0 AND status = '${status}') AS oldest_${status}`;

/**
 * One row of single values. Held: the storm guard's holds (recovery_storm_state)
 * whose notification is still new. Nova errors: the partial indexes hold only
 * runs and phases that saw one. The oldest unfinished notification of each
 * status: one seek into notifications_live_status each.
 */
const SINGLES = `SELECT
  (SELECT count(*) FROM recovery_storm s JOIN notifications n ON n.notification_uuid = s.notification_uuid
     WHERE s.state = 'held' AND n.status = 'new' AND n.deleted = 0) AS held,
  (SELECT coalesce(sum(nova_errors), 0) FROM recovery_runs WHERE nova_errors > 0)
    + (SELECT coalesce(sum(nova_errors), 0) FROM recovery_phases WHERE nova_errors > 0) AS nova_errors,
  (SELECT count(*) FROM failover_segments WHERE deleted = 0 AND enabled = 0) AS segments_disabled,
  ${["new", "running", "error"].map(oldest).join(",\n  ")}`;

export interface Counts {
  readonly notifications: readonly { type: string; status: string; n: number }[];
  readonly evacuations: readonly { status: string | null; n: number }[];
  readonly segments: readonly { recovery_method: string; n: number }[];
  readonly hosts: readonly {
    segment: string;
    segment_name: string | null;
    on_maintenance: number | null;
    reserved: number | null;
    n: number;
  }[];
  readonly held: number;
  readonly novaErrors: number;
  readonly segmentsDisabled: number;
  /** created_at of the oldest live notification in each unfinished status; null when none. */
  readonly oldest: { readonly new: string | null; readonly running: string | null; readonly error: string | null };
}

interface Singles {
  held: number;
  nova_errors: number;
  segments_disabled: number;
  oldest_new: string | null;
  oldest_running: string | null;
  oldest_error: string | null;
}

/** Everything /metrics reports, in one batch: one round trip, and one snapshot of the database. */
export async function readCounts(client: D1Client): Promise<Counts> {
  const [notifications, evacuations, segments, hosts, singles] = await client.batch([
    client.prepare(NOTIFICATIONS),
    client.prepare(EVACUATIONS),
    client.prepare(SEGMENTS),
    client.prepare(HOSTS),
    client.prepare(SINGLES),
  ]);
  const one = (singles?.results[0] ?? {}) as Partial<Singles>;
  return {
    notifications: (notifications?.results ?? []) as Counts["notifications"],
    evacuations: (evacuations?.results ?? []) as Counts["evacuations"],
    segments: (segments?.results ?? []) as Counts["segments"],
    hosts: (hosts?.results ?? []) as Counts["hosts"],
    held: one.held ?? 0,
    novaErrors: one.nova_errors ?? 0,
    segmentsDisabled: one.segments_disabled ?? 0,
    oldest: { new: one.oldest_new ?? null, running: one.oldest_running ?? null, error: one.oldest_error ?? null },
  };
}
