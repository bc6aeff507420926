import { and, eq, exists, inArray, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { Database } from "../../db/database";
import { hosts, IN_USE_STATUSES, notifications } from "../../db/schema";

const sourceHost = alias(hosts, "source_host");

/**
 * "In use" (docs/upstream.md, "Segments in use"): some live notification in
 * new, running or error comes from a live host of the segment. The link is the
 * host's segment, not the notification's failover_segment_uuid. While a segment
 * is in use, neither it nor any of its hosts may be updated or deleted.
 */
export function segmentInUse(db: Database, segmentUuid: string): SQL {
  return exists(
    db
      .select({ one: sql`1` })
      .from(notifications)
      .innerJoin(sourceHost, eq(sourceHost.uuid, notifications.source_host_uuid))
      .where(
        and(
          eq(sourceHost.failover_segment_id, segmentUuid),
          eq(sourceHost.deleted, 0),
          eq(notifications.deleted, 0),
          inArray(notifications.status, [...IN_USE_STATUSES]),
        ),
      ),
  );
}
